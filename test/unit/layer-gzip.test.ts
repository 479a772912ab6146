// gzipFile (src/image/layer.ts): a committed layer's blob as gzip members of GZIP_MEMBER bytes
// of tar each; every gzip reader must get the tar back whole: gzip(1), zlib, and the sizes at
// the member boundaries (empty, one byte, exactly one member, one member and a byte).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { gzipFile, GZIP_MEMBER } from "../../src/image/layer";

const dir = mkdtempSync("/tmp/tsd-unit-gzip-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

for (const n of [0, 1, GZIP_MEMBER, GZIP_MEMBER + 1, 2 * GZIP_MEMBER + 12345]) {
  test(`${n} bytes come back whole, the digest and size are the blob's`, async () => {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) data[i] = (i * 2654435761) >>> 24; // some, not all, compressible
    const src = join(dir, `in-${n}`);
    const dest = join(dir, `out-${n}.gz`);
    writeFileSync(src, data);
    const { digest, size } = await gzipFile(src, dest);
    const blob = readFileSync(dest);
    expect(size).toBe(blob.length);
    expect(digest).toBe(`sha256:${sha(blob)}`);
    expect(blob.length).toBeGreaterThan(0);
    expect(sha(gunzipSync(blob))).toBe(sha(data)); // zlib reads every member
    const r = Bun.spawnSync(["gzip", "-dc", dest], { stdout: "pipe" }); // and gzip(1)
    expect(r.exitCode).toBe(0);
    expect(sha(r.stdout)).toBe(sha(data));
  });
}
