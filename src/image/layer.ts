// A new layer from a directory (commit, build): packed as a tar whose sha256 is the diffID.
// That tar is the layer's blob, kept uncompressed (OCI's application/vnd.oci.image.layer.v1.tar,
// its digest = its diffID), as Docker keeps the layers it commits: compression happens when
// the layer leaves the machine (`push` gzips it, registry/push.ts), never on a build's path.
// The store's copy is unpacked from the same file (the unpacker checks its sha256 against the
// diffID, so the stored layer is exactly what a reader of the blob gets), or is the packed tree
// itself when the caller gives it away (a build's staged COPY: layerFromDir's `adopt`).
import type { Database } from "bun:sqlite";
import { chmodSync, closeSync, openSync, readSync, renameSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { adoptBlob, blobPath, fileDigest, hasBlob } from "./blobs";
import { runMonitor } from "../native/helper";
import { packLayer } from "../native/ffi";
import { DOCKER_LAYER, OCI_LAYER, OCI_LAYER_GZIP } from "./media";
import { takeLease } from "./lease";
import { commitLayerStaging, hasLayer, importLayer, layerBlobs, newLayerStaging, recordLayerBlob, removeStaleStaging } from "./store";

export interface PackedLayer {
  diffId: string;
  digest: string;
  size: number; // the blob's bytes (the tar's)
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

/**
 * The tree at `dir` as a new layer: its tar becomes the blob (moved into the store by a rename,
 * so a killed command never leaves a partial blob) and is recorded before the store's copy is
 * made; the image and the build cache that name the layer are written after both. The store's
 * copy is unpacked from the tar, or with `adopt` (a tree the caller made and gives away, such as
 * a build's staged COPY, on the store's filesystem) is `dir` itself, renamed into place.
 * `settled`: nothing can write the tree any more (a build's staged COPY, a finished RUN's upper
 * dir): it is packed in this process (libtsd, digest taken as it is written) instead of by a
 * helper, which a live container's upper dir needs.
 */
export async function layerFromDir(db: Database, root: string, dir: string, opts: { adopt?: boolean; settled?: boolean } = {}): Promise<PackedLayer> {
  sweepStaleWorkDirs(root);
  removeStaleStaging(root);
  const work = makeWorkDir(root, "layer");
  try {
    const tarPath = join(work, "layer.tar");
    const { digest: diffId, size } = opts.settled ? packLayer(dir, tarPath) : await packAndDigest(dir, tarPath);
    const blob = hasBlob(root, diffId, size) ? blobPath(root, diffId) : adoptBlob(root, diffId, tarPath);
    recordLayerBlob(db, diffId, diffId, OCI_LAYER, size);
    const unpacked = opts.adopt && !hasLayer(db, root, diffId) ? adoptLayerDir(db, root, dir, diffId, size) : importLayer(db, root, blob, diffId);
    return { diffId, digest: diffId, size, unpacked };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function packAndDigest(dir: string, tarPath: string): Promise<{ digest: string; size: number }> {
  await packDir(dir, tarPath);
  return fileDigest(tarPath);
}

/** `dir` moved into the store as the layer `diffId` (its tar `size` bytes, the size unpack counts). */
function adoptLayerDir(db: Database, root: string, dir: string, diffId: string, size: number): number {
  const staging = newLayerStaging(root);
  try {
    rmdirSync(join(staging, "diff"));
    renameSync(dir, join(staging, "diff"));
    // The layer's own directory as an unpacked one's: the packed tar has no entry for it.
    chmodSync(join(staging, "diff"), 0o755);
    return commitLayerStaging(db, root, staging, diffId, size);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * A compressed blob of the stored layer `diffId` for a registry: one recorded already (pulled,
 * or gzipped by an earlier push), else its uncompressed blob gzipped now into the store and
 * recorded beside it, so the next push sends the same bytes. Undefined when the layer has no
 * stored blob at all.
 */
export async function compressedLayerBlob(db: Database, root: string, diffId: string): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
  const blobs = layerBlobs(db, diffId).filter((b) => hasBlob(root, b.digest));
  const packed = blobs.find((b) => !isUncompressedLayer(b.mediaType));
  if (packed) return packed;
  const plain = blobs[0];
  if (!plain) return undefined;
  const work = makeWorkDir(root, "layer");
  // The gzip blob is in the store a moment before its row: no collection meanwhile.
  const lease = takeLease(root);
  try {
    const gzPath = join(work, "layer.tar.gz");
    const { digest, size } = await gzipFile(blobPath(root, plain.digest), gzPath);
    if (!hasBlob(root, digest, size)) adoptBlob(root, digest, gzPath);
    recordLayerBlob(db, diffId, digest, OCI_LAYER_GZIP, size);
    return { digest, mediaType: OCI_LAYER_GZIP, size };
  } finally {
    lease.release();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A layer media type of a plain tar (OCI's, Docker's). */
export function isUncompressedLayer(mediaType: string): boolean {
  return mediaType === OCI_LAYER || mediaType === DOCKER_LAYER;
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
