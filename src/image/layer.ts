// A new layer from a directory (commit): packed as a tar (its sha256 is the diffID),
// gzip-compressed into a blob, then unpacked into the store from that blob, so the stored
// layer is exactly what a puller of the blob gets.
import type { Database } from "bun:sqlite";
import { closeSync, createReadStream, createWriteStream, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { adoptBlob, hasBlob, blobPath } from "./blobs";
import { OCI_LAYER_GZIP } from "./media";
import { importLayer, recordLayerBlob } from "./store";
import { packLayerDir, TarWriter } from "./tar";

export interface PackedLayer {
  diffId: string;
  digest: string;
  size: number; // compressed bytes
  unpacked: number;
}

export async function layerFromDir(db: Database, root: string, dir: string, opts: { upper?: boolean } = {}): Promise<PackedLayer> {
  sweepStaleWorkDirs(root);
  const work = makeWorkDir(root, "layer");
  try {
    const tarPath = join(work, "layer.tar");
    const fd = openSync(tarPath, "w", 0o600);
    const diff = new Bun.CryptoHasher("sha256");
    try {
      const tw = new TarWriter((c) => {
        diff.update(c);
        let off = 0;
        while (off < c.length) off += writeSync(fd, c, off);
      });
      packLayerDir(dir, tw, opts);
      tw.end();
    } finally {
      closeSync(fd);
    }
    const diffId = `sha256:${diff.digest("hex")}`;
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
