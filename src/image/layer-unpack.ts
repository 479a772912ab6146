// A layer's bytes (gzip, zstd or plain tar, told by magic bytes) into a new staging directory of
// the store: inflated in this process (layer-stream.ts: Bun's zlib and zstd on its thread pool,
// with the checks they skip, stream-checks.ts) while a `tsd image unpack --plain` child
// (unpack-child.ts) hashes the tar (the diffID) and extracts it. One path for pull (bytes as
// they download), load (the layer files of an archive) and import (a tarball from a file or
// stdin). The caller commits the staging (store.ts commitLayerStaging) once the digests are
// right, or stops it: a stopped unpack leaves no directory and no process.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { UnpackChild } from "./unpack-child";
import { LayerDecoder, LayerStreamError } from "./layer-stream";
import type { LayerFormat } from "./stream-checks";
import { newLayerStaging } from "./store";

/** Writing to the unpack process failed: its own error is the one to report (`explain`). */
export class UnpackFeedError extends Error {}

/** A layer's unpack process, the staging directory it writes into and the decoder in front
 *  of it, made again by `start` (a pull's download that starts over). */
export class LayerUnpack {
  staging: string | undefined;
  child: UnpackChild | undefined;
  decoder: LayerDecoder | undefined;
  /** `children`: where the running child is listed, for a caller that kills them all at once. */
  constructor(
    private readonly root: string,
    private readonly children?: Set<UnpackChild>,
  ) {}

  start(): void {
    this.staging = newLayerStaging(this.root);
    const child = new UnpackChild(this.root, join(this.staging, "diff"));
    this.child = child;
    this.children?.add(child);
    this.decoder = new LayerDecoder(async (c) => {
      try {
        await child.write(c);
      } catch (e) {
        throw new UnpackFeedError((e as Error).message);
      }
    });
  }

  /** Kills the child, waits for it and removes the staging directory (committed or not). */
  async stop(): Promise<void> {
    const child = this.child;
    this.abandon();
    if (child) {
      await child.exited;
      // Anything it wrote between the removal above and its death.
      if (this.staging) rmSync(this.staging, { recursive: true, force: true });
    }
    this.child = undefined;
    this.decoder = undefined;
    this.staging = undefined;
  }

  /** `stop` without waiting: for a signal handler, which must be synchronous. The next
   *  command sweeps what the dying child may still write (store.ts removeStaleStaging). */
  abandon(): void {
    this.decoder?.destroy();
    if (this.child) {
      this.child.kill();
      this.children?.delete(this.child);
    }
    if (this.staging) rmSync(this.staging, { recursive: true, force: true });
  }

  /** Compressed bytes of the layer, in order. */
  write(c: Uint8Array): Promise<void> {
    return this.decoder!.write(c);
  }

  async feedFile(path: string): Promise<void> {
    for await (const c of Bun.file(path).stream()) await this.write(c);
  }

  /** The format the decoder found (after the first bytes). */
  get format(): LayerFormat | undefined {
    return this.decoder?.format;
  }

  /** The end of the layer: the stream checked whole (a LayerStreamError says what is wrong
   *  with it), then what the unpacker measured. */
  async finish(): Promise<{ size: number; diffId: string }> {
    await this.decoder!.end();
    return this.child!.finish();
  }

  /** The error to report for `e`: when feeding the child failed, the child's own (it refused
   *  the stream first, and says why better than the broken pipe the feeding then hit). */
  async explain(e: unknown): Promise<unknown> {
    if (!(e instanceof UnpackFeedError) || !this.child) return e;
    const err = await this.child.finish().then(
      () => undefined,
      (x: unknown) => x,
    );
    return err instanceof Error ? err : e;
  }
}

/** The layer stream had no bytes at all. */
export class EmptyLayerError extends LayerStreamError {}

export interface StreamedLayer {
  /** sha256 of the bytes as they came (the blob's digest), their count and format. */
  digest: string;
  bytes: number;
  format: LayerFormat;
  /** What the unpacker measured: the tar's size and sha256 (the diffID). */
  size: number;
  diffId: string;
}

/**
 * The bytes of `source` unpacked by `u` (started here) into its staging directory, hashed as
 * they pass; `each` sees every chunk first (an import keeps them as the blob). Empty input is
 * a LayerStreamError of its own kind (EmptyLayerError). On failure the caller stops `u`.
 */
export async function streamLayer(u: LayerUnpack, source: AsyncIterable<Uint8Array>, each?: (c: Uint8Array) => void): Promise<StreamedLayer> {
  const h = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  u.start();
  try {
    for await (const c of source) {
      h.update(c);
      bytes += c.length;
      each?.(c);
      await u.write(c);
    }
    if (bytes === 0) throw new EmptyLayerError("it is empty");
    const r = await u.finish();
    return { digest: `sha256:${h.digest("hex")}`, bytes, format: u.format ?? "plain", ...r };
  } catch (e) {
    throw await u.explain(e);
  }
}

/** The unpacker's message about a stream it read on stdin, without its `layer "-": ` (the
 *  caller names the layer better). */
export function unpackerMessage(m: string): string {
  return m.replace(/^layer "-": /, "");
}
