// Rootless tsd (issue 13): a non-root user runs tsd inside a user namespace of its own (container
// 0 → the user, 1..N → its /etc/subuid range), entered by src/system/rootless-enter.ts. This
// module says which mode a process is in and where a rootless user's state lives; pure helpers
// are unit-tested without root (test/unit/rootless.test.ts).
import { openSync } from "node:fs";
import { join } from "node:path";
import { readOr } from "../io";

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
  /** The fast path (system/rootless-enter.ts stayOnHost): this process is the user's own on
   *  the host, outside the namespaces; the monitor and the exec helper join the pause
   *  process's (namespaceArgs), and what needs root there starts over inside (NeedsNamespace). */
  pause?: { pid: number; alive: () => boolean };
}

let mode: RootlessMode | null | undefined;

/** Rootless when this process is root in a user namespace (entered by rootless-enter.ts), not
 *  the host's; undefined when rootful. */
export function rootlessMode(): RootlessMode | undefined {
  if (mode !== undefined) return mode ?? undefined;
  // Every command asks: rootful tsd reads uid_map only.
  const uidMap = parseIdMapText(readOr("/proc/self/uid_map"));
  const uid = outsideRoot(uidMap);
  const gidMap = uidMap.length === 0 || isInitialUserns(uidMap) || uid === undefined ? [] : parseIdMapText(readOr("/proc/self/gid_map"));
  const gid = outsideRoot(gidMap);
  if (uid === undefined || gid === undefined) {
    mode = null;
    return undefined;
  }
  mode = { uid, gid, paths: rootlessPaths(process.env, uid), singleId: singleIdMaps(uidMap, gidMap) };
  return mode;
}

/** Podman's single-id fallback: either map is one id alone. */
function singleIdMaps(uidMap: IdMapLine[], gidMap: IdMapLine[]): boolean {
  const single = (m: IdMapLine[]) => m.length === 1 && m[0]!.size === 1;
  return single(uidMap) || single(gidMap);
}

/** nsenter's words to join the pause process `pid`'s user and mount namespaces. A single-id
 *  namespace denies setgroups, which nsenter calls unless told to keep the credentials. */
export function joinPauseArgs(pid: number): string[] {
  const keep = readOr(`/proc/${pid}/setgroups`).trim() === "deny" ? ["--preserve-credentials"] : [];
  return ["--user", "--mount", ...keep, `--target=${pid}`];
}

/** The fast path: the mode of a user's process on the host, from its pause process's maps. */
export function useHostMode(pause: { pid: number; alive: () => boolean }, uid: number, gid: number, env: Record<string, string | undefined>): RootlessMode {
  const singleId = singleIdMaps(parseIdMapText(readOr(`/proc/${pause.pid}/uid_map`)), parseIdMapText(readOr(`/proc/${pause.pid}/gid_map`)));
  mode = { uid, gid, paths: rootlessPaths(env, uid), singleId, pause };
  return mode;
}

/** Thrown on the fast path before anything has changed, by a command that finds it needs root in
 *  the user's namespaces after all (a pull, a volume, a container to reconcile): main.ts then
 *  runs the command again inside them, as every rootless command once was. */
export class NeedsNamespace extends Error {}

/** On the fast path: the command starts over inside the namespaces (`why` for --debug). */
export function needNamespace(why: string): void {
  if (rootlessMode()?.pause) throw new NeedsNamespace(why);
}

let nsFds: { user: number; mnt: number } | undefined;

/** The monitor's (`user+mount`) or exec helper's (`user`) flags to join the pause process's
 *  namespaces on the fast path (zig/monitor/userns.zig); none otherwise. They name this process's
 *  own descriptors of them, opened once and checked to be the pause process's (still alive with
 *  its start time after the open), open until it exits. */
export function namespaceArgs(which: "user" | "user+mount"): string[] {
  const pause = rootlessMode()?.pause;
  if (!pause) return [];
  if (!nsFds) {
    const fds = { user: openSync(`/proc/${pause.pid}/ns/user`, "r"), mnt: openSync(`/proc/${pause.pid}/ns/mnt`, "r") };
    if (!pause.alive()) throw new NeedsNamespace("the pause process exited");
    nsFds = fds;
  }
  return namespaceFlags(process.pid, nsFds, which);
}

/** The flags naming the descriptors `fds` of process `pid` (test/contract checks the monitor reads them). */
export function namespaceFlags(pid: number, fds: { user: number; mnt: number }, which: "user" | "user+mount"): string[] {
  const path = (fd: number) => `/proc/${pid}/fd/${fd}`;
  return ["--userns", path(fds.user), ...(which === "user+mount" ? ["--mountns", path(fds.mnt)] : [])];
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

