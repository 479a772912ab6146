// Removing images (rmi, image prune) and collecting what no image needs any more: unpacked
// layers, their links, the blobs they came from, configs and manifests.
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { buildParents, intermediateImages, pruneBuildCache } from "./build/cache";
import { existsSync, lstatSync, rmSync, unlinkSync, readdirSync } from "node:fs";
import { cacheMountsDir } from "./build/run-mount";
import { join } from "node:path";
import { rootPaths } from "../store/paths";
import { TsdError } from "../errors";
import { blobPath } from "./blobs";
import { storeBusy } from "./lease";
import { canonical, familiarName, parseReference, ReferenceError, type Reference } from "./reference";
import { findImage, imageById, listImages, type ImageRecord } from "./store";

export interface RemoveReport {
  untagged: string[];
  deleted: string[];
  reclaimed: number;
}

interface User {
  id: string;
  name: string;
  state: string;
}

function usersOf(db: Database, imageId: string): User[] {
  return db.query("SELECT id, name, state FROM containers WHERE image_id = ?").all(imageId) as User[];
}

function tagsOf(db: Database, imageId: string): string[] {
  return (db.query("SELECT name FROM tags WHERE image_id = ? ORDER BY name").all(imageId) as { name: string }[]).map((r) => r.name);
}

/**
 * `tsd rmi NAME`: untags a reference; deletes the image when nothing else names it, and its
 * untagged build parents left childless unless `noPrune`.
 */
export function removeImage(db: Database, root: string, name: string, force: boolean, noPrune = false): RemoveReport {
  const image = findImage(db, name);
  if (!image) throw new TsdError(`no such image: ${name}`);
  let ref: Reference | undefined;
  try {
    ref = parseReference(name);
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
  }
  const tags = tagsOf(db, image.id);
  const byTag = ref && !ref.digest && tags.includes(canonical(ref));
  const report: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  // A digest reference of an image that other names still hold: only that reference goes.
  if (ref?.digest && !force) {
    const repo = `${ref.domain}/${ref.path}`;
    const others = (db.query("SELECT COUNT(*) AS n FROM repo_digests WHERE image_id = ? AND NOT (repository = ? AND digest = ?)").get(image.id, repo, ref.digest) as { n: number }).n;
    if (tags.length > 0 || others > 0) {
      db.query("DELETE FROM repo_digests WHERE repository = ? AND digest = ?").run(repo, ref.digest);
      imageEvent(db, "untag", `sha256:${image.id}`, `sha256:${image.id}`);
      report.untagged.push(familiarName(ref));
      return report;
    }
  }
  const users = usersOf(db, image.id);
  const running = users.find((u) => u.state === "running");
  // A tag of an image with other tags: only the tag goes, -f or not; and with -f, the last tag
  // of an image a running container uses goes and the image stays (docker rmi does the same).
  if (byTag && (tags.length > 1 || (force && running))) {
    db.query("DELETE FROM tags WHERE name = ?").run(canonical(ref!));
    imageEvent(db, "untag", `sha256:${image.id}`, `sha256:${image.id}`);
    report.untagged.push(familiarName(ref!));
    return report;
  }
  if (running) {
    throw new TsdError(`conflict: unable to remove image ${name} (${image.id.slice(0, 12)}): container ${running.id.slice(0, 12)} (${running.name}) is running it: stop it first`);
  }
  if (users.length > 0 && !force) {
    throw new TsdError(
      `conflict: unable to remove image ${name} (${image.id.slice(0, 12)}): container ${users[0]!.id.slice(0, 12)} (${users[0]!.name}) uses it: remove the container or use -f`,
    );
  }
  report.untagged.push(...tags.map((t) => familiarName(parseReference(t))));
  for (const d of db.query("SELECT repository, digest FROM repo_digests WHERE image_id = ?").all(image.id) as { repository: string; digest: string }[]) {
    report.untagged.push(`${familiarName(parseReference(d.repository))}@${d.digest}`.replace(/:latest@/, "@"));
  }
  const parents = buildParents(db);
  deleteImageRows(db, image);
  report.deleted.push(`sha256:${image.id}`, ...releasedLayers(db, image, users.length > 0));
  // Its build parents that are left untagged and childless go too (docker rmi's prune).
  if (!noPrune) pruneChain(db, parents.get(image.id), parents, childCounts(db, parents), () => true, report);
  report.reclaimed += collectGarbage(db, root);
  return report;
}

