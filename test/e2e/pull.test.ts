// tsd pull / login / run-pulls-missing against a real registry (Debian's docker-registry on
// 127.0.0.1), images pushed with skopeo from the umoci-made fixtures; Bun servers in the test
// play a bearer-token service, a hanging registry and a request-recording proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { ociLayoutParts, testImages, type TestImages } from "../lib/fixtures";
import { makeCertificates, push, pushRaw, sh, startRegistry, tempDir, writeHtpasswd, type Registry } from "../lib/registry";

let images: TestImages;
let reg: Registry;
let work: string;
const roots: TestRoot[] = [];
const servers: { stop: (force?: boolean) => unknown }[] = [];
const registries: Registry[] = [];

function newRoot(label: string): TestRoot {
  const r = new TestRoot(label);
  roots.push(r);
  return r;
}

/** A tsd config file (TSD_CONFIG) and the env that points at it, with its own DOCKER_CONFIG. */
function configEnv(name: string, config: object): Record<string, string> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return { TSD_CONFIG: join(dir, "config.json"), DOCKER_CONFIG: join(dir, "docker") };
}

async function manifestOf(host: string, repo: string, tag: string): Promise<{ digest: string; size: number; mediaType: string }> {
  const r = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
  });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { digest: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`, size: bytes.length, mediaType: r.headers.get("content-type")! };
}

async function configDigest(host: string, repo: string, tag: string): Promise<string> {
  const r = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
  return ((await r.json()) as { config: { digest: string } }).config.digest;
}

beforeAll(async () => {
  images = await testImages();
  work = tempDir("pull");
  reg = await startRegistry();
  registries.push(reg);
  await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/library/busybox:latest`);
  await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/library/alpine:latest`);
  await push(`oci-archive:${images.multilayerOci}:latest`, `${reg.host}/multi:1`);
  // skopeo recompresses into an OCI layout, then pushes the zstd blob as it is.
  await sh(["skopeo", "--insecure-policy", "copy", "-q", "-f", "oci", "--dest-compress-format", "zstd", `oci-archive:${images.busyboxOci}:latest`, `oci:${work}/zstd:latest`]);
  await push(`oci:${work}/zstd:latest`, `${reg.host}/zstd:1`, ["-f", "oci"]);
  // Docker schema 2: a manifest and a manifest list over it.
  await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/v2s2:1`, ["-f", "v2s2"]);
  const v2 = await fetch(`http://${reg.host}/v2/v2s2/manifests/1`, { headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
  const v2bytes = new Uint8Array(await v2.arrayBuffer());
  const list = {
    schemaVersion: 2,
    mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
    manifests: [
      {
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        digest: `sha256:${new Bun.CryptoHasher("sha256").update(v2bytes).digest("hex")}`,
        size: v2bytes.length,
        platform: { os: "linux", architecture: "amd64" },
      },
    ],
  };
  const putList = await fetch(`http://${reg.host}/v2/v2s2/manifests/list`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.docker.distribution.manifest.list.v2+json" },
    body: JSON.stringify(list),
  });
  if (putList.status !== 201) throw new Error(`PUT list: ${putList.status} ${await putList.text()}`);
  // A second platform: the same layer under an arm64 config, and an OCI index over both.
  const layout = join(work, "layout");
  mkdirSync(layout);
  await sh(["tar", "-xf", images.busyboxOci, "-C", layout]);
  await sh(["umoci", "config", "--image", `${layout}:latest`, "--tag", "arm64", "--architecture", "arm64"]);
  await push(`oci:${layout}:latest`, `${reg.host}/plat:amd64`, ["-f", "oci"]);
  await push(`oci:${layout}:arm64`, `${reg.host}/plat:arm64`, ["-f", "oci"]);
  const amd = await manifestOf(reg.host, "plat", "amd64");
  const arm = await manifestOf(reg.host, "plat", "arm64");
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { ...arm, mediaType: "application/vnd.oci.image.manifest.v1+json", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { ...amd, mediaType: "application/vnd.oci.image.manifest.v1+json", platform: { os: "linux", architecture: "amd64" } },
    ],
  };
  const put = await fetch(`http://${reg.host}/v2/plat/manifests/latest`, {
    method: "PUT",
    headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
    body: JSON.stringify(index),
  });
  if (put.status !== 201) throw new Error(`PUT index: ${put.status} ${await put.text()}`);
}, 180000);

