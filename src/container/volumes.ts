// Named volumes: <root>/volumes/<name>/_data, a row in the `volumes` table, bind-mounted into
// containers. On first use an empty volume is filled with what the image has at the mount
// point (Docker's copy-up), through tsd-monitor's contained copy (see copyUp).
import { recordEvent } from "../store/events";
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { TsdError } from "../errors";
import { runMonitorSync } from "../native/helper";
import { rootPaths } from "../store/paths";
import { randomId } from "./names";
import { listContainers } from "./store";
import type { BindMount, RunOptions } from "./options";
import { decodeOptions, VOLUME_NAME } from "./options";
import { overlayOptions } from "../store/rootless";

export interface VolumeRow {
  name: string;
  created_at: number;
  anonymous: number;
  labels: string;
}

export function volumeDir(root: string, name: string): string {
  return join(root, "volumes", name);
}

export function volumeData(root: string, name: string): string {
  return join(volumeDir(root, name), "_data");
}

export function findVolume(db: Database, name: string): VolumeRow | undefined {
  return (db.query("SELECT * FROM volumes WHERE name = ?").get(name) as VolumeRow | null) ?? undefined;
}

export function listVolumes(db: Database): VolumeRow[] {
  return db.query("SELECT * FROM volumes ORDER BY name").all() as VolumeRow[];
}

/** Creates the volume (idempotent for an existing name, as `docker volume create`). */
export function createVolume(db: Database, root: string, name: string | undefined, o: { anonymous?: boolean; labels?: Record<string, string> } = {}): VolumeRow {
  const n = name ?? randomId();
  if (!VOLUME_NAME.test(n)) throw new TsdError(`invalid volume name "${n}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters`);
  mkdirSync(volumeData(root, n), { recursive: true, mode: 0o755 });
  const r = db.query("INSERT OR IGNORE INTO volumes (name, created_at, anonymous, labels) VALUES (?, ?, ?, ?)").run(n, Date.now(), o.anonymous ? 1 : 0, JSON.stringify(o.labels ?? {}));
  if (r.changes > 0) recordEvent(db, "volume", "create", n, { ...(o.labels ?? {}), driver: "local" });
  return findVolume(db, n)!;
}

/** Containers (any state) whose options mount the volume. */
export function volumeUsers(db: Database, name: string): string[] {
  return listContainers(db)
    .filter((c) => decodeOptions(c.options).volumes.some((v) => v.volume === name))
    .map((c) => c.id);
}

export function removeVolume(db: Database, root: string, name: string, force = false): void {
  if (!findVolume(db, name)) {
    if (force) return;
    throw new TsdError(`no such volume: ${name}`);
  }
  const users = volumeUsers(db, name);
  if (users.length > 0) throw new TsdError(`volume ${name} is in use by container ${users.map((u) => u.slice(0, 12)).join(", ")}: remove the container first`);
  rmSync(volumeDir(root, name), { recursive: true, force: true });
  db.query("DELETE FROM volumes WHERE name = ?").run(name);
  recordEvent(db, "volume", "destroy", name, { driver: "local" });
}

/**
 * The run's volume mounts with their host paths: named volumes created on first use (and
 * filled from the image when empty, unless volume-nocopy), anonymous ones given a random name;
 * a missing bind source is made (-v) or refused (--mount). `lowerLinks` are the image's layer short names (layers/l), topmost first.
 */
export function prepareVolumes(db: Database, root: string, mounts: BindMount[], lowerLinks: string[]): BindMount[] {
  return mounts.map((m) => {
    if (m.volume === undefined) {
      if (!existsSync(m.source)) {
        // --mount refuses a missing source; -v creates it (a directory), as Docker's.
        if (m.mustExist) throw new TsdError(`invalid mount config for type "bind": bind source path does not exist: ${m.source}: create it first`);
        mkdirSync(m.source, { recursive: true, mode: 0o755 });
      }
      return m;
    }
    const v = createVolume(db, root, m.anonymous ? undefined : m.volume, { anonymous: Boolean(m.anonymous) });
    const data = volumeData(root, v.name);
    if (!m.noCopy && readdirSync(data).length === 0) copyUp(root, lowerLinks, m.destination, data);
    return { ...m, volume: v.name, source: data };
  });
}

/**
 * Docker's copy-up: what the image has at `dest` into an empty volume. The image's layers are
 * mounted read-only as one overlay in a private mount namespace of tsd-monitor (whiteouts and
 * opaque dirs applied by the kernel), `dest` is resolved inside that root (symlinks clamped to
 * it, as Docker's FollowSymlinkInScope) and walked fd-relative: no image symlink can make the
 * copy read a host path. Ownership and modes are the image's (`--archive`); device nodes are
 * left out.
 */
export function copyUp(root: string, lowerLinks: string[], dest: string, data: string): void {
  const tmp = rootPaths(root).tmp;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(tmp, "copyup-"));
  try {
    // An overlay without an upper dir needs two lower layers: an empty one at the bottom.
    mkdirSync(join(work, "empty"));
    mkdirSync(join(work, "merged"));
    const lower = [...lowerLinks.map((l) => `layers/l/${l}`), `${relative(root, work)}/empty`].join(":");
    const args = [
      "--copy",
      "out",
      "--overlay-dir",
      root,
      "--overlay-data",
      `lowerdir=${lower}${overlayOptions()}`,
      "--merged",
      join(work, "merged"),
      "--read-only",
      "--container-dir",
      dest,
      "--container-name",
      ".",
      "--host-dir",
      data,
      "--archive",
      "--missing-ok",
    ];
    runMonitorSync(args, `cannot fill the volume from the image at ${dest}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function volumeInspect(root: string, v: VolumeRow): Record<string, unknown> {
  return {
    CreatedAt: new Date(v.created_at).toISOString(),
    Driver: "local",
    Labels: JSON.parse(v.labels) as Record<string, string>,
    Mountpoint: volumeData(root, v.name),
    Name: v.name,
    Options: null,
    Scope: "local",
  };
}

/** Bytes under a directory (for volume ls/prune reports). */
export function dirSize(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirSize(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** After the container's row is gone (rm -v, --rm): its anonymous volumes go too, as Docker. */
export function removeAnonymousVolumes(db: Database, root: string, options: string): void {
  for (const v of decodeOptions(options).volumes) {
    if (!v.anonymous || !v.volume) continue;
    const row = findVolume(db, v.volume);
    if (row && row.anonymous && volumeUsers(db, v.volume).length === 0) removeVolume(db, root, v.volume, true);
  }
}

export function volumeLabels(v: VolumeRow): Record<string, string> {
  try {
    return JSON.parse(v.labels || "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

/**
 * volume prune (and system prune --volumes): unused volumes, anonymous ones only unless `all`,
 * those `keep` (the label filters) accepts; their names and the bytes their data held.
 */
export function pruneVolumes(db: Database, root: string, all: boolean, keep: (v: VolumeRow) => boolean = () => true): { removed: string[]; bytes: number } {
  const removed: string[] = [];
  let bytes = 0;
  for (const v of listVolumes(db)) {
    if ((!all && !v.anonymous) || volumeUsers(db, v.name).length > 0 || !keep(v)) continue;
    try {
      bytes += dirSize(volumeData(root, v.name));
    } catch {
      // Gone already.
    }
    removeVolume(db, root, v.name, true);
    removed.push(v.name);
  }
  return { removed, bytes };
}
