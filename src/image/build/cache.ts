// `tsd build`'s step cache: a step is reused when its parent image, its instruction (as the
// history records it, with COPY's content hash and RUN's build args) and the config it
// leaves match; kept in the database across builds, dropped with the images by image prune.
import type { Database } from "bun:sqlite";
import { imageById, type ImageRecord } from "../store";
import { sha256Hex } from "../blobs";

export function cacheKey(parentId: string | undefined, createdBy: string, config: unknown): string {
  return sha256Hex(new TextEncoder().encode(JSON.stringify([parentId ?? "scratch", createdBy, config])));
}

/** The image a cached step made, if it is still there. */
export function cachedImage(db: Database, key: string): ImageRecord | undefined {
  const row = db.query("SELECT image_id FROM build_cache WHERE key = ?").get(key) as { image_id: string } | null;
  return row ? imageById(db, row.image_id) : undefined;
}

/** `parentId`: the image the step was made on ("" for scratch). */
export function rememberStep(db: Database, key: string, imageId: string, parentId: string): void {
  db.query("INSERT INTO build_cache (key, image_id, created_at, parent_id) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, created_at = excluded.created_at, parent_id = excluded.parent_id").run(key, imageId, Date.now(), parentId);
}

/** Each built image's parent (from the steps that made it), for images still there. */
export function buildParents(db: Database): Map<string, string> {
  const rows = db.query("SELECT DISTINCT b.image_id, b.parent_id FROM build_cache b JOIN images i ON i.id = b.image_id WHERE b.parent_id != '' AND b.parent_id != b.image_id").all() as { image_id: string; parent_id: string }[];
  return new Map(rows.map((r) => [r.image_id, r.parent_id]));
}

/** Marks the image a build ended with: not an intermediate one. */
export function markBuildResult(db: Database, imageId: string): void {
  db.query("UPDATE build_cache SET result = 1 WHERE image_id = ?").run(imageId);
}

/** Ids of images a build made as intermediate steps only (hidden by `images` unless -a, as Docker's). */
export function intermediateImages(db: Database): Set<string> {
  const rows = db.query("SELECT image_id FROM build_cache GROUP BY image_id HAVING MAX(result) = 0").all() as { image_id: string }[];
  return new Set(rows.map((r) => r.image_id));
}

/** Drops the rows whose image is gone (image prune, rmi). */
export function pruneBuildCache(db: Database): number {
  return db.query("DELETE FROM build_cache WHERE image_id NOT IN (SELECT id FROM images)").run().changes;
}