afterAll(async () => {
  // Registries and servers first: nothing below may keep them alive.
  for (const r of registries) await r.stop().catch(() => {});
  for (const s of servers) {
    try {
      s.stop(true);
    } catch {
      // Stopped already.
    }
  }
  const leaks = roots.flatMap((r) => r.leaks());
  for (const r of roots) await r.destroy();
  rmSync(work, { recursive: true, force: true });
  expect(leaks).toEqual([]);
}, 60000); // ~0.2 s per root to destroy, 20 roots

describe("pull from a plain-HTTP registry on 127.0.0.1", () => {
  let t: TestRoot;
  beforeAll(() => {
    t = newRoot("pull");
  });

  test("pull, verify the store, run it, and a second pull is up to date", async () => {
    const r = await t.tsd(["pull", `${reg.host}/library/busybox`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Using default tag: latest");
    expect(r.stdout).toMatch(/[0-9a-f]{12}: Pull complete/);
    expect(r.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(r.stdout).toContain(`Status: Downloaded newer image for ${reg.host}/library/busybox:latest`);
    expect(r.stdout.trim().split("\n").at(-1)).toBe(`${reg.host}/library/busybox:latest`);
    // Every blob in the store has the content its name says; nothing partial is left.
    const blobs = join(t.dir, "blobs", "sha256");
    const names = readdirSync(blobs);
    expect(names.length).toBe(3); // manifest, config, layer
    for (const n of names) {
      const h = new Bun.CryptoHasher("sha256").update(readFileSync(join(blobs, n))).digest("hex");
      expect(h).toBe(n);
    }
    expect(readdirSync(join(t.dir, "tmp", "partial"))).toEqual([]);
    const id = (await configDigest(reg.host, "library/busybox", "latest")).slice(7, 19);
    expect(await t.ok(["images"])).toMatch(new RegExp(`${reg.host}/library/busybox\\s+latest\\s+${id}`));
    expect(await t.ok(["run", "--rm", `${reg.host}/library/busybox`, "echo", "pulled"])).toBe("pulled\n");
    const again = await t.ok(["pull", `${reg.host}/library/busybox:latest`]);
    expect(again).toContain("Already exists");
    expect(again).toContain("Status: Image is up to date");
    expect(again).not.toContain("Downloading");
  });

  test("on a terminal: per-layer lines redrawn in place, as docker pull", async () => {
    const u = newRoot("tty");
    // script(1) gives tsd a pty for stdout.
    const proc = Bun.spawn(["script", "-qec", `${TSD} --root ${u.dir} pull ${reg.host}/multi:1`, "/dev/null"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, , code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(0);
    expect(out).toContain("\x1b[2K"); // lines cleared and redrawn
    expect(out).toMatch(/\x1b\[\d+A/); // the cursor goes back up over the layer lines
    for (const s of ["Pulling fs layer", "Download complete", "Pull complete", "Digest: sha256:", "Status: Downloaded newer image"]) expect(out).toContain(s);
  });

  test("-q prints only the name; pull by digest verifies it", async () => {
    const m = await manifestOf(reg.host, "multi", "1");
    const out = await t.ok(["pull", "-q", `${reg.host}/multi@${m.digest}`]);
    expect(out).toBe(`${reg.host}/multi@${m.digest}\n`);
    // The multi-layer image shares its busybox layer with the one pulled above and runs
    // with its whiteouts applied.
    expect(await t.ok(["run", "--rm", `${reg.host}/multi@${m.digest}`, "ls /data /opt/x"])).toBe("/data:\nb\n\n/opt/x:\nnew\n");
    // Tagged too, removing the digest reference only drops that reference.
    await t.ok(["tag", `${reg.host}/multi@${m.digest}`, "multi-tagged:1"]);
    expect((await t.tsd(["tag", "multi-tagged:1", `x@${m.digest}`])).stderr).toContain("refusing to create a tag with a digest");
    expect(await t.ok(["rmi", `${reg.host}/multi@${m.digest}`])).toBe(`Untagged: ${reg.host}/multi@${m.digest}\n`);
    expect(await t.ok(["images", "-q", "multi-tagged"])).toMatch(/^[0-9a-f]{12}\n$/);
    await t.ok(["rmi", "multi-tagged:1"]);
  });

  test("two pulls of one image at once into one store both succeed", async () => {
    const u = newRoot("concurrent");
    const [a, b] = await Promise.all([u.tsd(["pull", "-q", `${reg.host}/multi:1`]), u.tsd(["pull", "-q", `${reg.host}/multi:1`])]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, "", ""]);
    expect(await u.ok(["run", "--rm", `${reg.host}/multi:1`, "cat /etc/motd"])).toBe("welcome to the multilayer image\n");
    expect(readdirSync(join(u.dir, "layers")).filter((d) => d !== "l").length).toBe(3);
    expect(readdirSync(join(u.dir, "layers", "l")).length).toBe(3);
  });

  test("Docker schema 2 manifests and manifest lists", async () => {
    const m = await fetch(`http://${reg.host}/v2/v2s2/manifests/1`, { headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
    expect(m.headers.get("content-type")).toBe("application/vnd.docker.distribution.manifest.v2+json");
    await m.arrayBuffer();
    const u = newRoot("v2s2");
    await u.ok(["pull", "-q", `${reg.host}/v2s2:1`]);
    await u.ok(["pull", "-q", `${reg.host}/v2s2:list`]);
    expect((await u.ok(["images", "-q"])).trim().split("\n").length).toBe(1); // one image, two tags
    expect(await u.ok(["run", "--rm", `${reg.host}/v2s2:list`, "echo", "v2s2"])).toBe("v2s2\n");
    const digests = await u.ok(["images", "--digests"]);
    expect(digests).toMatch(new RegExp(`${reg.host}/v2s2\\s+list\\s+sha256:[0-9a-f]{64}`));
  });

  test("a zstd layer", async () => {
    const raw = await (await fetch(`http://${reg.host}/v2/zstd/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json();
    expect((raw as { layers: { mediaType: string }[] }).layers[0]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
    const u = newRoot("zstd");
    await u.ok(["pull", `${reg.host}/zstd:1`]);
    expect(await u.ok(["run", "--rm", `${reg.host}/zstd:1`, "echo", "zstd"])).toBe("zstd\n");
  });

  test("a manifest list picks linux/amd64, --platform another, and no match is a clear error", async () => {
    const u = newRoot("plat");
    const amdId = (await configDigest(reg.host, "plat", "amd64")).slice(7);
    const armId = (await configDigest(reg.host, "plat", "arm64")).slice(7);
    expect(amdId).not.toBe(armId);
    await u.ok(["pull", `${reg.host}/plat`]);
    expect(await u.ok(["images", "-q", "--no-trunc"])).toContain(amdId);
    await u.ok(["pull", "--platform", "linux/arm64", `${reg.host}/plat:latest`]);
    expect((await u.ok(["images", "--no-trunc"])).match(/sha256:[0-9a-f]{64}/g)).toContain(`sha256:${armId}`);
    const bad = await u.tsd(["pull", "--platform", "linux/s390x", `${reg.host}/plat`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tsd: no matching manifest for linux\/s390x .*linux\/arm64\/v8, linux\/amd64/);
  });

  test("errors: malformed reference, unknown tag, unknown repository", async () => {
    const a = await t.tsd(["pull", `${reg.host}/Upper`]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("invalid reference format");
    const b = await t.tsd(["pull", `${reg.host}/library/busybox:nope`]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/manifest for .*busybox:nope not found/);
    const c = await t.tsd(["pull", `${reg.host}/nothing/here`]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/not found/);
  });

  test("an interrupted download is resumed with a Range request", async () => {
    const u = newRoot("resume");
    const manifest = (await (await fetch(`http://${reg.host}/v2/library/busybox/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as {
      layers: { digest: string; size: number }[];
    };
    const layer = manifest.layers[0]!;
    const blob = new Uint8Array(await (await fetch(`http://${reg.host}/v2/library/busybox/blobs/${layer.digest}`)).arrayBuffer());
    const partial = join(u.dir, "tmp", "partial");
    mkdirSync(partial, { recursive: true });
    const hex = layer.digest.slice(7);
    writeFileSync(join(partial, hex), blob.subarray(0, Math.floor(blob.length / 2)));
    writeFileSync(join(partial, `${hex}.lock`), "999999999"); // a dead holder
    // A proxy in front of the registry records the Range headers tsd sends.
    const ranges: string[] = [];
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const u2 = new URL(req.url);
        if (u2.pathname.includes("/blobs/")) ranges.push(req.headers.get("range") ?? "none");
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await fetch(`http://${reg.host}${u2.pathname}${u2.search}`, { method: req.method, headers, redirect: "manual" });
        return new Response(res.body, { status: res.status, headers: res.headers });
      },
    });
    servers.push(proxy);
    await u.ok(["pull", `127.0.0.1:${proxy.port}/library/busybox`]);
    expect(ranges).toContain(`bytes=${Math.floor(blob.length / 2)}-`);
    expect(readFileSync(join(u.dir, "blobs", "sha256", hex)).equals(Buffer.from(blob))).toBe(true);
    expect(readdirSync(partial)).toEqual([]);
    expect(await u.ok(["run", "--rm", `127.0.0.1:${proxy.port}/library/busybox`, "echo", "resumed"])).toBe("resumed\n");
    // A pull killed between storing the blob and unlinking its lock: the next pull drops the lock.
    writeFileSync(join(partial, `${hex}.lock`), "999999999");
    await u.ok(["pull", "-q", `127.0.0.1:${proxy.port}/library/busybox`]);
    expect(readdirSync(partial)).toEqual([]);
  });

  test("pulls SIGKILLed at random moments: the next pull completes and collects what they left", async () => {
    const u = newRoot("killed");
    let killedWhileRunning = 0;
    for (let i = 0; i < 8; i++) {
      const p = Bun.spawn([TSD, "--root", u.dir, "pull", "-q", `${reg.host}/multi:1`], { stdout: "ignore", stderr: "ignore" });
      await Bun.sleep(20 + ((i * 37) % 150));
      if (p.exitCode === null) killedWhileRunning++;
      p.kill("SIGKILL");
      await p.exited;
      if (i % 3 === 2) await u.tsd(["rmi", "-f", `${reg.host}/multi:1`]); // start over now and then
    }
    console.log(`pull.test: ${killedWhileRunning} of 8 pulls killed while running`);
    expect(killedWhileRunning).toBeGreaterThan(0);
    await u.ok(["pull", "-q", `${reg.host}/multi:1`]);
    expect(await u.ok(["run", "--rm", "--network", "none", `${reg.host}/multi:1`, "true"])).toBe("");
    const tmp = join(u.dir, "tmp");
    const leftovers = (d: string): string[] => (existsSync(d) ? readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? leftovers(join(d, n)).map((x) => `${n}/${x}`) : [n])) : []);
    expect(leftovers(tmp)).toEqual([]);
    expect(readdirSync(join(u.dir, "layers")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
  });

  test("a registry that ignores Range: the partial bytes are dropped and the pull starts over", async () => {
    const u = newRoot("norange");
    const manifest = (await (await fetch(`http://${reg.host}/v2/library/busybox/manifests/latest`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as {
      layers: { digest: string; size: number }[];
    };
    const hex = manifest.layers[0]!.digest.slice(7);
    const partial = join(u.dir, "tmp", "partial");
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, hex), new Uint8Array(4096).fill(7)); // wrong bytes
    let ranged = 0;
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const u2 = new URL(req.url);
        const headers = new Headers(req.headers);
        if (headers.has("range")) ranged++;
        headers.delete("range");
        headers.delete("host");
        const res = await fetch(`http://${reg.host}${u2.pathname}${u2.search}`, { method: req.method, headers, redirect: "manual" });
        return new Response(res.body, { status: res.status, headers: res.headers });
      },
    });
    servers.push(proxy);
    await u.ok(["pull", "-q", `127.0.0.1:${proxy.port}/library/busybox`]);
    expect(ranged).toBe(1);
    expect(await u.ok(["run", "--rm", `127.0.0.1:${proxy.port}/library/busybox`, "echo", "restarted"])).toBe("restarted\n");
    expect(readdirSync(join(u.dir, "layers")).filter((d) => d.startsWith(".tmp-"))).toEqual([]);
  });

  test("a corrupt blob is refused and never becomes visible", async () => {
    const corrupt = await startRegistry();
    registries.push(corrupt);
    await push(`oci-archive:${images.busyboxOci}:latest`, `${corrupt.host}/bad:1`);
    const manifest = (await (await fetch(`http://${corrupt.host}/v2/bad/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json()) as {
      layers: { digest: string }[];
    };
    const hex = manifest.layers[0]!.digest.slice(7);
    const data = join(corrupt.dir, "data", "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
    const bytes = readFileSync(data);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff; // same size, other content
    writeFileSync(data, bytes);
    const u = newRoot("corrupt");
    const r = await u.tsd(["pull", `${corrupt.host}/bad:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused/);
    expect(existsSync(join(u.dir, "blobs", "sha256", hex))).toBe(false);
    expect(readdirSync(join(u.dir, "tmp", "partial"))).toEqual([]);
    expect((await u.ok(["images", "-q"])).trim()).toBe("");
    // The tree unpacked meanwhile was dropped too.
    expect(readdirSync(join(u.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
  });
});

describe("layer streams: the CLI inflates, the digest and the stream are both checked", () => {
  /** The busybox fixture's config and its layer as plain tar (the config's diff_id is its sha256). */
  async function busyboxTar(): Promise<{ config: Uint8Array; tar: Uint8Array<ArrayBuffer> }> {
    const { configBytes, layer } = await ociLayoutParts(images.busyboxOci, work);
    return { config: configBytes, tar: new Uint8Array(Bun.gunzipSync(layer)) };
  }
  const GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  const ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

  test("two gzip members, a plain tar, trailing zeros and a zstd layer from Bun's encoder pull and run", async () => {
    const { config, tar } = await busyboxTar();
    const half = tar.length >> 1;
    const u = newRoot("streams-ok");
    const variants: [string, Uint8Array, string][] = [
      ["members", cat(Bun.gzipSync(tar.subarray(0, half)), Bun.gzipSync(tar.subarray(half))), GZIP],
      ["plain", tar, "application/vnd.oci.image.layer.v1.tar"],
      ["zeros", cat(Bun.gzipSync(tar), new Uint8Array(512)), GZIP],
      ["zstd", Bun.zstdCompressSync(tar), ZSTD],
    ];
    for (const [name, bytes, mediaType] of variants) {
      await pushRaw(reg.host, `streams/${name}`, "1", config, [{ bytes, mediaType }]);
      await u.ok(["pull", "-q", `${reg.host}/streams/${name}:1`]);
      expect(await u.ok(["run", "--rm", "--network", "none", `${reg.host}/streams/${name}:1`, "echo", name])).toBe(`${name}\n`);
    }
  });

  test("a layer whose digest is right but whose stream is broken: one line, exit 1, nothing left behind", async () => {
    const { config, tar } = await busyboxTar();
    const gz = Bun.gzipSync(tar);
    const crc = Buffer.from(gz);
    crc[gz.length - 6]! ^= 0xff;
    const zst = Bun.zstdCompressSync(tar);
    const variants: [string, Uint8Array, string, string][] = [
      ["crc", crc, GZIP, "gzip checksum mismatch (corrupt data)"],
      ["gzcut", gz.subarray(0, gz.length - 30), GZIP, "gzip stream is truncated"],
      ["gzjunk", cat(gz, new Uint8Array(64), new TextEncoder().encode("junk")), GZIP, "trailing garbage after gzip stream"],
      ["zstcut", zst.subarray(0, zst.length - 9), ZSTD, "zstd stream is truncated"],
      ["zstjunk", cat(zst, new TextEncoder().encode("junk after the frame")), ZSTD, "trailing garbage after zstd stream"],
    ];
    // One root for all: each refusal must leave it as empty as it was.
    const u = newRoot("streams-broken");
    for (const [name, bytes, mediaType, why] of variants) {
      const { layers } = await pushRaw(reg.host, `broken/${name}`, "1", config, [{ bytes, mediaType }]);
      const r = await u.tsd(["pull", "-q", `${reg.host}/broken/${name}:1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`tsd: layer ${layers[0]} of ${reg.host}/broken/${name}: ${why}: refused (corrupt image)\n`);
      expect(readdirSync(join(u.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
      expect(existsSync(join(u.dir, "blobs", "sha256", layers[0]!.slice(7)))).toBe(false);
      expect(readdirSync(join(u.dir, "tmp", "partial"))).toEqual([]);
      expect(readdirSync(join(u.dir, "tmp")).filter((n) => n !== "partial" && n !== "leases")).toEqual([]);
      expect(readdirSync(join(u.dir, "tmp", "leases"))).toEqual([]);
      expect((await u.ok(["images", "-q"])).trim()).toBe("");
    }
  });

  test("a layer compressed twice is inflated once: the unpacker gets gzip bytes for a tar and refuses them", async () => {
    const { config, tar } = await busyboxTar();
    const u = newRoot("streams-twice");
    await pushRaw(reg.host, "broken/twice", "1", config, [{ bytes: Bun.gzipSync(Bun.gzipSync(tar)), mediaType: GZIP }]);
    const r = await u.tsd(["pull", "-q", `${reg.host}/broken/twice:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsd: layer "-": bad header checksum .* at byte 0\n$/);
    expect(readdirSync(join(u.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
    expect((await u.ok(["images", "-q"])).trim()).toBe("");
    // 8 MiB the unpacker refuses at byte 0 while the pull has nearly all of them still to
    // send: its stdin's EPIPE must not pass for a closed stdout (141); its message is the error.
    const big = Bun.gzipSync(Bun.gzipSync(randomBytes(8 << 20), { level: 1 }), { level: 1 });
    await pushRaw(reg.host, "broken/twice-big", "1", config, [{ bytes: big, mediaType: GZIP }]);
    for (let i = 0; i < 3; i++) {
      const rb = await u.tsd(["pull", "-q", `${reg.host}/broken/twice-big:1`]);
      expect([rb.code, rb.stderr]).toEqual([1, expect.stringMatching(/^tsd: layer "-": bad header checksum .* at byte 0\n$/)]);
    }
    expect(readdirSync(join(u.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
  });
});

describe("authentication", () => {
  test("htpasswd basic auth over TLS with a self-signed CA: login, pull, logout", async () => {
    const dir = join(work, "tls");
    mkdirSync(dir);
    const certs = await makeCertificates(dir);
    await writeHtpasswd(join(dir, "htpasswd"), "tester", "s3cret");
    const secure = await startRegistry({ tls: { cert: certs.cert, key: certs.key }, htpasswd: join(dir, "htpasswd") });
    registries.push(secure);
    await push(`oci-archive:${images.busyboxOci}:latest`, `${secure.host}/private/bb:1`, ["--dest-creds", "tester:s3cret"]);
    const t = newRoot("auth");
    const env = configEnv("tls", { "registry-ca": { [secure.host]: certs.ca } });
    // Without the CA the certificate is refused; with it, the registry wants a login.
    const noCa = await t.tsd(["pull", `${secure.host}/private/bb:1`], { env: { ...env, TSD_CONFIG: join(work, "none.json") } });
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toMatch(/cannot reach registry .*(certificate|self.signed|SELF_SIGNED|issuer|CERT)/i);
    // Listed as insecure, the certificate is not checked (Docker's meaning); still a login.
    const insecureEnv = configEnv("tls-insecure", { "insecure-registries": [secure.host] });
    const insecure = await t.tsd(["pull", `${secure.host}/private/bb:1`], { env: insecureEnv });
    expect(insecure.stderr).toMatch(/unauthorized.*tsd login/);
    const anon = await t.tsd(["pull", `${secure.host}/private/bb:1`], { env });
    expect(anon.code).toBe(1);
    expect(anon.stderr).toMatch(/unauthorized.*tsd login/);
    const wrong = await t.tsd(["login", "-u", "tester", "--password-stdin", secure.host], { env, stdin: "wrong\n" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/login to .* failed/);
    expect(existsSync(join(env.DOCKER_CONFIG!, "config.json"))).toBe(false);
    expect(await t.ok(["login", "-u", "tester", "--password-stdin", secure.host], { env, stdin: "s3cret\n" })).toContain("Login Succeeded");
    const stored = JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, "config.json"), "utf8"));
    expect(Buffer.from(stored.auths[secure.host].auth, "base64").toString()).toBe("tester:s3cret");
    expect(statSync(join(env.DOCKER_CONFIG!, "config.json")).mode & 0o777).toBe(0o600);
    await t.ok(["pull", `${secure.host}/private/bb:1`], { env });
    expect(await t.ok(["run", "--rm", `${secure.host}/private/bb:1`, "echo", "tls"], { env })).toBe("tls\n");
    expect(await t.ok(["logout", secure.host], { env })).toBe(`Removing login credentials for ${secure.host}\n`);
    expect(JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, "config.json"), "utf8")).auths[secure.host]).toBeUndefined();
    const after = await t.tsd(["pull", `${secure.host}/private/bb:1`], { env });
    expect(after.stderr).toMatch(/unauthorized/);

    // A credential helper (Docker's "credsStore" protocol): login stores through it, pulls read
    // through it, logout erases; config.json keeps no secret.
    const helperDir = join(work, "helper");
    mkdirSync(join(helperDir, "store"), { recursive: true });
    writeFileSync(
      join(helperDir, "docker-credential-tsdtest"),
      `#!/usr/bin/env python3
import json, os, sys, urllib.parse
store = ${JSON.stringify(join(helperDir, "store"))}
action = sys.argv[1]
data = sys.stdin.read().strip()
if action == "store":
    v = json.loads(data)
    open(os.path.join(store, urllib.parse.quote(v["ServerURL"], safe="")), "w").write(json.dumps(v))
elif action == "get":
    p = os.path.join(store, urllib.parse.quote(data, safe=""))
    if not os.path.exists(p):
        print("credentials not found in native keychain"); sys.exit(1)
    print(open(p).read())
elif action == "erase":
    os.remove(os.path.join(store, urllib.parse.quote(data, safe="")))
`,
      { mode: 0o755 },
    );
    const helperEnv = { ...env, PATH: `${helperDir}:${process.env.PATH}` };
    writeFileSync(join(env.DOCKER_CONFIG!, "config.json"), JSON.stringify({ credsStore: "tsdtest" }));
    await t.ok(["login", "-u", "tester", "--password-stdin", secure.host], { env: helperEnv, stdin: "s3cret" });
    expect(JSON.parse(readFileSync(join(env.DOCKER_CONFIG!, "config.json"), "utf8"))).toEqual({ credsStore: "tsdtest" });
    expect(readdirSync(join(helperDir, "store"))).toEqual([encodeURIComponent(secure.host)]);
    await t.ok(["rmi", `${secure.host}/private/bb:1`]);
    await t.ok(["pull", `${secure.host}/private/bb:1`], { env: helperEnv });
    expect(await t.ok(["logout", secure.host], { env: helperEnv })).toBe(`Removing login credentials for ${secure.host}\n`);
    expect(readdirSync(join(helperDir, "store"))).toEqual([]);
    const missing = await t.tsd(["pull", `${secure.host}/private/bb:1`], { env });
    expect(missing.stderr).toMatch(/credential helper docker-credential-tsdtest .* not on PATH/);
  }, 60000);

  test("a bearer-token challenge: the token from the realm, scoped to the repository; blobs redirected to storage elsewhere get no token", async () => {
    const scopes: string[] = [];
    const token = "tok-" + crypto.randomUUID();
    const tokens = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const u = new URL(req.url);
        scopes.push(`${u.searchParams.get("service")} ${u.searchParams.get("scope")}`);
        return Response.json({ token, expires_in: 300 });
      },
    });
    servers.push(tokens);
    // Blob storage elsewhere, as Docker Hub and cloud registries redirect to: it must not see
    // the registry's token.
    const storageAuth: string[] = [];
    const storage = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        storageAuth.push(req.headers.get("authorization") ?? "none");
        const u = new URL(req.url);
        const res = await fetch(`http://${reg.host}${u.pathname}`);
        return new Response(res.body, { status: res.status, headers: res.headers });
      },
    });
    servers.push(storage);
    const gate = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const u = new URL(req.url);
        if (req.headers.get("authorization") !== `Bearer ${token}`) {
          const scope = u.pathname === "/v2/" ? "" : `,scope="repository:${u.pathname.split("/").slice(2, -2).join("/")}:pull"`;
          return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
            status: 401,
            headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${tokens.port}/token",service="tsd-test"${scope}`, "content-type": "application/json" },
          });
        }
        if (u.pathname.includes("/blobs/sha256:")) {
          return new Response(null, { status: 307, headers: { location: `http://localhost:${storage.port}${u.pathname}` } });
        }
        const headers = new Headers(req.headers);
        headers.delete("authorization");
        headers.delete("host");
        const res = await fetch(`http://${reg.host}${u.pathname}${u.search}`, { method: req.method, headers });
        return new Response(res.body, { status: res.status, headers: res.headers });
      },
    });
    servers.push(gate);
    const t = newRoot("bearer");
    await t.ok(["pull", `127.0.0.1:${gate.port}/library/busybox`]);
    expect(scopes).toContain("tsd-test repository:library/busybox:pull");
    expect(storageAuth.length).toBeGreaterThan(0); // config and layer came through the redirect
    expect(storageAuth.every((a) => a === "none")).toBe(true);
    expect(await t.ok(["run", "--rm", `127.0.0.1:${gate.port}/library/busybox`, "echo", "bearer"])).toBe("bearer\n");
  });
});

