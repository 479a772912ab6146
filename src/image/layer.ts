// A new layer from a directory (commit, build): packed as a tar (its sha256 is the diffID),
// unpacked into the store from that tar (the unpacker checks its sha256 against the diffID, so
// the stored layer is exactly what a puller of the blob gets), and gzip-compressed into the blob.
import type { Database } from "bun:sqlite";
import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { adoptBlob, fileDigest, hasBlob } from "./blobs";
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
    // From the plain tar, not the blob: the same bytes, without inflating what was just deflated.
    const unpacked = importLayer(db, root, tarPath, diffId);
    const gzPath = join(work, "layer.tar.gz");
    const { digest, size } = await gzipFile(tarPath, gzPath);
    if (!hasBlob(root, digest)) adoptBlob(root, digest, gzPath);
    recordLayerBlob(db, diffId, digest, OCI_LAYER_GZIP, size);
    return { diffId, digest, size, unpacked };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Bytes of tar per gzip member (each compressed in one call: bounded memory for any layer). */
export const GZIP_MEMBER = 8 << 20;
/** libdeflate's level 4: the size zlib's default (6) gives, in about half its time. */
const GZIP_LEVEL = 4;

/**
 * `src` gzip-compressed into `dest` as members of GZIP_MEMBER input bytes each (RFC 1952 allows
 * several; Go's, zlib's, Python's and tsd's readers take them as one stream), with libdeflate
 * (Bun's gzipSync): about twice zlib's speed at the same size. Returns the blob's digest and size.
 */
export async function gzipFile(src: string, dest: string): Promise<{ digest: string; size: number }> {
  const h = new Bun.CryptoHasher("sha256");
  const buf = Buffer.allocUnsafe(GZIP_MEMBER);
  const inFd = openSync(src, "r");
  const outFd = openSync(dest, "w", 0o600);
  let size = 0;
  try {
    for (;;) {
      let n = 0;
      while (n < buf.length) {
        const r = readSync(inFd, buf, n, buf.length - n, null);
        if (r === 0) break;
        n += r;
      }
      // An empty tar still gets one member: a blob is never zero bytes.
      if (n === 0 && size > 0) break;
      const gz = Bun.gzipSync(buf.subarray(0, n), { level: GZIP_LEVEL, library: "libdeflate" });
      h.update(gz);
      for (let off = 0; off < gz.length; ) off += writeSync(outFd, gz, off, gz.length - off);
      size += gz.length;
      if (n < buf.length) break;
      await Bun.sleep(0); // other stages of a build go on between members
    }
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
  return { digest: `sha256:${h.digest("hex")}`, size };
}
