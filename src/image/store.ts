// The image store: images and their tags in the database, unpacked layers under layers/.
// Layers are keyed by diffID (the digest of the uncompressed tar): with overlayfs a layer's
// directory depends on nothing but its own tar, so images share them.
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { processAlive } from "../store/workdir";
import { join } from "node:path";
import { unpack } from "../native/ffi";
import { rootPaths } from "../store/paths";
import { rootlessMode } from "../store/rootless";
import { TsdError } from "../errors";
import { canonical, familiarName, parseReference, ReferenceError, type Reference } from "./reference";

/** The parts of an OCI image config tsd reads. */
/** Docker's HealthConfig (an image's HEALTHCHECK, a container's Config.Healthcheck); ns. */
export interface HealthConfig {
  /** [] inherit; ["NONE"] disabled; ["CMD", args...]; ["CMD-SHELL", command]. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
    Labels?: Record<string, string> | null;
    Healthcheck?: HealthConfig | null;
    /** SHELL's: the shell form's RUN, CMD and ENTRYPOINT (Docker's config field). */
    Shell?: string[] | null;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
}

export interface ImageRecord {
  id: string;
  config: ImageConfig;
  layers: string[];
  size: number;
  created?: string;
  loadedAt: number;
}

interface ImageRow {
  id: string;
  config: string;
  layers: string;
  size: number;
  created: string | null;
  loaded_at: number;
}

function fromRow(r: ImageRow): ImageRecord {
  return {
    id: r.id,
    config: JSON.parse(r.config),
    layers: JSON.parse(r.layers),
    size: r.size,
    ...(r.created ? { created: r.created } : {}),
    loadedAt: r.loaded_at,
  };
}

export function listImages(db: Database): { image: ImageRecord; tags: string[] }[] {
  const rows = db.query("SELECT * FROM images ORDER BY loaded_at DESC").all() as ImageRow[];
  const tags = db.query("SELECT name, image_id FROM tags ORDER BY name").all() as { name: string; image_id: string }[];
  return rows.map((r) => ({ image: fromRow(r), tags: tags.filter((t) => t.image_id === r.id).map((t) => t.name) }));
}

/**
 * The image a user named: a reference (`busybox`, `busybox:1.36`) or an id or unique id
 * prefix (`sha256:` optional). Undefined when nothing matches.
 */
export function findImage(db: Database, name: string): ImageRecord | undefined {
  let ref: Reference | undefined;
  try {
    ref = parseReference(name);
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
  }
  if (ref?.digest) {
    const row = db.query("SELECT image_id FROM repo_digests WHERE repository = ? AND digest = ?").get(`${ref.domain}/${ref.path}`, ref.digest) as { image_id: string } | null;
    if (row) return imageById(db, row.image_id);
  } else if (ref) {
    const tag = db.query("SELECT image_id FROM tags WHERE name = ?").get(canonical(ref)) as { image_id: string } | null;
    if (tag) return imageById(db, tag.image_id);
  }
  const hex = name.startsWith("sha256:") ? name.slice(7) : name;
  if (/^[a-f0-9]{1,64}$/.test(hex)) {
    const rows = db.query("SELECT * FROM images WHERE id LIKE ? || '%' LIMIT 2").all(hex) as ImageRow[];
    if (rows.length > 1) throw new TsdError(`image id prefix "${name}" is ambiguous: give more digits`);
    if (rows.length === 1) return fromRow(rows[0]!);
  }
  return undefined;
}

export function imageById(db: Database, id: string): ImageRecord | undefined {
  const row = db.query("SELECT * FROM images WHERE id = ?").get(id) as ImageRow | null;
  return row ? fromRow(row) : undefined;
}

export function putImage(db: Database, id: string, config: ImageConfig, size: number): void {
  db.query(
    "INSERT INTO images (id, config, layers, size, created, loaded_at) VALUES (?, ?, ?, ?, ?, ?) " +
      "ON CONFLICT(id) DO UPDATE SET loaded_at = excluded.loaded_at",
  ).run(id, JSON.stringify(config), JSON.stringify(config.rootfs.diff_ids), size, config.created ?? null, Date.now());
}

/** `event`: a tag Docker reports (tsd tag, commit, import), not one a load or pull records. */
export function tagImage(db: Database, ref: Reference, id: string, event = false): void {
  db.query("INSERT INTO tags (name, image_id) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id").run(canonical(ref), id);
  if (event) imageEvent(db, "tag", `sha256:${id}`, familiarName(ref));
}

/** Short names of the image's layers under layers/l, topmost first (overlay lowerdir order). */
export function layerLinks(db: Database, image: ImageRecord): string[] {
  const q = db.query("SELECT link FROM layers WHERE diff_id = ?");
  return image.layers
    .map((d) => {
      const row = q.get(d) as { link: string } | null;
      if (!row) throw new TsdError(`image ${image.id.slice(0, 12)} is missing layer ${d}: remove it and load it again`);
      return row.link;
    })
    .reverse();
}

export function layerSize(db: Database, diffId: string): number | undefined {
  const row = db.query("SELECT size FROM layers WHERE diff_id = ?").get(diffId) as { size: number } | null;
  return row?.size;
}

/**
 * Unpacks the layer tar at `src` (a tar tsd packed itself: commit, build) into the store unless
 * a layer with `expectedDiffId` is already there, in this process (libtsd). The content digest
 * is checked against `expectedDiffId` before the layer becomes visible; a failed unpack leaves
 * nothing behind. Layers from outside (pull, load, import) go through layer-unpack.ts instead.
 */