/** Children of each image still there, by the build parents. */
function childCounts(db: Database, parents: Map<string, string>): Map<string, number> {
  const live = new Set(listImages(db).map((e) => e.image.id));
  const n = new Map<string, number>();
  for (const [child, p] of parents) if (live.has(child)) n.set(p, (n.get(p) ?? 0) + 1);
  return n;
}

/** Removes `from` and up its parents while each is untagged, childless, unused and kept by `keep`. */
function pruneChain(db: Database, from: string | undefined, parents: Map<string, string>, children: Map<string, number>, keep: (image: ImageRecord) => boolean, report: RemoveReport): void {
  for (let at = from; at !== undefined; at = parents.get(at)) {
    const image = imageById(db, at);
    if (!image || tagsOf(db, at).length > 0 || (children.get(at) ?? 0) > 0 || usersOf(db, at).length > 0 || !keep(image)) return;
    removeOne(db, at, [], report);
    const up = parents.get(at);
    if (up !== undefined) children.set(up, (children.get(up) ?? 1) - 1);
  }
}

function deleteImageRows(db: Database, image: ImageRecord): void {
  db.transaction(() => {
    const names = (db.query("SELECT COUNT(*) AS n FROM tags WHERE image_id = ?").get(image.id) as { n: number }).n;
    for (let i = 0; i < names; i++) imageEvent(db, "untag", `sha256:${image.id}`, `sha256:${image.id}`);
    imageEvent(db, "delete", `sha256:${image.id}`, `sha256:${image.id}`);
    db.query("DELETE FROM tags WHERE image_id = ?").run(image.id);
    db.query("DELETE FROM repo_digests WHERE image_id = ?").run(image.id);
    db.query("DELETE FROM images WHERE id = ?").run(image.id);
  }).immediate();
}

/**
 * Removes layers, links and blobs that no remaining image refers to; returns bytes freed
 * (unpacked layer sizes). Containers keep their image alive, so their layers are never hit.
 * Nothing is swept while another process holds a lease (src/image/lease.ts).
 */
export function collectGarbage(db: Database, root: string): number {
  // A pull, load, commit, import, build or push (gzipping a layer) in progress has layers and
  // blobs no image row names yet: leave everything for a later collection.
  if (storeBusy(root)) return 0;
  const paths = rootPaths(root);
  const images = listImages(db).map((i) => i.image);
  const liveLayers = new Set(images.flatMap((i) => i.layers));
  let freed = 0;
  const layers = db.query("SELECT diff_id, link, size FROM layers").all() as { diff_id: string; link: string; size: number }[];
  for (const l of layers) {
    if (liveLayers.has(l.diff_id)) continue;
    const hex = l.diff_id.replace(/^sha256:/, "");
    // Gone from the db first: a crash after this leaves a directory nothing points at, never a
    // row pointing at a half-deleted directory.
    db.query("DELETE FROM layers WHERE diff_id = ?").run(l.diff_id);
    rmSync(join(paths.links, l.link), { force: true });
    rmSync(join(paths.layers, hex), { recursive: true, force: true });
    freed += l.size;
  }
  const liveBlobs = new Set<string>();
  for (const i of images) {
    liveBlobs.add(`sha256:${i.id}`);
    for (const d of i.layers) for (const b of db.query("SELECT digest FROM layer_blobs WHERE diff_id = ?").all(d) as { digest: string }[]) liveBlobs.add(b.digest);
  }
  for (const r of db.query("SELECT digest FROM repo_digests").all() as { digest: string }[]) liveBlobs.add(r.digest);
  for (const r of db.query("SELECT digest FROM image_manifests").all() as { digest: string }[]) liveBlobs.add(r.digest);
  db.query(`DELETE FROM layer_blobs WHERE diff_id NOT IN (SELECT diff_id FROM layers)`).run();
  db.query(`DELETE FROM image_manifests WHERE image_id NOT IN (SELECT id FROM images)`).run();
  let names: string[] = [];
  try {
    names = readdirSync(paths.blobs);
  } catch {
    return freed;
  }
  for (const hex of names) {
    if (!/^[a-f0-9]{64}$/.test(hex) || liveBlobs.has(`sha256:${hex}`)) continue;
    try {
      unlinkSync(blobPath(root, `sha256:${hex}`));
    } catch {
      // Removed by a concurrent collector.
    }
  }
  // Links whose layer is gone (a crash between the steps above).
  try {
    for (const l of readdirSync(paths.links)) if (!existsSync(join(paths.links, l))) rmSync(join(paths.links, l), { force: true });
  } catch {
    // No links dir yet.
  }
  return freed;
}

