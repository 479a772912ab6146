// A layer's bytes (pulled, loaded or imported: layer-unpack.ts) on their way to the unpack
// child: gzip and zstd are inflated here, with the zlib and zstd Bun embeds (node:zlib streams:
// the work runs on Bun's thread pool, not the JS thread, ~3× the speed of zig/unpack's
// std.compress), so the child gets plain tar and spends its core on sha256 (the diffID) and
// the writes. The format is told by magic bytes, as
// the Zig side does, not by the media type (registries mislabel). What the decoders do not check
// themselves (trailing bytes, zstd framing) is checked here over the compressed bytes
// (stream-checks.ts). Backpressure runs end to end: a slow unpack slows the inflate, and a
// slow inflate slows the download.
// node:zlib is required where a decoder starts: a static import of it (and of node:stream, which
// it loads) costs every tsd command ~5 ms of CPU at start-up, pull or not.
import type * as Zlib from "node:zlib";
import { DETECT_LEN, detectFormat, GzipTail, ZstdFrames, type LayerFormat } from "./stream-checks";

/** Output chunks of 256 KiB: zlib's default 16 KiB doubles the inflate's CPU time in
 *  callbacks; 1 MiB saves little more and leaves more garbage between collections (peak RSS). */
const CHUNK = 256 << 10;
/** zstd's own default limit (2^27, 128 MiB), the one zig/unpack/decompress.zig keeps too. */
const ZSTD_WINDOW_LOG_MAX = 27;
/** Uncompressed bytes handed out but not yet taken by the sink, at most (plus one chunk). */
const IN_FLIGHT = 4 * CHUNK;

/** The compressed stream is corrupt, truncated or followed by garbage: `message` says which. */
export class LayerStreamError extends Error {}

type Decoder = Zlib.Gunzip | Zlib.ZstdDecompress;

export class LayerDecoder {
  format: LayerFormat | undefined;
  private head: Uint8Array[] = [];
  private headLen = 0;
  private z: Decoder | undefined;
  private gzipTail: GzipTail | undefined;
  private zstdFrames: ZstdFrames | undefined;
  private decodeError: LayerStreamError | undefined;
  private sinkError: unknown;
  private delivering: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** Resolved when the decoder ended, failed or was stopped by the sink. */
  private readonly done = Promise.withResolvers<void>();

  /** `sink` receives the uncompressed bytes, one call at a time; when it throws, the next
   *  write (or end) throws the same. */
  constructor(private readonly sink: (chunk: Uint8Array) => Promise<void>) {}

  /** Feeds compressed bytes. A corrupt stream does not throw here: the rest is dropped and
   *  `end` says what was wrong (so the download still completes and its digest is checked). */
  async write(chunk: Uint8Array): Promise<void> {
    this.throwSinkError();
    if (this.format === undefined) {
      this.head.push(chunk);
      this.headLen += chunk.length;
      if (this.headLen < DETECT_LEN) return;
      chunk = Buffer.concat(this.head);
      this.head = [];
      this.begin(detectFormat(chunk));
    }
    if (this.format === "plain") return this.sink(chunk);
    await this.feed(chunk);
  }

  /** The end of the compressed stream: resolves once every uncompressed byte went to the sink
   *  and the stream was whole. */
  async end(): Promise<void> {
    if (this.format === undefined) {
      const rest = Buffer.concat(this.head);
      this.head = [];
      this.begin(detectFormat(rest));
      if (rest.length > 0) await this.write(rest);
    }
    this.throwSinkError();
    const z = this.z;
    if (!z) return;
    if (!this.decodeError) {
      z.end();
      await this.done.promise;
      await this.delivering;
    }
    this.throwSinkError();
    if (this.decodeError) throw this.decodeError;
    this.checkEnd(z);
  }

  destroy(): void {
    this.z?.destroy();
  }

  private begin(format: LayerFormat): void {
    this.format = format;
    if (format === "plain") return;
    const zlib = require("node:zlib") as typeof Zlib;
    const z = format === "gzip" ? zlib.createGunzip({ chunkSize: CHUNK }) : zlib.createZstdDecompress({ chunkSize: CHUNK, params: { [zlib.constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX } });
    if (format === "gzip") this.gzipTail = new GzipTail();
    else this.zstdFrames = new ZstdFrames();
    z.on("data", (c: Buffer) => this.deliver(z, c));
    z.on("error", (e: Error) => this.failDecode(describe(format, e)));
    z.on("end", () => this.done.resolve());
    this.z = z;
  }

  private async feed(chunk: Uint8Array): Promise<void> {
    if (this.decodeError) return;
    this.gzipTail?.update(chunk);
    const frames = this.zstdFrames;
    if (frames) {
      frames.update(chunk);
      if (frames.error) return this.failDecode(frames.error);
    }
    const z = this.z!;
    if (z.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const go = () => {
        z.off("drain", go).off("close", go);
        resolve();
      };
      z.on("drain", go).on("close", go);
    });
    this.throwSinkError();
  }

  /** One uncompressed chunk to the sink, in order; the decoder pauses while more than
   *  IN_FLIGHT bytes wait for it, so that inflating and unpacking overlap, with bounded memory. */
  private deliver(z: Decoder, c: Buffer): void {
    this.inFlight += c.length;
    if (this.inFlight > IN_FLIGHT) z.pause();
    this.delivering = this.delivering.then(() =>
      this.sinkError !== undefined
        ? undefined
        : this.sink(c).then(
        () => {
          this.inFlight -= c.length;
          if (z.isPaused() && this.inFlight <= IN_FLIGHT) z.resume();
        },
        (e: unknown) => {
          this.sinkError ??= e;
          z.destroy();
          this.done.resolve();
        },
      ),
    );
  }

  private failDecode(text: string): void {
    this.decodeError ??= new LayerStreamError(text);
    this.z?.destroy();
    this.done.resolve();
  }

  private throwSinkError(): void {
    if (this.sinkError !== undefined) throw this.sinkError;
  }

  private checkEnd(z: Decoder): void {
    if (this.gzipTail?.garbageAfter(z.bytesWritten)) throw new LayerStreamError("trailing garbage after gzip stream");
    const frames = this.zstdFrames;
    if (frames && !frames.complete()) throw new LayerStreamError(frames.error ?? "zstd stream is truncated");
  }
}

/** One line for a decoder's error, in decompress.zig's words where they name the same thing. */
export function describe(format: LayerFormat, e: Error): string {
  const m = e.message;
  if (format === "gzip") {
    if (/unexpected end of file/i.test(m)) return "gzip stream is truncated";
    if (/incorrect data check/i.test(m)) return "gzip checksum mismatch (corrupt data)";
    if (/incorrect length check/i.test(m)) return "gzip length mismatch (corrupt data)";
    return `gzip stream is corrupt (${m})`;
  }
  if (/checksum/i.test(m)) return "zstd checksum mismatch (corrupt data)";
  return `zstd stream is corrupt (${m})`;
}
