// Rootless tsd (issue 13): a non-root user runs tsd inside a user namespace of its own (container
// 0 → the user, 1..N → its /etc/subuid range), entered by src/system/rootless-enter.ts. This
// module says which mode a process is in and where a rootless user's state lives; pure helpers
// are unit-tested without root (test/unit/rootless.test.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface IdMapLine {
  inside: number;
  outside: number;
  size: number;
}

/** /proc/PID/uid_map's lines. */
export function parseIdMapText(text: string): IdMapLine[] {
  const out: IdMapLine[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [inside, outside, size] = f.map(Number) as [number, number, number];
    if ([inside, outside, size].every(Number.isSafeInteger)) out.push({ inside, outside, size });
  }
  return out;
}

/** The initial user namespace maps every id to itself. */
export function isInitialUserns(map: IdMapLine[]): boolean {
  return map.length === 1 && map[0]!.inside === 0 && map[0]!.outside === 0 && map[0]!.size === 4294967295;
}

/** The host id that the namespace's 0 stands for (the rootless user), if mapped. */
export function outsideRoot(map: IdMapLine[]): number | undefined {
  return map.find((m) => m.inside === 0)?.outside;
}

export interface RootlessPaths {
  /** The store: `$XDG_DATA_HOME/tsd`, default ~/.local/share/tsd. */
  data: string;
  /** Runtime state (the pause process's pid file, locks): `$XDG_RUNTIME_DIR/tsd`, else /tmp/tsd-UID. */
  run: string;
}

export function rootlessPaths(env: Record<string, string | undefined>, uid: number): RootlessPaths {
  const abs = (p: string | undefined) => (p && p.startsWith("/") ? p : undefined);
  const home = abs(env.HOME);
  const dataHome = abs(env.XDG_DATA_HOME) ?? (home ? join(home, ".local", "share") : undefined);
  const runtime = abs(env.XDG_RUNTIME_DIR);
  return {
    data: dataHome ? join(dataHome, "tsd") : `/tmp/tsd-${uid}/data`,
    run: runtime ? join(runtime, "tsd") : `/tmp/tsd-${uid}`,
  };
}

/** The subordinate range of a user in /etc/subuid or /etc/subgid text (`name:start:count`
 *  or `uid:start:count`); the first line that names the user. */
export function subordinateRange(text: string, name: string, id: number): { start: number; size: number } | undefined {
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (who !== name && who !== String(id)) continue;
    if (/^\d+$/.test(start ?? "") && /^\d+$/.test(count ?? "") && Number(count) > 0) return { start: Number(start), size: Number(count) };
  }
  return undefined;
}

export interface RootlessMode {
  /** The host uid and gid of the user running tsd. */
  uid: number;
  gid: number;
  paths: RootlessPaths;
  /** The namespace maps one id (0 → the user), no subordinate range: Podman's single-id
   *  fallback (system/rootless-enter.ts). Unmappable owners stay the user's; no gid=5 devpts. */
  singleId: boolean;
}

let mode: RootlessMode | null | undefined;

/** Rootless when this process is root in a user namespace (entered by rootless-enter.ts), not
 *  the host's; undefined when rootful. */
export function rootlessMode(): RootlessMode | undefined {
  if (mode !== undefined) return mode ?? undefined;
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  // Every command asks: rootful tsd reads uid_map only.
  const uidMap = parseIdMapText(read("/proc/self/uid_map"));
  const uid = outsideRoot(uidMap);
  const gidMap = uidMap.length === 0 || isInitialUserns(uidMap) || uid === undefined ? [] : parseIdMapText(read("/proc/self/gid_map"));
  const gid = outsideRoot(gidMap);
  if (uid === undefined || gid === undefined) {
    mode = null;
    return undefined;
  }
  const single = (m: IdMapLine[]) => m.length === 1 && m[0]!.size === 1;
  mode = { uid, gid, paths: rootlessPaths(process.env, uid), singleId: single(uidMap) || single(gidMap) };
  return mode;
}

/** Rootless overlay mounts take `userxattr`: overlayfs's own xattrs in user.overlay.* (a user
 *  namespace may not set trusted.*; the unpacker writes user.overlay.opaque there). */
export function overlayOptions(): string {
  return rootlessMode() ? ",userxattr" : "";
}

/** devpts's gid=5 (tty), except where the namespace cannot map gid 5 (a single-id mapping). */
export function devptsGid(): string[] {
  return rootlessMode()?.singleId ? [] : ["gid=5"];
}

/** A process's additional groups: none under a single-id mapping (setgroups is denied there;
 *  the init then keeps the groups it has). */
export function additionalGroups(gids: number[]): number[] {
  return rootlessMode()?.singleId ? [] : gids;
}

