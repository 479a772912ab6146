// A new layer from a directory (commit): packed as a tar (its sha256 is the diffID),
// gzip-compressed into a blob, then unpacked into the store from that blob, so the stored
// layer is exactly what a puller of the blob gets.
import type { Database } from "bun:sqlite";
import { closeSync, createReadStream, createWriteStream, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { adoptBlob, fileDigest, hasBlob, blobPath } from "./blobs";
import { runMonitor } from "../native/helper";
import { OCI_LAYER_GZIP } from "./media";
import { importLayer, recordLayerBlob } from "./store";

export interface PackedLayer {
  diffId: string;
  digest: string;
  size: number; // compressed bytes
  unpacked: number;
}

/**
 * The tree at `dir` (an overlay upper dir) as an OCI layer tar at `out`, packed by tsd-monitor
 * --pack: fd-relative, symlinks as symlinks, so a running container swapping a directory for
 * a symlink meanwhile cannot put a host file into the layer (zig/unpack/pack.zig).
 */
export async function packDir(dir: string, out: string): Promise<void> {
  const fd = openSync(out, "w", 0o600);
  try {
    await runMonitor(["--pack", "--dir", dir, "--layer", "--xattrs", "--devices"], fd, `cannot pack ${dir}`);
  } finally {
    closeSync(fd);
  }
}

export async function layerFromDir(db: Database, root: string, dir: string, opts: { upper?: boolean } = {}): Promise<PackedLayer> {
  sweepStaleWorkDirs(root);
  const work = makeWorkDir(root, "layer");
  try {
    const tarPath = join(work, "layer.tar");
    await packDir(dir, tarPath);
    const diffId = (await fileDigest(tarPath)).digest;
    const gzPath = join(work, "layer.tar.gz");
    const h = new Bun.CryptoHasher("sha256");
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(createReadStream(tarPath), createGzip(), tap, createWriteStream(gzPath, { mode: 0o600 }));
    const digest = `sha256:${h.digest("hex")}`;
    if (!hasBlob(root, digest)) adoptBlob(root, digest, gzPath);
    const unpacked = importLayer(db, root, blobPath(root, digest), diffId);
    recordLayerBlob(db, diffId, digest, OCI_LAYER_GZIP, size);
    return { diffId, digest, size, unpacked };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
