// The images a build makes step by step: a metadata step is its parent with a new run config
// and one more history entry marked empty_layer (Docker's classic builder writes the same);
// a filesystem step is commitUpper's (image/commit.ts). A scratch stage starts from an image
// with no layer.
import type { Database } from "bun:sqlite";
import { putBlob, sha256Hex } from "../blobs";
import { putImage, type ImageConfig, type ImageRecord } from "../store";
import type { RunConfig } from "./instructions";

/** `FROM scratch`: no layer, no history, the build's platform (this machine's by default). */
export function scratchImage(platform: { os: string; architecture: string; variant?: string } = { os: "linux", architecture: "amd64" }): ImageRecord {
  return { id: "", config: { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}), config: {}, rootfs: { type: "layers", diff_ids: [] }, history: [] }, layers: [], size: 0, loadedAt: 0 };
}

/** A new image: `parent` with `runConfig` and an empty_layer history entry. Returns it. */
export function metadataImage(db: Database, root: string, parent: ImageRecord, runConfig: RunConfig, createdBy: string, author?: string): ImageRecord {
  const now = new Date().toISOString();
  const config: ImageConfig & { author?: string } = {
    ...parent.config,
    created: now,
    ...(author !== undefined ? { author } : {}),
    config: runConfig,
    history: [...(parent.config.history ?? []), { created: now, created_by: createdBy, empty_layer: true }],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256Hex(bytes);
  putBlob(root, `sha256:${id}`, bytes);
  putImage(db, id, config, parent.size);
  return { id, config, layers: config.rootfs.diff_ids, size: parent.size, created: now, loadedAt: Date.now() };
}
