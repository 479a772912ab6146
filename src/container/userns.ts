// Rootful user namespaces (issue 13): `--userns=auto[:size=N]`, `--uidmap`/`--gidmap` (Podman's
// spellings) and `--userns=host` (the default). A container's root becomes an unprivileged host
// id; its rootfs layers and volumes are idmapped by the monitor (zig/runtime/idmap.zig), so files
// keep container ids on disk. `auto` ranges come from a pool (/etc/subuid and /etc/subgid's
// entry for the user `tsd`, else `containers`, else a built-in range) and are recorded in the
// database (table userns_ranges) until the container is removed.
import type { Database } from "bun:sqlite";
import { readOr } from "../io";
import { release } from "node:os";
import { TsdError, UsageError } from "../errors";
import type { OciSpec } from "./spec";
import { procStartTime, sameProcess } from "./proc";
import { faultPoint } from "../fault";

export interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

/** What the flags ask for; `auto` is turned into maps at create (allocateUserns). */
export interface UsernsOptions {
  /** "auto" (with `usernsSize`), or explicit maps; unset: the host's user namespace. */
  userns?: "auto" | "private";
  usernsSize?: number;
  uidMaps?: IdMap[];
  gidMaps?: IdMap[];
}

export interface UsernsFlags {
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
}

export const DEFAULT_USERNS_SIZE = 65536;
const MAX_ID = 2 ** 32 - 1;

export function usernsOptionsFromFlags(f: UsernsFlags): UsernsOptions {
  const uidMaps = (f.uidmap ?? []).map((m) => parseIdMap(m, "uidmap"));
  const gidMaps = (f.gidmap ?? []).map((m) => parseIdMap(m, "gidmap"));
  const mode = f.userns ?? "";
  if (uidMaps.length || gidMaps.length) {
    if (mode !== "") throw new UsageError(`--userns=${mode} conflicts with --uidmap/--gidmap: use one of them`);
    // Podman: one of the two given stands for both.
    return { userns: "private", uidMaps: uidMaps.length ? uidMaps : gidMaps, gidMaps: gidMaps.length ? gidMaps : uidMaps };
  }
  if (mode === "" || mode === "host") return {};
  const auto = /^auto(?::size=(\d+))?$/.exec(mode);
  if (!auto) throw new UsageError(`invalid --userns "${mode}": use host, auto or auto:size=N`);
  const size = auto[1] === undefined ? DEFAULT_USERNS_SIZE : Number(auto[1]);
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_ID) throw new UsageError(`invalid --userns "${mode}": the size must be 1..${MAX_ID}`);
  return { userns: "auto", usernsSize: size };
}

/** What cannot work in a user namespace of the container's own, refused at the flags (Docker's
 *  words for --privileged): the host's pid or ipc namespace (their proc and mqueue cannot be
 *  mounted from it), and --privileged's host devices and full capabilities. */
export function checkUsernsConflicts(o: UsernsOptions & { privileged?: boolean; pidMode?: string; ipcMode?: string }): void {
  if (!o.userns) return;
  if (o.privileged) throw new UsageError("privileged mode is incompatible with user namespaces: drop --privileged or --userns/--uidmap");
  if (o.pidMode === "host") throw new UsageError("cannot share the host's PID namespace when user namespaces are enabled: drop --pid host or --userns/--uidmap");
  if (o.ipcMode === "host") throw new UsageError("cannot share the host's IPC namespace when user namespaces are enabled: drop --ipc host or --userns/--uidmap");
}

/** `CONTAINER:HOST:SIZE`. */
export function parseIdMap(text: string, flag: string): IdMap {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text);
  const [c, h, s] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [NaN, NaN, NaN];
  if (!m || s < 1 || c + s - 1 > MAX_ID || h + s - 1 > MAX_ID) {
    throw new UsageError(`invalid --${flag} "${text}": use CONTAINER_ID:HOST_ID:SIZE (ids and size in 0..${MAX_ID}, size at least 1)`);
  }
  return { containerID: c, hostID: h, size: s };
}

/** Detached idmapped mounts as overlay layers (the monitor's rootfs: zig/runtime/idmap.zig)
 *  need Linux 6.15; `lowerdir+` 6.8, idmapped layers 5.19. */
export function idmappedLayers(kernel: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  return m !== null && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 15));
}

export interface Range {
  start: number;
  size: number;
}

export interface UsernsPool {
  uid: Range;
  gid: Range;
  /** Where it comes from, for `tsd info`. */
  source: string;
}

/** The built-in pool: above systemd's container range (524288..1879048191), below 2^31. */
export const BUILTIN_POOL: Range = { start: 0x70000000, size: 4095 * DEFAULT_USERNS_SIZE };

/** The first `/etc/subuid`-style line of `user` (name:start:count). */
export function subidRange(text: string, user: string): Range | undefined {
  for (const line of text.split("\n")) {
    const [name, start, count] = line.trim().split(":");
    if (name === user && /^\d+$/.test(start ?? "") && /^\d+$/.test(count ?? "") && Number(count) > 0) return { start: Number(start), size: Number(count) };
  }
  return undefined;
}

export function usernsPool(read: (path: string) => string = readOr): UsernsPool {
  const subuid = read("/etc/subuid");
  const subgid = read("/etc/subgid");
  for (const user of ["tsd", "containers"]) {
    const uid = subidRange(subuid, user);
    const gid = subidRange(subgid, user);
    if (uid && gid) return { uid, gid, source: `/etc/subuid and /etc/subgid (user ${user})` };
  }
  return { uid: BUILTIN_POOL, gid: BUILTIN_POOL, source: "built-in" };
}