describe("mirrors, run pulls a missing image, a hanging registry", () => {
  test("tsd run alpine through a configured mirror (a dead mirror first falls through)", async () => {
    const t = newRoot("mirror");
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const deadPort = dead.port;
    dead.stop(true);
    const env = configEnv("mirror", { "registry-mirrors": [`http://127.0.0.1:${deadPort}`, `http://${reg.host}`], "registry-retries": 0 });
    const r = await t.tsd(["run", "--rm", "alpine", "echo", "from alpine"], { env });
    expect(r.stdout).toBe("from alpine\n");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Unable to find image 'alpine' locally");
    expect(r.stderr).toContain(`mirror http://127.0.0.1:${deadPort} failed`);
    expect(r.stderr).toContain("Status: Downloaded newer image for alpine:latest");
    expect(await t.ok(["images"], { env })).toMatch(/\nalpine\s+latest\s/);
    // Present now: no second pull.
    const again = await t.tsd(["run", "--rm", "alpine", "true"], { env });
    expect(again.stderr).toBe("");
  });

  test("a registry that stops sending in the middle of a layer times out; nothing partial is visible", async () => {
    const streams: ReadableStreamDefaultController[] = [];
    const stall = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const u = new URL(req.url);
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await fetch(`http://${reg.host}${u.pathname}${u.search}`, { method: req.method, headers, redirect: "manual" });
        if (!u.pathname.includes("/blobs/") || Number(res.headers.get("content-length")) < 100000) {
          return new Response(res.body, { status: res.status, headers: res.headers });
        }
        const first = new Uint8Array(await res.arrayBuffer()).subarray(0, 50000);
        const body = new ReadableStream({
          start(c) {
            streams.push(c);
            c.enqueue(first);
          },
        });
        return new Response(body, { status: 200, headers: { "content-type": "application/octet-stream" } });
      },
    });
    servers.push({
      stop: () => {
        for (const c of streams) {
          try {
            c.close();
          } catch {
            // The client went away and the stream closed with it.
          }
        }
        stall.stop(true);
      },
    });
    const t = newRoot("stall");
    const env = configEnv("stall", { "registry-timeout": 1, "registry-retries": 1 });
    const r = await t.tsd(["pull", `127.0.0.1:${stall.port}/library/busybox`], { env, timeoutMs: 20000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsd: registry 127\.0\.0\.1:\d+ stopped sending sha256:[0-9a-f]{64} at \d+ bytes: it did not answer within 1s/);
    expect(readdirSync(join(t.dir, "blobs", "sha256")).length).toBe(2); // manifest and config only
    expect(readdirSync(join(t.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
    expect((await t.ok(["images", "-q"])).trim()).toBe("");
    // The bytes that did arrive wait in tmp/partial for the next pull to resume.
    expect(readdirSync(join(t.dir, "tmp", "partial")).filter((n) => !n.endsWith(".lock")).length).toBe(1);
  });

  test("a registry that accepts and never answers times out with a clear error", async () => {
    const held: { end: () => void }[] = [];
    const hang = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          held.push(s);
        },
        data() {},
      },
    });
    servers.push({ stop: () => (held.forEach((s) => s.end()), hang.stop(true)) });
    const t = newRoot("hang");
    const env = configEnv("hang", { "registry-timeout": 1, "registry-retries": 0 });
    const start = Date.now();
    const r = await t.tsd(["pull", `127.0.0.1:${hang.port}/library/busybox`], { env, timeoutMs: 20000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsd: registry 127\.0\.0\.1:\d+ did not answer within 1s .*registry-timeout/);
    expect(Date.now() - start).toBeLessThan(15000);
  });
});