export function importLayer(db: Database, root: string, src: string, expectedDiffId: string): number {
  const hex = expectedDiffId.replace(/^sha256:/, "");
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new TsdError(`malformed layer diff_id "${expectedDiffId}" in the image config`);
  const known = layerSize(db, expectedDiffId);
  if (known !== undefined && existsSync(join(rootPaths(root).layers, hex))) return known;
  const staging = newLayerStaging(root);
  try {
    // Rootless with a single id: owners it cannot map stay the user's (store/rootless.ts).
    const { size, diffId } = unpack(src, join(staging, "diff"), { layer: true, ignoreChown: rootlessMode()?.singleId === true });
    if (diffId !== expectedDiffId) {
      throw new TsdError(`layer content ${diffId} does not match the image config's diff_id ${expectedDiffId}: the archive is corrupt`);
    }
    return commitLayerStaging(db, root, staging, diffId, size);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * A new staging directory, layers/.tmp-<pid>-<random>/diff, to unpack a layer into before it
 * is renamed into place. The pid lets `removeStaleStaging` tell abandoned ones.
 */
export function newLayerStaging(root: string): string {
  const paths = rootPaths(root);
  const staging = join(paths.layers, `.tmp-${process.pid}-${randomLink()}`);
  mkdirSync(join(staging, "diff"), { recursive: true, mode: 0o755 });
  return staging;
}

/** Renames a complete unpack into layers/<hex> and records it; returns the layer's size. */
export function commitLayerStaging(db: Database, root: string, staging: string, diffId: string, size: number): number {
  const paths = rootPaths(root);
  mkdirSync(paths.links, { recursive: true, mode: 0o700 });
  const hex = diffId.replace(/^sha256:/, "");
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new TsdError(`malformed layer diff_id "${diffId}"`);
  const final = join(paths.layers, hex);
  const known = layerSize(db, diffId);
  if (known !== undefined && existsSync(final)) return known;
  // A directory at `final` only ever comes from the rename of a complete unpack (a
  // concurrent pull, or a crash before the row was written): it is kept, never replaced
  // under a container that may have it mounted.
  try {
    renameSync(staging, final);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
  }
  // Check and insert under the write lock: a concurrent pull of the same layer gets one row
  // and one link between them.
  return db.transaction(() => {
    const again = layerSize(db, diffId);
    if (again !== undefined) return again;
    const link = randomLink();
    symlinkSync(`../${hex}/diff`, join(paths.links, link));
    db.query("INSERT INTO layers (diff_id, link, size) VALUES (?, ?, ?)").run(diffId, link, size);
    return size;
  }).immediate();
}

/** Staging dirs of processes that died mid-unpack (killed pulls). */
export function removeStaleStaging(root: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(rootPaths(root).layers);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^\.tmp-(\d+)-/.exec(n);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(join(rootPaths(root).layers, n), { recursive: true, force: true });
  }
}


// 26 characters of [A-Z0-9], as Docker's overlay2 link names: short enough that a 128-layer
// lowerdir fits the mount data page.
function randomLink(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(26));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Remembers that the blob `digest` unpacks to the layer `diffId` (for save and push); the
 *  first recorded is the one `save` writes (a built layer's uncompressed tar, not the gzip
 *  blob a push added). */
export function recordLayerBlob(db: Database, diffId: string, digest: string, mediaType: string, size: number): void {
  db.query("INSERT INTO layer_blobs (diff_id, digest, media_type, size) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING").run(diffId, digest, mediaType, size);
}

export function layerBlobs(db: Database, diffId: string): { digest: string; mediaType: string; size: number }[] {
  return db.query("SELECT digest, media_type AS mediaType, size FROM layer_blobs WHERE diff_id = ? ORDER BY rowid").all(diffId) as { digest: string; mediaType: string; size: number }[];
}

/** The manifest digest an image was pulled (or pushed) by, per repository. */
export function recordRepoDigest(db: Database, repository: string, digest: string, imageId: string): void {
  db.query("INSERT INTO repo_digests (repository, digest, image_id) VALUES (?, ?, ?) ON CONFLICT(repository, digest) DO UPDATE SET image_id = excluded.image_id").run(
    repository,
    digest,
    imageId,
  );
}

export function repoDigests(db: Database, imageId: string): { repository: string; digest: string }[] {
  return db.query("SELECT repository, digest FROM repo_digests WHERE image_id = ? ORDER BY repository").all(imageId) as { repository: string; digest: string }[];
}

/** True when the layer is unpacked in the store (its row and its directory). */
export function hasLayer(db: Database, root: string, diffId: string): boolean {
  if (layerSize(db, diffId) === undefined) return false;
  return existsSync(join(rootPaths(root).layers, diffId.replace(/^sha256:/, "")));
}

export function recordImageManifest(db: Database, imageId: string, digest: string): void {
  db.query("INSERT INTO image_manifests (image_id, digest) VALUES (?, ?) ON CONFLICT DO NOTHING").run(imageId, digest);
}

export function imageManifests(db: Database, imageId: string): string[] {
  return (db.query("SELECT digest FROM image_manifests WHERE image_id = ?").all(imageId) as { digest: string }[]).map((r) => r.digest);
}
