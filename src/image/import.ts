// `tsd import`: a tar (plain, gzip or zstd; a file or stdin) as a one-layer image. The bytes
// stream once: kept as the layer's blob (a private copy under the root's tmp), hashed, and
// unpacked as they arrive (layer-unpack.ts, the path pull takes: inflated in this process,
// extracted by a child), so that a signal meanwhile is acted on at once (src/interrupt.ts).
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import { writeAllSync } from "../io";
import { onInterrupt } from "../interrupt";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { join } from "node:path";
import { TsdError } from "../errors";
import { adoptBlob, hasBlob, putBlob, sha256Hex } from "./blobs";
import { applyChanges } from "./commit";
import { hostArchitecture, LAYER_MEDIA_TYPES } from "./media";
import type { Reference } from "./reference";
import { commitLayerStaging, putImage, recordLayerBlob, removeStaleStaging, tagImage, type ImageConfig } from "./store";
import { takeLease, type Lease } from "./lease";
import { EmptyLayerError, LayerUnpack, streamLayer, unpackerMessage, type StreamedLayer } from "./layer-unpack";
import { LayerStreamError } from "./layer-stream";

export interface ImportOptions {
  ref?: Reference;
  changes: string[];
  message?: string;
  platform?: string;
}

/** Imports the tar (plain, gzip or zstd) at `source`, a file or "-" for stdin; returns the
 *  image id. A refused or interrupted import leaves no layer, blob, row or scratch file. */
export async function importTarball(db: Database, root: string, source: string, opts: ImportOptions): Promise<string> {
  const label = checkSource(source);
  sweepStaleWorkDirs(root);
  removeStaleStaging(root);
  const work = makeWorkDir(root, "import");
  const u = new LayerUnpack(root);
  let lease: Lease | undefined;
  const forget = onInterrupt(() => {
    u.abandon();
    rmSync(work, { recursive: true, force: true });
    lease?.release();
  });
  try {
    const file = join(work, "layer");
    const layer = await spoolAndUnpack(u, source, file, label);
    // From the layer's row to the image's, garbage collection must leave the layer alone.
    lease = takeLease(root);
    const unpacked = commitLayerStaging(db, root, u.staging!, layer.diffId, layer.size);
    if (!hasBlob(root, layer.digest)) adoptBlob(root, layer.digest, file);
    recordLayerBlob(db, layer.diffId, layer.digest, LAYER_MEDIA_TYPES[layer.format], layer.bytes);
    return storeImportedImage(db, root, layer.diffId, unpacked, opts);
  } finally {
    forget();
    await u.stop();
    rmSync(work, { recursive: true, force: true });
    lease?.release();
  }
}

/** The source's name for messages, once it is known to be readable as a stream. */
function checkSource(source: string): string {
  if (/^https?:\/\//.test(source)) throw new TsdError(`importing from a URL is not supported: download ${source} first`);
  if (source === "-") return "stdin";
  let st;
  try {
    st = statSync(source);
  } catch {
    throw new TsdError(`cannot import "${source}": no such file`);
  }
  if (st.isDirectory()) throw new TsdError(`cannot import "${source}": it is a directory, not a tarball (tar it first: tar -C ${source} -c . | tsd import - NAME)`);
  return `"${source}"`;
}

/** `source`'s bytes into `file` (a fifo or a pipe as well as a regular file) and, as they
 *  pass, into `u`'s staging directory. */
async function spoolAndUnpack(u: LayerUnpack, source: string, file: string, label: string): Promise<StreamedLayer> {
  const to = openSync(file, "w", 0o600);
  try {
    return await streamLayer(u, readSource(source === "-" ? Bun.stdin.stream() : Bun.file(source).stream(), label), (c) => writeAllSync(to, c, file));
  } catch (e) {
    if (e instanceof EmptyLayerError) throw new TsdError("the tarball to import is empty");
    if (e instanceof LayerStreamError) throw new TsdError(`cannot import ${label}: ${e.message}: the tarball is corrupt`);
    if (e instanceof TsdError) throw new TsdError(`cannot import ${label}: ${unpackerMessage(e.message)}`, e.exitCode);
    throw e;
  } finally {
    closeSync(to);
  }
}

/** The stream's chunks; a read that fails is one line naming the source. */
async function* readSource(from: ReadableStream<Uint8Array>, label: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const c of from) yield c;
  } catch (e) {
    throw new TsdError(`reading ${label} failed: ${(e as Error).message}`);
  }
}

function storeImportedImage(db: Database, root: string, diffId: string, unpacked: number, opts: ImportOptions): string {
  const now = new Date().toISOString();
  const config: ImageConfig = {
    created: now,
    architecture: hostArchitecture(),
    os: "linux",
    config: applyChanges({}, opts.changes),
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created: now, created_by: "tsd import", ...(opts.message ? { comment: opts.message } : {}) }],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256Hex(bytes);
  putBlob(root, `sha256:${id}`, bytes);
  db.transaction(() => {
    putImage(db, id, config, unpacked);
    imageEvent(db, "import", `sha256:${id}`, `sha256:${id}`);
    if (opts.ref) tagImage(db, opts.ref, id, true);
  }).immediate();
  return id;
}