/** `tsd builder prune`: the build cache and the intermediate images only it kept (untagged, no container). */
export function pruneBuildCacheImages(db: Database, root: string): RemoveReport {
  const report: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  const steps = intermediateImages(db);
  for (const { image, tags } of listImages(db)) {
    if (!steps.has(image.id) || tags.length > 0 || usersOf(db, image.id).length > 0) continue;
    const fresh = imageById(db, image.id);
    if (!fresh) continue;
    deleteImageRows(db, fresh);
    report.deleted.push(`sha256:${image.id}`);
  }
  db.query("DELETE FROM build_cache").run();
  report.reclaimed = collectGarbage(db, root) + removeCacheMounts(root, report);
  return report;
}

/** RUN --mount=type=cache directories: all of them go (each reported by its name). */
function removeCacheMounts(root: string, report: RemoveReport): number {
  const dir = cacheMountsDir(root);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const name of names) {
    bytes += treeBytes(join(dir, name));
    rmSync(join(dir, name), { recursive: true, force: true });
    report.deleted.push(`sha256:${name}`);
  }
  return bytes;
}

function treeBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  return readdirSync(path).reduce((n, name) => n + treeBytes(join(path, name)), 0);
}

function removeOne(db: Database, id: string, tags: string[], report: RemoveReport): boolean {
  const fresh = imageById(db, id);
  if (!fresh) return false;
  report.untagged.push(...tags.map((t) => familiarName(parseReference(t))));
  deleteImageRows(db, fresh);
  report.deleted.push(`sha256:${id}`, ...releasedLayers(db, fresh, usersOf(db, id).length > 0));
  return true;
}

/** An image's layer ids as Docker names them (chain ids: the first diff id, then sha256 of "PARENT DIFF"), bottom first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : `sha256:${new Bun.CryptoHasher("sha256").update(`${out.at(-1)!} ${d}`).digest("hex")}`);
  return out;
}

/**
 * Docker's `Deleted: <chain id>` lines after an image went: its layers no remaining image
 * holds, top first (none while a container, which holds them, used the image).
 */
function releasedLayers(db: Database, image: ImageRecord, used: boolean): string[] {
  if (used) return [];
  const held = new Set(listImages(db).flatMap((e) => chainIds(e.image.layers)));
  return chainIds(image.layers).filter((c) => !held.has(c)).reverse();
}

/**
 * Docker's dangling prune: untagged images no other image is built on (its image store's
 * heads), each with its untagged parents that are left with no child (ImageDelete's prune).
 * A tagged image's build steps stay: later builds take them from the cache.
 */
function pruneDangling(db: Database, keep: (image: ImageRecord) => boolean, report: RemoveReport): void {
  const parents = buildParents(db);
  const children = childCounts(db, parents);
  for (const { image } of listImages(db)) pruneChain(db, image.id, parents, children, keep, report);
}

/** `tsd image prune`: dangling images (or, with `all`, every image) no container uses. */
export function pruneImages(db: Database, root: string, all: boolean, keep: (image: ImageRecord) => boolean = () => true): RemoveReport {
  const report: RemoveReport = { untagged: [], deleted: [], reclaimed: 0 };
  if (all) {
    for (const { image, tags } of listImages(db)) {
      if (usersOf(db, image.id).length > 0 || !keep(image)) continue;
      removeOne(db, image.id, tags, report);
    }
  } else pruneDangling(db, keep, report);
  // The build cache's steps whose images went.
  pruneBuildCache(db);
  // Also what earlier removals left while the store was busy.
  report.reclaimed = collectGarbage(db, root);
  return report;
}
