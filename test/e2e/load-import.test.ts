// tsd load and tsd import inflate layers as pull does (src/image/layer-unpack.ts: Bun's zlib and
// zstd in the CLI, the unpack child on plain tar, the stream checks of stream-checks.ts): gzip
// (one member or several, trailing zeros), zstd and plain layers load from docker-save and OCI
// layout archives and import from a file and from stdin, and run; a layer whose stream is broken
// (a bad CRC, cut short, garbage after it, compressed twice) is refused with one line, exit 1,
// and leaves nothing: no layer directory or row, no blob, no scratch file, no image, and no
// earlier layer of the same image either. Archives are packed with GNU tar from files written
// here; the layer is the busybox fixture's tar, compressed by Bun's encoders.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { ociLayoutParts, testImages, type TestImages } from "../lib/fixtures";
import { sh, tempDir } from "../lib/registry";

let images: TestImages;
let work: string;
const roots: TestRoot[] = [];
/** The busybox fixture's layer as plain tar and its config (whose diff_id is the tar's sha256). */
let tar: Uint8Array<ArrayBuffer>;
let config: Record<string, unknown>;

beforeAll(async () => {
  images = await testImages();
  work = tempDir("load-import");
  const parts = await ociLayoutParts(images.busyboxOci, work);
  tar = new Uint8Array(Bun.gunzipSync(parts.layer));
  config = JSON.parse(parts.configBytes.toString());
}, 120000);

afterAll(async () => {
  const leaks = roots.flatMap((r) => r.leaks());
  for (const r of roots) await r.destroy();
  rmSync(work, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

function newRoot(label: string): TestRoot {
  const r = new TestRoot(label);
  roots.push(r);
  return r;
}

const sha256 = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const text = (s: string) => new TextEncoder().encode(s);

/** A second layer that is not busybox's: one small file, as a plain tar by GNU tar. */
async function smallLayer(): Promise<Uint8Array> {
  const dir = join(work, "small");
  const out = join(work, "small.tar");
  if (!existsSync(out)) {
    mkdirSync(join(dir, "etc"), { recursive: true });
    writeFileSync(join(dir, "etc", "second"), "second layer\n");
    await sh(["tar", "-C", dir, "-cf", out, "etc"]);
  }
  return new Uint8Array(await Bun.file(out).arrayBuffer());
}

/** The layer stream variants that must load: [name, bytes]. */
function goodVariants(): [string, Uint8Array][] {
  const half = tar.length >> 1;
  return [
    ["gzip", Bun.gzipSync(tar)],
    ["members", cat(Bun.gzipSync(tar.subarray(0, half)), Bun.gzipSync(tar.subarray(half)))],
    ["zeros", cat(Bun.gzipSync(tar), new Uint8Array(512))],
    ["zstd", Bun.zstdCompressSync(tar)],
    ["plain", tar],
  ];
}

/** Broken streams whose bytes are what the archive says (digests right): [name, bytes, why]. */
function brokenVariants(): [string, Uint8Array, RegExp][] {
  const gz = Bun.gzipSync(tar);
  const crc = Buffer.from(gz);
  crc[gz.length - 6]! ^= 0xff;
  const zst = Bun.zstdCompressSync(tar);
  const corrupt = (why: string) => new RegExp(`: ${why.replace(/[()]/g, "\\$&")}: the (archive|tarball) is corrupt$`);
  return [
    ["crc", crc, corrupt("gzip checksum mismatch (corrupt data)")],
    ["gzcut", gz.subarray(0, gz.length - 30), corrupt("gzip stream is truncated")],
    ["gzjunk", cat(gz, new Uint8Array(64), text("junk")), corrupt("trailing garbage after gzip stream")],
    ["zstcut", zst.subarray(0, zst.length - 9), corrupt("zstd stream is truncated")],
    ["zstjunk", cat(zst, text("junk after the frame")), corrupt("trailing garbage after zstd stream")],
    // Inflated once, the unpacker gets gzip bytes for a tar: its own words.
    ["twice", Bun.gzipSync(Bun.gzipSync(tar)), /: bad header checksum \(not a tar archive, or corrupt\) at byte 0$/],
  ];
}

/** A `docker save` archive at `out`: one image `name` of the given layers (their diff_ids in
 *  the config), packed by GNU tar. */
async function dockerArchive(out: string, name: string, layers: { bytes: Uint8Array; diffId: string }[]): Promise<void> {
  const dir = `${out}.d`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cfg = JSON.stringify({ ...config, rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) } });
  writeFileSync(join(dir, "config.json"), cfg);
  layers.forEach((l, i) => writeFileSync(join(dir, `layer${i}.bin`), l.bytes));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: [name], Layers: layers.map((_, i) => `layer${i}.bin`) }]));
  await sh(["tar", "-C", dir, "-cf", out, "."]);
  rmSync(dir, { recursive: true });
}

