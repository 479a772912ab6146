// The pull's decoder in front of the unpack child (src/image/layer-stream.ts) and the checks it
// makes over the compressed bytes (src/image/stream-checks.ts): real gzip and zstd streams (Bun's
// encoders and the zstd CLI), cut, flipped and padded as a broken or hostile registry would.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { LayerDecoder, LayerStreamError } from "../../src/image/layer-stream";
import { detectFormat, GzipTail, ZstdFrames } from "../../src/image/stream-checks";

/** Bytes that do not compress much (a tar of binaries), deterministic. */
function noise(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) & 0xff;
    if (i % 7 === 0) out[i] = 0x41; // some redundancy, so inflate has matches to copy
  }
  return out;
}

const data = noise(700_000);
const gz = Bun.gzipSync(data);
const zst = zstdCli(data, []);

function zstdCli(input: Uint8Array, flags: string[]): Uint8Array {
  const r = spawnSync("zstd", ["-q", "-c", ...flags], { input });
  if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Decodes `input` fed in chunks of `step` bytes; the output, or the error `end` threw. */
async function decode(input: Uint8Array, step = 65536): Promise<{ out: Uint8Array; error?: string; format?: string }> {
  const parts: Uint8Array[] = [];
  const d = new LayerDecoder(async (c) => {
    parts.push(new Uint8Array(c));
  });
  try {
    for (let i = 0; i < input.length; i += step) await d.write(input.subarray(i, i + step));
    await d.end();
    return { out: cat(...parts), format: d.format };
  } catch (e) {
    if (!(e instanceof LayerStreamError)) throw e;
    return { out: cat(...parts), error: e.message, format: d.format };
  } finally {
    d.destroy();
  }
}

test("formats are told by magic bytes, as zig/unpack/decompress.zig does", () => {
  expect(detectFormat(gz.subarray(0, 4))).toBe("gzip");
  expect(detectFormat(zst.subarray(0, 4))).toBe("zstd");
  expect(detectFormat(new TextEncoder().encode("etc/"))).toBe("plain");
  expect(detectFormat(new Uint8Array())).toBe("plain");
  expect(detectFormat(zst.subarray(0, 3))).toBe("plain");
});

describe("whole streams come out as they went in", () => {
  test("plain tar passes through, even fed a byte at a time at first", async () => {
    const parts: Uint8Array[] = [];
    const d = new LayerDecoder(async (c) => {
      parts.push(new Uint8Array(c));
    });
    for (let i = 0; i < 3; i++) await d.write(data.subarray(i, i + 1));
    await d.write(data.subarray(3));
    await d.end();
    expect(d.format).toBe("plain");
    expect(Buffer.from(cat(...parts)).equals(Buffer.from(data))).toBe(true);
  });

  test("gzip in chunks of 1, 1000 and 64 KiB bytes, and all at once", async () => {
    for (const step of [1000, 65536, gz.length]) {
      const r = await decode(gz, step);
      expect(r.error).toBeUndefined();
      expect(r.format).toBe("gzip");
      expect(Buffer.from(r.out).equals(Buffer.from(data))).toBe(true);
    }
    const tiny = Bun.gzipSync(data.subarray(0, 3000));
    expect((await decode(tiny, 1)).out.length).toBe(3000);
  });

  test("concatenated gzip members are one stream; trailing zero bytes are ignored, as gzip(1) does", async () => {
    const two = await decode(cat(gz, Bun.gzipSync(data.subarray(0, 1000))));
    expect(two.error).toBeUndefined();
    expect(two.out.length).toBe(data.length + 1000);
    const zeros = await decode(cat(gz, new Uint8Array(5000)));
    expect(zeros.error).toBeUndefined();
    expect(zeros.out.length).toBe(data.length);
  });

  test("zstd: one frame, frames back to back, a skippable frame between, no checksum", async () => {
    expect(Buffer.from((await decode(zst)).out).equals(Buffer.from(data))).toBe(true);
    const skippable = cat(new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]));
    const r = await decode(cat(zst, skippable, zstdCli(data.subarray(0, 999), ["--no-check"])), 777);
    expect(r.error).toBeUndefined();
    expect(r.out.length).toBe(data.length + 999);
    const fromBun = await decode(Bun.zstdCompressSync(data));
    expect(fromBun.out.length).toBe(data.length);
  });
});

