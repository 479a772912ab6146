// `tsd import`: a tar (plain, gzip or zstd; a file or stdin) as a one-layer image.
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { closeSync, openSync, rmSync, statSync } from "node:fs";
import { writeAllSync } from "../io";
import { onInterrupt } from "../interrupt";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { join } from "node:path";
import { TsdError } from "../errors";
import { rootPaths } from "../store/paths";
import { adoptBlob, fileDigest, hasBlob, putBlob, sha256Hex } from "./blobs";
import { applyChanges } from "./commit";
import { hostArchitecture, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD } from "./media";
import type { Reference } from "./reference";
import { importAnyLayer, putImage, recordLayerBlob, tagImage, type ImageConfig } from "./store";
import { takeLease } from "./lease";

export interface ImportOptions {
  ref?: Reference;
  changes: string[];
  message?: string;
  platform?: string;
}

/** Imports the tar (plain, gzip or zstd) at `file`, already a private copy we may move. */
export async function importTarball(db: Database, root: string, file: string, opts: ImportOptions): Promise<string> {
  const lease = takeLease(root);
  try {
    return await importLeased(db, root, file, opts);
  } finally {
    lease.release();
  }
}

async function importLeased(db: Database, root: string, file: string, opts: ImportOptions): Promise<string> {
  const { digest, size } = await fileDigest(file);
  if (size === 0) throw new TsdError("the tarball to import is empty");
  const { diffId, size: unpacked } = importAnyLayer(db, root, file);
  const magic = new Uint8Array(await Bun.file(file).slice(0, 4).arrayBuffer());
  const mediaType = magic[0] === 0x1f && magic[1] === 0x8b ? OCI_LAYER_GZIP : magic[0] === 0x28 && magic[1] === 0xb5 ? OCI_LAYER_ZSTD : OCI_LAYER;
  if (!hasBlob(root, digest)) adoptBlob(root, digest, file);
  recordLayerBlob(db, diffId, digest, mediaType, size);
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

/**
 * A private copy of the import source under the root's tmp: stdin ("-", a pipe or a file)
 * or a file, copied as a byte stream (a fifo or a pipe as well as a regular file), read
 * asynchronously so that a signal meanwhile removes it at once (src/interrupt.ts). The caller
 * calls cleanup(); until then a signal does.
 */
export async function spoolImport(root: string, source: string): Promise<{ file: string; cleanup: () => void }> {
  if (/^https?:\/\//.test(source)) throw new TsdError(`importing from a URL is not supported: download ${source} first`);
  if (source !== "-") {
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new TsdError(`cannot import "${source}": no such file`);
    }
    if (st.isDirectory()) throw new TsdError(`cannot import "${source}": it is a directory, not a tarball (tar it first: tar -C ${source} -c . | tsd import - NAME)`);
  }
  sweepStaleWorkDirs(root);
  const dir = makeWorkDir(root, "import");
  const file = join(dir, "layer");
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const forget = onInterrupt(remove);
  const cleanup = () => {
    forget();
    remove();
  };
  try {
    await copyStream(source === "-" ? Bun.stdin.stream() : Bun.file(source).stream(), file, source === "-" ? "stdin" : source);
  } catch (e) {
    cleanup();
    throw e;
  }
  return { file, cleanup };
}

async function copyStream(from: ReadableStream<Uint8Array>, path: string, source: string): Promise<void> {
  const to = openSync(path, "w", 0o600);
  try {
    for await (const chunk of from) writeAllSync(to, chunk, path);
  } catch (e) {
    if (e instanceof TsdError) throw e;
    throw new TsdError(`reading ${source} failed: ${(e as Error).message}`);
  } finally {
    closeSync(to);
  }
}