export interface Allocation {
  uidStart: number;
  gidStart: number;
  size: number;
}

const overlaps = (a: number, as: number, b: number, bs: number) => a < b + bs && b < a + as;

/** The lowest offset into the pool whose uid and gid ranges meet no recorded one. */
export function pickRange(pool: UsernsPool, taken: Allocation[], size: number): Allocation | undefined {
  const room = Math.min(pool.uid.size, pool.gid.size);
  const offsets = [0, ...taken.flatMap((t) => [t.uidStart + t.size - pool.uid.start, t.gidStart + t.size - pool.gid.start])]
    .filter((o) => o >= 0)
    .sort((a, b) => a - b);
  for (const o of offsets) {
    if (o + size > room) break;
    const uidStart = pool.uid.start + o;
    const gidStart = pool.gid.start + o;
    const free = taken.every((t) => !overlaps(uidStart, size, t.uidStart, t.size) && !overlaps(gidStart, size, t.gidStart, t.size));
    if (free) return { uidStart, gidStart, size };
  }
  return undefined;
}

/** `auto`: a range recorded for `id` (serialised by an immediate transaction); the maps. */
export function allocateUserns(db: Database, id: string, o: UsernsOptions, pool?: UsernsPool, kernel?: string): { uid: IdMap[]; gid: IdMap[] } | undefined {
  // The common run has no --userns: no /etc/subuid, /etc/subgid or osrelease read for it.
  if (!o.userns) return undefined;
  kernel ??= release();
  if (!idmappedLayers(kernel)) throw new TsdError(`user namespaces need Linux 6.15 or later (idmapped overlay layers); this kernel is ${kernel}: drop --userns/--uidmap`);
  if (o.userns === "private") return { uid: o.uidMaps!, gid: o.gidMaps! };
  if (o.userns !== "auto") return undefined;
  const size = o.usernsSize ?? DEFAULT_USERNS_SIZE;
  const ranges = pool ?? usernsPool();
  const pick = db.transaction(() => {
    freeAbandoned(db);
    const taken = db.query("SELECT uid_start AS uidStart, gid_start AS gidStart, size FROM userns_ranges").all() as Allocation[];
    const a = pickRange(ranges, taken, size);
    if (!a) throw new TsdError(`--userns=auto: no free range of ${size} ids left in the pool (${ranges.source}: ${ranges.uid.start}+${ranges.uid.size}); remove containers or widen the pool`);
    db.query("INSERT INTO userns_ranges (container_id, uid_start, gid_start, size, owner_pid, owner_start) VALUES (?, ?, ?, ?, ?, ?)")
      .run(id, a.uidStart, a.gidStart, a.size, process.pid, procStartTime(process.pid) ?? null);
    return a;
  });
  const a = pick.immediate();
  faultPoint("create:userns");
  return { uid: [{ containerID: 0, hostID: a.uidStart, size }], gid: [{ containerID: 0, hostID: a.gidStart, size }] };
}

/** Ranges of no container whose creating CLI is gone (killed between the allocation and the
 *  row): free again. A create under way (its CLI alive) keeps its range. */
function freeAbandoned(db: Database): void {
  const rows = db.query("SELECT container_id AS id, owner_pid AS pid, owner_start AS start FROM userns_ranges WHERE container_id NOT IN (SELECT id FROM containers)").all() as { id: string; pid: number; start: string | null }[];
  for (const r of rows) if (!sameProcess(r.pid, r.start)) db.query("DELETE FROM userns_ranges WHERE container_id = ?").run(r.id);
}

/** `tsd system repair`: an `auto` container's range again, from its config.json's maps. */
export function recoverUsernsRange(db: Database, id: string, options: UsernsOptions, spec: { linux?: { uidMappings?: IdMap[]; gidMappings?: IdMap[] } }): void {
  const uid = spec.linux?.uidMappings?.[0];
  const gid = spec.linux?.gidMappings?.[0];
  if (options.userns !== "auto" || !uid || !gid) return;
  db.query("INSERT OR REPLACE INTO userns_ranges (container_id, uid_start, gid_start, size) VALUES (?, ?, ?, ?)").run(id, uid.hostID, gid.hostID, uid.size);
}

export function releaseUserns(db: Database, id: string): void {
  db.query("DELETE FROM userns_ranges WHERE container_id = ?").run(id);
}

export function recordedRanges(db: Database): (Allocation & { id: string })[] {
  return db.query("SELECT container_id AS id, uid_start AS uidStart, gid_start AS gidStart, size FROM userns_ranges ORDER BY uid_start").all() as (Allocation & { id: string })[];
}

/** The user namespace with its maps; volumes (their content keeps container ids, shared by
 *  every container) and the bundle's /etc files idmapped, and host binds with `:idmap`. */
export function applyUserns(spec: OciSpec, maps: { uid: IdMap[]; gid: IdMap[] } | undefined, idmapped: Set<string>): OciSpec {
  if (!maps) return spec;
  const mounts = spec.mounts.map((m) => (m.type === "bind" && idmapped.has(m.destination) ? { ...m, options: [...(m.options ?? []), "idmap"] } : m));
  return {
    ...spec,
    mounts,
    linux: { ...spec.linux, namespaces: [{ type: "user" }, ...spec.linux.namespaces], uidMappings: maps.uid, gidMappings: maps.gid },
  };
}

/** inspect's HostConfig.UsernsMode (Podman's words). */
export function usernsMode(o: UsernsOptions): string {
  if (o.userns === "auto") return o.usernsSize && o.usernsSize !== DEFAULT_USERNS_SIZE ? `auto:size=${o.usernsSize}` : "auto";
  return o.userns === "private" ? "private" : "";
}