describe("a broken stream is an error at the end, after what came before it was delivered", () => {
  test("gzip: truncated, checksum and length trailer, corrupt data", async () => {
    expect((await decode(gz.subarray(0, gz.length - 20))).error).toBe("gzip stream is truncated");
    expect((await decode(gz.subarray(0, 100))).error).toBe("gzip stream is truncated");
    const crc = Buffer.from(gz);
    crc[gz.length - 6]! ^= 0xff;
    expect((await decode(crc)).error).toBe("gzip checksum mismatch (corrupt data)");
    const len = Buffer.from(gz);
    len[gz.length - 2]! ^= 0xff;
    expect((await decode(len)).error).toBe("gzip length mismatch (corrupt data)");
    const mid = Buffer.from(gz);
    mid[gz.length >> 1]! ^= 0x55;
    expect((await decode(mid)).error).toMatch(/^gzip (stream is corrupt \(.+\)|checksum mismatch \(corrupt data\))$/);
  });

  test("gzip: trailing garbage, right after the member or after zero bytes", async () => {
    expect((await decode(cat(gz, new TextEncoder().encode("trailing junk")))).error).toMatch(/^(trailing garbage after gzip stream|gzip stream is corrupt \(.*\))$/);
    expect((await decode(cat(gz, new Uint8Array(100), new TextEncoder().encode("junk")))).error).toBe("trailing garbage after gzip stream");
    expect((await decode(cat(gz, new Uint8Array(100), gz))).error).toBe("trailing garbage after gzip stream");
    // A lone first byte of a next member is a truncated member.
    expect((await decode(cat(gz, new Uint8Array([0x1f])))).error).toBe("gzip stream is truncated");
  });

  test("zstd: cut anywhere inside a frame, garbage after it, corrupt data", async () => {
    for (const cut of [6, 12, 200, zst.length >> 1, zst.length - 4, zst.length - 1]) {
      expect((await decode(zst.subarray(0, cut), 4096)).error).toBe("zstd stream is truncated");
    }
    expect((await decode(cat(zst, new Uint8Array(8)))).error).toBe("trailing garbage after zstd stream");
    expect((await decode(cat(zst, new TextEncoder().encode("junk!")))).error).toBe("trailing garbage after zstd stream");
    const sum = Buffer.from(zst);
    sum[zst.length - 2]! ^= 0xff;
    expect((await decode(sum)).error).toBe("zstd checksum mismatch (corrupt data)");
    const mid = Buffer.from(zst);
    mid[zst.length >> 1]! ^= 0x55;
    expect((await decode(mid)).error).toMatch(/^zstd (stream is corrupt \(.+\)|checksum mismatch \(corrupt data\))$/);
  });

  test("zstd: a window over 128 MiB is refused before anything is allocated for it", async () => {
    // Frame header: no single segment, window descriptor 2^31 (exponent 21), one empty last raw block.
    const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00]);
    expect((await decode(frame)).error).toMatch(/^zstd stream is corrupt \(.*(memory|window).*\)$/i);
  });

  test("after a decoding error the rest is taken and dropped (the download goes on to its digest check)", async () => {
    const crc = Buffer.from(cat(gz, gz));
    crc[gz.length - 6]! ^= 0xff;
    const d = new LayerDecoder(async () => {});
    for (let i = 0; i < crc.length; i += 1000) await d.write(crc.subarray(i, i + 1000));
    await expect(d.end()).rejects.toThrow("gzip checksum mismatch (corrupt data)");
  });
});

describe("the sink", () => {
  test("its error comes back from the next write or the end", async () => {
    const boom = new Error("the unpacker died");
    for (const [input, step] of [
      [gz, 65536],
      [zst, 65536],
      [data, 1000],
    ] as const) {
      const d = new LayerDecoder(async () => {
        throw boom;
      });
      const run = async () => {
        for (let i = 0; i < input.length; i += step) await d.write(input.subarray(i, i + step));
        await d.end();
      };
      await expect(run()).rejects.toBe(boom);
      d.destroy();
    }
  });

  test("a sink that stops taking bytes stops the decoder after a bounded amount (memory stays bounded)", async () => {
    const big = new Uint8Array(24 << 20);
    for (let i = 0; i < big.length; i += 65536) crypto.getRandomValues(big.subarray(i, i + 65536));
    const input = Bun.gzipSync(big, { level: 1 }); // incompressible: as many bytes in as out
    let delivered = 0;
    const d = new LayerDecoder(async (c) => {
      delivered += c.length;
      if (delivered > 1 << 20) await new Promise(() => {}); // never again
    });
    let accepted = 0;
    for (let i = 0; i < input.length; i += 65536) {
      const w = d.write(input.subarray(i, i + 65536));
      const blocked = await Promise.race([w.then(() => false), Bun.sleep(300).then(() => true)]);
      if (blocked) break;
      accepted += 65536;
    }
    d.destroy();
    console.log(`layer-stream.test: ${accepted >> 10} KiB taken after the sink stopped at 1 MiB`);
    expect(accepted).toBeLessThan(8 << 20);
  }, 30000);
});

test("GzipTail and ZstdFrames over bytes split anywhere", () => {
  const t = new GzipTail();
  t.update(new Uint8Array([1, 2, 0]));
  t.update(new Uint8Array([0, 0]));
  expect(t.garbageAfter(2)).toBe(false);
  expect(t.garbageAfter(1)).toBe(true);
  for (const step of [1, 2, 3, 5, 4096]) {
    const f = new ZstdFrames();
    for (let i = 0; i < zst.length; i += step) f.update(zst.subarray(i, i + step));
    expect(f.complete()).toBe(true);
    f.update(zst.subarray(0, 5));
    expect(f.complete()).toBe(false);
    expect(f.error).toBeUndefined();
  }
  const reserved = new ZstdFrames();
  reserved.update(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x08]));
  expect(reserved.error).toMatch(/reserved bit/);
});