/** An OCI image layout tar at `out`: one image `name` of one layer, its media type by `format`. */
async function ociArchive(out: string, name: string, layer: Uint8Array, format: "gzip" | "zstd" | "plain"): Promise<void> {
  const dir = `${out}.d`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const put = (b: Uint8Array | string) => {
    const d = sha256(b);
    writeFileSync(join(dir, "blobs", "sha256", d.slice(7)), b);
    return { digest: d, size: typeof b === "string" ? Buffer.byteLength(b) : b.length };
  };
  const mediaType = `application/vnd.oci.image.layer.v1.tar${format === "plain" ? "" : `+${format}`}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(JSON.stringify(config)) },
    layers: [{ mediaType, ...put(layer) }],
  });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const index = { schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...put(manifest), annotations: { "io.containerd.image.name": name } }] };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
  await sh(["tar", "-C", dir, "-cf", out, "."]);
  rmSync(dir, { recursive: true });
}

/** The root holds nothing an image would: no layer (directory, staging or link), blob, scratch
 *  file, lease or image. */
async function expectEmpty(r: TestRoot): Promise<void> {
  const list = (...p: string[]) => (existsSync(join(r.dir, ...p)) ? readdirSync(join(r.dir, ...p)) : []);
  expect(list("layers").filter((d) => d !== "l")).toEqual([]);
  expect(list("layers", "l")).toEqual([]);
  expect(list("blobs", "sha256")).toEqual([]);
  expect(list("tmp").filter((n) => n !== "leases")).toEqual([]);
  expect(list("tmp", "leases")).toEqual([]);
  expect((await r.ok(["images", "-q"])).trim()).toBe("");
}

function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith("\n")).toBe(true);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr.trimEnd()).toMatch(pattern);
}

async function runs(r: TestRoot, image: string, word: string): Promise<void> {
  expect(await r.ok(["run", "--rm", "--network", "none", image, "echo", word])).toBe(`${word}\n`);
}

describe("tsd load inflates as pull does", () => {
  test("gzip (one member, two, trailing zeros), zstd and plain layers from docker-save and OCI archives load and run", async () => {
    const r = newRoot("load-ok");
    const diffId = sha256(tar);
    for (const [name, bytes] of goodVariants()) {
      const docker = join(work, `docker-${name}.tar`);
      await dockerArchive(docker, `ld/${name}:1`, [{ bytes, diffId }]);
      expect(await r.ok(["load", "-i", docker])).toBe(`Loaded image: ld/${name}:1\n`);
      await runs(r, `ld/${name}:1`, name);
    }
    for (const format of ["gzip", "zstd", "plain"] as const) {
      const bytes = format === "gzip" ? Bun.gzipSync(tar) : format === "zstd" ? Bun.zstdCompressSync(tar) : tar;
      const oci = join(work, `oci-${format}.tar`);
      await ociArchive(oci, `docker.io/lo/${format}:1`, bytes, format);
      // From stdin this time: the archive's pipe, then its layers through the same path.
      expect(await r.ok(["load"], { stdin: await Bun.file(oci).bytes() })).toBe(`Loaded image: lo/${format}:1\n`);
      await runs(r, `lo/${format}:1`, `oci-${format}`);
    }
    // One layer directory for all of them (one diff_id), each blob kept as it came.
    expect(readdirSync(join(r.dir, "layers")).filter((d) => d !== "l")).toEqual([diffId.slice(7)]);
    const inspect = JSON.parse(await r.ok(["image", "inspect", "ld/zstd:1"]));
    expect(inspect[0].RootFS.Layers).toEqual([diffId]);
    // A save of the zstd one hands back its zstd blob; loading it again into a new root works.
    const saved = join(work, "saved-zstd.tar");
    await r.ok(["save", "-o", saved, "ld/zstd:1"]);
    const r2 = newRoot("load-again");
    await r2.ok(["load", "-q", "-i", saved]);
    await runs(r2, "ld/zstd:1", "again");
  }, 120000);

  test("a layer whose stream is broken: one line, exit 1, nothing left behind", async () => {
    const r = newRoot("load-broken");
    const diffId = sha256(tar);
    for (const [name, bytes, why] of brokenVariants()) {
      for (const kind of ["docker", "oci"] as const) {
        const archive = join(work, `broken-${kind}-${name}.tar`);
        if (kind === "docker") await dockerArchive(archive, `lb/${name}:1`, [{ bytes, diffId }]);
        else await ociArchive(archive, `docker.io/lb/${name}:1`, bytes, name.startsWith("zst") ? "zstd" : "gzip");
        const res = await r.tsd(["load", "-i", archive]);
        expect([name, kind, res.code]).toEqual([name, kind, 1]);
        const layerName = kind === "docker" ? "layer0.bin" : sha256(bytes);
        expectOneLine(res.stderr, new RegExp(`^tsd: cannot load "${archive}": image lb/${name}:1: layer ${layerName}${why.source}`));
        await expectEmpty(r);
      }
    }
  }, 120000);

  test("a broken layer after a good one: neither joins the store", async () => {
    const r = newRoot("load-second");
    const small = await smallLayer();
    const zst = Bun.zstdCompressSync(small);
    const archive = join(work, "second-broken.tar");
    await dockerArchive(archive, "lb/second:1", [
      { bytes: Bun.gzipSync(tar), diffId: sha256(tar) },
      { bytes: zst.subarray(0, zst.length - 5), diffId: sha256(small) },
    ]);
    const res = await r.tsd(["load", "-i", archive]);
    expect(res.code).toBe(1);
    expectOneLine(res.stderr, /^tsd: cannot load ".*": image lb\/second:1: layer layer1\.bin: zstd stream is truncated: the archive is corrupt$/);
    await expectEmpty(r);
    // Whole, the same two layers load, and the second one's file is there.
    await dockerArchive(archive, "lb/second:1", [
      { bytes: Bun.gzipSync(tar), diffId: sha256(tar) },
      { bytes: zst, diffId: sha256(small) },
    ]);
    await r.ok(["load", "-q", "-i", archive]);
    expect(await r.ok(["run", "--rm", "--network", "none", "lb/second:1", "cat", "/etc/second"])).toBe("second layer\n");
  }, 60000);
});

describe("tsd import inflates as pull does", () => {
  test("gzip, zstd and plain tarballs import from a file and from stdin and run", async () => {
    const r = newRoot("import-ok");
    const diffId = sha256(tar);
    for (const [name, bytes] of goodVariants()) {
      const file = join(work, `import-${name}`);
      writeFileSync(file, bytes);
      const id = (await r.ok(["import", "-c", 'CMD ["sh"]', file, `im/${name}:1`])).trim();
      expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
      const fromStdin = (await r.ok(["import", "-", `im/${name}:2`], { stdin: bytes })).trim();
      expect(fromStdin).toMatch(/^sha256:[a-f0-9]{64}$/);
      await runs(r, `im/${name}:2`, name);
      const inspect = JSON.parse(await r.ok(["image", "inspect", `im/${name}:1`]));
      expect(inspect[0].RootFS.Layers).toEqual([diffId]);
    }
    expect(readdirSync(join(r.dir, "layers")).filter((d) => d !== "l")).toEqual([diffId.slice(7)]);
    // Each source's bytes kept as its blob (the layer's one directory stands for them all).
    const blobs = readdirSync(join(r.dir, "blobs", "sha256"));
    for (const [, bytes] of goodVariants().filter(([n]) => n !== "members")) expect(blobs).toContain(sha256(bytes).slice(7));
    expect(readdirSync(join(r.dir, "tmp")).filter((n) => n !== "leases")).toEqual([]);
  }, 120000);

  test("a broken tarball, from a file or stdin: one line, exit 1, nothing left behind", async () => {
    const r = newRoot("import-broken");
    for (const [name, bytes, why] of brokenVariants()) {
      const file = join(work, `import-broken-${name}`);
      writeFileSync(file, bytes);
      for (const [label, args, stdin] of [
        [`"${file}"`, [file, "ib:1"], undefined],
        ["stdin", ["-", "ib:1"], bytes],
      ] as const) {
        const res = await r.tsd(["import", ...args], stdin ? { stdin } : {});
        expect([name, label, res.code]).toEqual([name, label, 1]);
        expectOneLine(res.stderr, new RegExp(`^tsd: cannot import ${label.replace(/[.]/g, "\\.")}${why.source}`));
        await expectEmpty(r);
      }
    }
    const empty = await r.tsd(["import", "-", "ib:1"], { stdin: new Uint8Array(0) });
    expect([empty.code, empty.stderr]).toEqual([1, "tsd: the tarball to import is empty\n"]);
    await expectEmpty(r);
  }, 120000);

  test("SIGTERM while a tarball streams in from a pipe: exit 143, the child, staging and spool gone", async () => {
    const r = newRoot("import-term");
    const gz = Bun.gzipSync(tar);
    const proc = Bun.spawn([TSD, "--root", r.dir, "import", "-", "it:1"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    proc.stdin.write(gz.subarray(0, gz.length >> 1));
    await proc.stdin.flush();
    // The layer is unpacking (its staging directory exists) and waits for the rest.
    const staging = () => (existsSync(join(r.dir, "layers")) ? readdirSync(join(r.dir, "layers")).filter((d) => d.startsWith(".tmp-")) : []);
    for (let i = 0; i < 200 && staging().length === 0; i++) await Bun.sleep(25);
    expect(staging()).toHaveLength(1);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(143);
    // Its unpack child was killed: nothing under this root runs any more.
    for (let i = 0; i < 40 && r.leaks().length > 0; i++) await Bun.sleep(25);
    expect(r.leaks()).toEqual([]);
    await expectEmpty(r);
  }, 60000);
});
