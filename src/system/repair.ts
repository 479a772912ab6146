// `tsd system repair`: the database rebuilt from what the root dir holds, and what no container
// owns released. Run by hand (a corrupt database says so), and by the first command that
// finds the database gone while bundles remain. What comes back:
//  - layers (layers/l links), images (config blobs whose layers are all there), the manifests
//    and layer blobs that push and save need, volumes (volumes/<name>/_data);
//  - containers from their bundles' container.json (src/container/record.ts): running when its
//    monitor still runs the bundle (leases, ports and networks from network-state.json),
//    exited with exit.json's status, else created;
//  - tags: the reference each recovered container was made from, when free.
// Released: network namespaces, cgroups and bundles no recovered container owns. Lost: tags of
// images no container uses, networks no running container is on, restart counts.
import { recoverUsernsRange } from "../container/userns";
import type { Database } from "bun:sqlite";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { rootPaths, containerDir } from "../store/paths";
import { procStartTime } from "../container/proc";
import { readContainerRecord, type ContainerRecord } from "../container/record";
import { readNetworkState } from "../network/record";
import { readExitStatus } from "../container/cleanup";
import { releaseBundleCgroup } from "../cgroup";
import { netnsRemove } from "../native/ffi";
import { canonical, parseReference } from "../image/reference";
import { OCI_LAYER } from "../image/media";
import { recordLayerBlob } from "../image/store";
import { networkByName } from "../network/networks";

export interface RepairReport {
  images: number;
  layers: number;
  volumes: number;
  containers: { running: number; exited: number; created: number };
  tags: number;
  released: string[];
  kept: string[];
}

const MAX_BLOB_JSON = 4 * 1024 * 1024;

/** One line: what came back, what was released. */
export function describeRepair(r: RepairReport): string {
  const c = r.containers;
  const parts = [
    `${c.running + c.exited + c.created} containers (${c.running} running, ${c.exited} exited, ${c.created} created)`,
    `${r.images} images`, `${r.layers} layers`, `${r.volumes} volumes`, `${r.tags} tags`,
  ];
  const kept = r.kept.length ? `; left as they are: ${r.kept.join(", ")}` : "";
  return `recovered ${parts.join(", ")}; released ${r.released.length ? r.released.join(", ") : "nothing"}${kept}`;
}

/** Moves a corrupt database (and its WAL) aside; returns the new name. */
export function setAsideDatabase(root: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = join(root, `tsd.db.corrupt-${stamp}`);
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(join(root, `tsd.db${suffix}`))) renameSync(join(root, `tsd.db${suffix}`), `${aside}${suffix}`);
  }
  return aside;
}

export function repairRoot(db: Database, root: string): RepairReport {
  const report: RepairReport = { images: 0, layers: 0, volumes: 0, containers: { running: 0, exited: 0, created: 0 }, tags: 0, released: [], kept: [] };
  db.transaction(() => {
    report.layers = recoverLayers(db, root);
    report.images = recoverImages(db, root);
    report.volumes = recoverVolumes(db, root);
  }).immediate();
  const records = listBundles(root).map((id) => ({ id, record: readContainerRecord(root, id) }));
  for (const { id, record } of records) {
    if (!record) {
      report.kept.push(`bundle ${id.slice(0, 12)} (no container.json: made before records were kept; remove it by hand)`);
      continue;
    }
    if (db.query("SELECT 1 FROM containers WHERE id = ?").get(id)) continue;
    const state = recoverContainer(db, root, record);
    report.containers[state]++;
    if (tagFromContainer(db, record)) report.tags++;
  }
  report.released.push(...releaseOrphanNetns(db, root));
  // The default network's row (from the root's network.json): without it, `network prune`
  // would not know the root's bridge and would leave it up for good.
  networkByName(db, root, "bridge");
  return report;
}

