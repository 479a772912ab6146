// Named volumes: <root>/volumes/<name>/_data, a row in the `volumes` table, bind-mounted into
// containers. On first use an empty volume is filled with what the image has at the mount
// point (Docker's copy-up), read from the image's layer directories bottom to top with their
// whiteouts applied.
import type { Database } from "bun:sqlite";
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { lxattrs } from "../native/ffi";
import { randomId } from "./names";
import { listContainers } from "./store";
import type { BindMount, RunOptions } from "./options";
import { VOLUME_NAME } from "./options";

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
  db.query("INSERT OR IGNORE INTO volumes (name, created_at, anonymous, labels) VALUES (?, ?, ?, ?)").run(n, Date.now(), o.anonymous ? 1 : 0, JSON.stringify(o.labels ?? {}));
  return findVolume(db, n)!;
}

/** Containers (any state) whose options mount the volume. */
export function volumeUsers(db: Database, name: string): string[] {
  return listContainers(db)
    .filter((c) => ((JSON.parse(c.options) as RunOptions).volumes ?? []).some((v) => v.volume === name))
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
}

/**
 * The run's volume mounts with their host paths: named volumes created on first use (and
 * filled from the image when empty), anonymous ones given a random name; bind sources must
 * exist. `layerDirs` are the image's layer dirs, topmost first.
 */
export function prepareVolumes(db: Database, root: string, mounts: BindMount[], layerDirs: string[]): BindMount[] {
  return mounts.map((m) => {
    if (m.volume === undefined) {
      if (!existsSync(m.source)) throw new TsdError(`invalid volume: the host path "${m.source}" does not exist: create it first (or use a named volume: -v NAME:${m.destination})`);
      return m;
    }
    const v = createVolume(db, root, m.anonymous ? undefined : m.volume, { anonymous: Boolean(m.anonymous) });
    const data = volumeData(root, v.name);
    if (readdirSync(data).length === 0) copyUp(layerDirs, m.destination, data);
    return { ...m, volume: v.name, source: data };
  });
}

/** Docker's copy-up: the image's content at `dest` into an empty volume, layers bottom to top. */
export function copyUp(layerDirs: string[], dest: string, data: string): void {
  const rel = dest.replace(/^\/+/, "");
  for (const layer of [...layerDirs].reverse()) {
    const src = join(layer, rel);
    let st;
    try {
      st = lstatSync(src);
    } catch {
      continue;
    }
    if (isWhiteout(st)) {
      emptyDir(data);
      continue;
    }
    if (!st.isDirectory()) continue;
    if (lxattrs(src)["trusted.overlay.opaque"]) emptyDir(data);
    else removeMasked(src, data);
    const cp = Bun.spawnSync(["cp", "-a", "--", `${src}/.`, `${data}/`], { stderr: "pipe" });
    if (cp.exitCode !== 0) throw new TsdError(`cannot fill the volume from the image at ${dest}: ${cp.stderr.toString().trim()}`);
    dropWhiteouts(data);
  }
}

function isWhiteout(st: { isCharacterDevice(): boolean; rdev: number }): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function emptyDir(dir: string): void {
  for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
}

/** What this layer hides of the lower ones (whiteouts, opaque dirs) goes before its copy. */
function removeMasked(layerDir: string, data: string): void {
  for (const e of readdirSync(layerDir, { withFileTypes: true })) {
    const p = join(layerDir, e.name);
    const target = join(data, e.name);
    const st = lstatSync(p);
    if (isWhiteout(st)) rmSync(target, { recursive: true, force: true });
    else if (st.isDirectory()) {
      if (lxattrs(p)["trusted.overlay.opaque"]) rmSync(target, { recursive: true, force: true });
      else if (existsSync(target) && lstatSync(target).isDirectory()) removeMasked(p, target);
    } else if (existsSync(target) && lstatSync(target).isDirectory()) {
      rmSync(target, { recursive: true, force: true }); // a file replacing a directory
    }
  }
}

/** The whiteout nodes the copy brought along are markers, not content. */
function dropWhiteouts(dir: string): void {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = lstatSync(p);
    if (isWhiteout(st)) rmSync(p, { force: true });
    else if (st.isDirectory()) dropWhiteouts(p);
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
  for (const v of (JSON.parse(options) as RunOptions).volumes ?? []) {
    if (!v.anonymous || !v.volume) continue;
    const row = findVolume(db, v.volume);
    if (row && row.anonymous && volumeUsers(db, v.volume).length === 0) removeVolume(db, root, v.volume, true);
  }
}
