// What Bun's zlib and zstd do not check about a compressed layer, checked over the compressed
// bytes as they pass (src/image/layer-stream.ts): gzip's trailing bytes (zlib stops at a member
// followed by a zero byte and ignores the rest; gzip(1) and decompress.zig accept trailing
// zeros only) and zstd's framing (Bun's zstd ends without an error on a stream cut off inside
// a frame, and ignores whatever follows the last frame). Pure: no I/O.

/** Layer formats, by magic bytes as zig/unpack/decompress.zig detects them. */
export type LayerFormat = "plain" | "gzip" | "zstd";

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/** The bytes a format needs to be told apart: zstd's magic is 4 bytes. */
export const DETECT_LEN = 4;

export function detectFormat(head: Uint8Array): LayerFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && readU32(head, 0) === ZSTD_MAGIC) return "zstd";
  return "plain";
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Where the last non-zero byte of a gzip stream ends: past what zlib consumed, the bytes
 *  after the last member are garbage unless all zero. */
export class GzipTail {
  private seen = 0;
  private lastNonZeroEnd = 0;

  update(chunk: Uint8Array): void {
    // Compressed data rarely ends in a zero byte: this stops at once but for a run of zeros.
    for (let i = chunk.length - 1; i >= 0; i--) {
      if (chunk[i] !== 0) {
        this.lastNonZeroEnd = this.seen + i + 1;
        break;
      }
    }
    this.seen += chunk.length;
  }

  /** Whether anything but zero bytes follows the `consumed` bytes zlib read. */
  garbageAfter(consumed: number): boolean {
    return this.lastNonZeroEnd > consumed;
  }
}

type ZstdStep = "magic" | "skippable" | "descriptor" | "header" | "block";

/**
 * zstd's frame structure (RFC 8878 §3.1) followed over the compressed bytes: frames and
 * skippable frames back to back, each frame a header and blocks up to the last one and its
 * optional checksum. Block contents are skipped, not decoded (that is zstd's work). `error`
 * says what is wrong once something is; `complete()` whether the stream ended between frames.
 */
export class ZstdFrames {
  error: string | undefined;
  private readonly head = new Uint8Array(14);
  private have = 0;
  private want = 4;
  private skip = 0;
  private step: ZstdStep = "magic";
  private frames = 0;
  private checksum = false;

  update(chunk: Uint8Array): void {
    let i = 0;
    // Each pass skips or collects at least one byte, or stops at an error.
    while (i < chunk.length && this.error === undefined) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(this.want - this.have, chunk.length - i);
      this.head.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === this.want) {
        this.have = 0;
        this.advance();
      }
    }
  }

  /** True when the stream ended after a whole frame, between frames. */
  complete(): boolean {
    return this.error === undefined && this.frames > 0 && this.step === "magic" && this.have === 0 && this.skip === 0;
  }

  private advance(): void {
    const h = this.head;
    switch (this.step) {
      case "magic":
        return this.onMagic(readU32(h, 0));
      case "skippable":
        this.skip = readU32(h, 0);
        return this.expect("magic", 4);
      case "descriptor":
        return this.onDescriptor(h[0]!);
      case "header":
        return this.expect("block", 3);
      case "block":
        return this.onBlock(h[0]! | (h[1]! << 8) | (h[2]! << 16));
    }
  }

  private expect(step: ZstdStep, n: number): void {
    this.step = step;
    this.want = n;
  }

  private onMagic(magic: number): void {
    if (magic === ZSTD_MAGIC) {
      this.frames++;
      return this.expect("descriptor", 1);
    }
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) return this.expect("skippable", 4);
    this.error = this.frames === 0 ? "not a zstd frame" : "trailing garbage after zstd stream";
  }

  /** Frame_Header_Descriptor: sizes of the header fields after it. */
  private onDescriptor(d: number): void {
    if (d & 0x08) {
      this.error = "zstd frame header has its reserved bit set (corrupt data)";
      return;
    }
    const single = (d & 0x20) !== 0;
    const fcs = [single ? 1 : 0, 2, 4, 8][d >> 6]!;
    const dict = [0, 1, 2, 4][d & 0x03]!;
    this.checksum = (d & 0x04) !== 0;
    const rest = (single ? 0 : 1) + dict + fcs;
    if (rest === 0) return this.expect("block", 3);
    this.expect("header", rest);
  }

  /** Block_Header: last flag, type, size; the block's bytes are skipped. */
  private onBlock(header: number): void {
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) {
      this.error = "zstd block of the reserved type (corrupt data)";
      return;
    }
    this.skip = type === 1 ? 1 : size;
    if (!last) return this.expect("block", 3);
    if (this.checksum) this.skip += 4;
    this.expect("magic", 4);
  }
}