function listBundles(root: string): string[] {
  try {
    return readdirSync(rootPaths(root).containers).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

function treeSize(dir: string, depth = 0): number {
  if (depth > 64) return 0;
  let total = 0;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = lstatSync(p);
    total += st.isDirectory() ? treeSize(p, depth + 1) : st.size;
  }
  return total;
}

/** layers/l/<LINK> → ../<hex>/diff: one row per unpacked layer. */
function recoverLayers(db: Database, root: string): number {
  const paths = rootPaths(root);
  let n = 0;
  let links: string[] = [];
  try {
    links = readdirSync(paths.links);
  } catch {
    return 0;
  }
  for (const link of links) {
    let target: string;
    try {
      target = readlinkSync(join(paths.links, link));
    } catch {
      continue;
    }
    const m = /^\.\.\/([0-9a-f]{64})\/diff$/.exec(target);
    if (!m || !existsSync(join(paths.layers, m[1]!, "diff"))) continue;
    const size = treeSize(join(paths.layers, m[1]!, "diff"));
    const r = db.query("INSERT OR IGNORE INTO layers (diff_id, link, size) VALUES (?, ?, ?)").run(`sha256:${m[1]}`, link, size);
    n += r.changes;
  }
  return n;
}

function readBlobJson(path: string): Record<string, unknown> | undefined {
  try {
    if (statSync(path).size > MAX_BLOB_JSON) return undefined;
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Image configs whose layers are all present; their manifests and layer blobs beside. */
function recoverImages(db: Database, root: string): number {
  const blobs = rootPaths(root).blobs;
  let names: string[] = [];
  try {
    names = readdirSync(blobs).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return 0;
  }
  const layerSize = db.query("SELECT size FROM layers WHERE diff_id = ?");
  const docs = names.map((hex) => ({ hex, doc: readBlobJson(join(blobs, hex)) })).filter((x) => x.doc !== undefined);
  let n = 0;
  for (const { hex, doc } of docs) {
    const diffIds = (doc!.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
    if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === "string")) continue;
    const sizes = diffIds.map((d) => (layerSize.get(d) as { size: number } | null)?.size);
    if (sizes.some((s) => s === undefined)) continue;
    const r = db
      .query("INSERT OR IGNORE INTO images (id, config, layers, size, created, loaded_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(hex, JSON.stringify(doc), JSON.stringify(diffIds), sizes.reduce((a, b) => a! + b!, 0)!, typeof doc!.created === "string" ? doc!.created : null, Date.now());
    n += r.changes;
    // A layer made here (build, commit) is stored as its plain tar, named by its diff_id.
    for (const d of diffIds as string[]) {
      const hex = d.replace(/^sha256:/, "");
      if (/^[0-9a-f]{64}$/.test(hex) && existsSync(join(blobs, hex))) {
        recordLayerBlob(db, d, d, OCI_LAYER, statSync(join(blobs, hex)).size);
      }
    }
  }
  // Manifests: their config names a recovered image; layer i's blob unpacks to diff_id i.
  for (const { hex, doc } of docs) {
    const config = doc!.config as { digest?: unknown } | undefined;
    const layers = doc!.layers as { digest?: unknown; mediaType?: unknown; size?: unknown }[] | undefined;
    if (typeof config?.digest !== "string" || !Array.isArray(layers)) continue;
    const imageId = config.digest.replace(/^sha256:/, "");
    const image = db.query("SELECT layers FROM images WHERE id = ?").get(imageId) as { layers: string } | null;
    if (!image) continue;
    const diffIds = JSON.parse(image.layers) as string[];
    if (diffIds.length !== layers.length) continue;
    db.query("INSERT OR IGNORE INTO image_manifests (image_id, digest) VALUES (?, ?)").run(imageId, `sha256:${hex}`);
    layers.forEach((l, i) => {
      if (typeof l.digest !== "string" || !existsSync(join(blobs, l.digest.replace(/^sha256:/, "")))) return;
      recordLayerBlob(db, diffIds[i]!, l.digest, String(l.mediaType ?? ""), Number(l.size ?? 0));
    });
  }
  return n;
}

function recoverVolumes(db: Database, root: string): number {
  let names: string[] = [];
  try {
    names = readdirSync(join(root, "volumes"));
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const data = join(root, "volumes", name, "_data");
    if (!existsSync(data)) continue;
    const r = db
      .query("INSERT OR IGNORE INTO volumes (name, created_at, anonymous, labels) VALUES (?, ?, ?, '{}')")
      .run(name, Math.floor(statSync(data).birthtimeMs || statSync(data).mtimeMs), /^[0-9a-f]{64}$/.test(name) ? 1 : 0);
    n += r.changes;
  }
  return n;
}

/** The monitor running this bundle, found by its command line (`--bundle DIR`). */
function monitorOf(bundle: string): number | undefined {
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const i = args.indexOf("--bundle");
      if (i >= 0 && args[i + 1] === bundle && !args.includes("--exec")) return Number(p);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function recoverContainer(db: Database, root: string, r: ContainerRecord): "running" | "exited" | "created" {
  const bundle = containerDir(root, r.id);
  const monitor = monitorOf(bundle);
  let init: number | undefined;
  try {
    init = Number(readFileSync(join(bundle, "init.pid"), "utf8").trim()) || undefined;
  } catch {
    init = undefined;
  }
  const running = monitor !== undefined && init !== undefined && parentOf(init) === monitor;
  const exit = readExitStatus(root, r.id);
  const state = running ? "running" : exit ? "exited" : "created";
  db.query(
    "INSERT INTO containers (id, name, image_id, image_ref, command, created_at, state, pid, monitor_pid, pid_start, monitor_start, exit_code, started_at, finished_at, error, auto_remove, options) " +
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(
    r.id, uniqueName(db, r.name, r.id), r.image_id, r.image_ref, r.command, r.created_at, state,
    running ? init! : 0, running ? monitor! : 0, running ? (procStartTime(init!) ?? null) : null, running ? (procStartTime(monitor!) ?? null) : null,
    !running && exit ? exit.exitCode : null, exit ? Math.floor(exit.startedAt / 1e6) : running ? startedAt(bundle) : null, !running && exit ? Math.floor(exit.finishedAt / 1e6) : null,
    !running && exit ? (exit.error ?? null) : null, r.auto_remove, r.options,
  );
  if (running) recoverNetwork(db, root, r.id);
  else releaseBundleCgroup(bundle, { tolerant: true });
  recoverUserns(db, bundle, r);
  return state;
}

/** A --userns=auto container keeps its range: no later container may take it. */
function recoverUserns(db: Database, bundle: string, r: ContainerRecord): void {
  try {
    recoverUsernsRange(db, r.id, JSON.parse(r.options), JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")));
  } catch {
    // No readable config.json: nothing to run, so no range to keep.
  }
}

/** init.pid is written just before the init is reported started (zig/CONTRACT.md). */
function startedAt(bundle: string): number | null {
  try {
    return Math.floor(statSync(join(bundle, "init.pid")).mtimeMs);
  } catch {
    return null;
  }
}

function uniqueName(db: Database, name: string, id: string): string {
  return db.query("SELECT 1 FROM containers WHERE name = ?").get(name) ? `${name}-${id.slice(0, 12)}` : name;
}

/** A running container's leases, ports and their networks, as its bundle recorded them. */
function recoverNetwork(db: Database, root: string, id: string): void {
  const s = readNetworkState(root, id);
  if (!s) return;
  const insert = (table: string, row: Record<string, unknown>) => {
    const cols = Object.keys(row).filter((c) => /^[a-z_]+$/.test(c));
    db.query(`INSERT OR IGNORE INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`).run(...(cols.map((c) => row[c]) as never[]));
  };
  db.transaction(() => {
    for (const n of s.networks) insert("networks", n);
    for (const e of s.endpoints) insert("endpoints", e);
    for (const p of s.ports) insert("ports", p);
  }).immediate();
}

function tagFromContainer(db: Database, r: ContainerRecord): boolean {
  let name: string;
  // An id (or a prefix of it) is not a name to tag.
  if (/^(sha256:)?[0-9a-f]{6,64}$/.test(r.image_ref)) return false;
  try {
    const ref = parseReference(r.image_ref);
    if (ref.digest !== undefined) return false;
    name = canonical(ref);
  } catch {
    return false; // an image id, not a name
  }
  if (!db.query("SELECT 1 FROM images WHERE id = ?").get(r.image_id)) return false;
  return db.query("INSERT OR IGNORE INTO tags (name, image_id) VALUES (?, ?)").run(name, r.image_id).changes > 0;
}

/** Namespace files under <root>/netns whose container is not running (their veths go with them). */
function releaseOrphanNetns(db: Database, root: string): string[] {
  const dir = join(root, "netns");
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const id of names) {
    const row = db.query("SELECT state FROM containers WHERE id = ?").get(id) as { state: string } | null;
    if (row?.state === "running") continue;
    netnsRemove(join(dir, id));
    out.push(`network namespace of ${id.slice(0, 12)}`);
  }
  return out;
}
