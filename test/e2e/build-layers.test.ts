// tsd build's layers as stored and as they leave the machine: a built layer's blob is its
// uncompressed tar (digest = diffID; no gzip on the build's path), `save` writes it as it is,
// `push` gzips it on the way out (the pushed manifest names the gzip blob; the config, so the
// image id, is unchanged) and the pushed image pulls back identical; a pulled image is pushed
// again as it came; a build SIGKILLed at any moment leaves no cached step whose blob is missing
// or partial.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildFixture } from "../lib/build-fixture";
import { startRegistry, sh, skopeo, type Registry } from "../lib/registry";
import { TestRoot, TSD } from "../lib/tsd";

setDefaultTimeout(120000);
let t: TestRoot;
let work: string;
let reg: Registry;
const { context } = buildFixture("build-layers", (root, dir) => {
  t = root;
  work = dir;
});

beforeAll(async () => {
  reg = await startRegistry();
}, 60000);

afterAll(async () => {
  await reg?.stop().catch(() => {});
});

const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

function sha256File(path: string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex")}`;
}

function blobFile(root: string, digest: string): string {
  return join(root, "blobs", "sha256", digest.slice(7));
}

/** The store's blobs that are gzip streams (by their magic). */
function gzipBlobs(root: string): string[] {
  const dir = join(root, "blobs", "sha256");
  return readdirSync(dir).filter((n) => {
    const b = readFileSync(join(dir, n)).subarray(0, 2);
    return b[0] === 0x1f && b[1] === 0x8b;
  });
}

async function layersOf(root: TestRoot, image: string): Promise<string[]> {
  return JSON.parse(await root.ok(["image", "inspect", image]))[0].RootFS.Layers;
}

/** manifest.json of a docker-archive written by `tsd save`, and the OCI manifest beside it. */
async function savedArchive(file: string, dir: string): Promise<{ layers: string[]; mediaTypes: string[] }> {
  mkdirSync(dir, { recursive: true });
  await sh(["tar", "-xf", file, "-C", dir]);
  const [m] = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const oci = JSON.parse(readFileSync(join(dir, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8"));
  return { layers: m.Layers, mediaTypes: oci.layers.map((l: { mediaType: string }) => l.mediaType) };
}

describe("a built image's layers", () => {
  const files = {
    Dockerfile: "FROM busybox\nCOPY a.txt /new/a.txt\nRUN echo made > /etc/made && rm -rf /home && mkdir -p /usr/op && echo x > /usr/op/x\nCOPY b.txt /etc/\n",
    "a.txt": "a\n",
    "b.txt": "b\n",
  };
  let id = "";
  let built: string[] = [];
  let pushed = "";

  test("are stored as plain tars: the blob's digest is the diffID, nothing gzipped", async () => {
    const base = await layersOf(t, "busybox");
    id = (await t.ok(["build", "-q", "--network", "none", "-t", "layers:1", context("plain", files)])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const all = await layersOf(t, "layers:1");
    built = all.slice(base.length);
    expect(built.length).toBe(3);
    const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
    try {
      for (const diffId of built) {
        const file = blobFile(t.dir, diffId);
        expect(sha256File(file)).toBe(diffId);
        expect(readFileSync(file).subarray(257, 262).toString("latin1")).toBe("ustar");
        const rows = db.query("SELECT digest, media_type AS mediaType, size FROM layer_blobs WHERE diff_id = ?").all(diffId);
        expect(rows).toEqual([{ digest: diffId, mediaType: OCI_LAYER, size: statSync(file).size }]);
      }
    } finally {
      db.close();
    }
    expect(gzipBlobs(t.dir)).toEqual([]);
    expect(await t.ok(["run", "--rm", "--network", "none", "layers:1", "sh", "-c", "cat /new/a.txt /etc/made /usr/op/x /etc/b.txt; ls /home 2>&1 || true"])).toBe(
      "a\nmade\nx\nb\nls: /home: No such file or directory\n",
    );
  });

  test("save writes the plain tars; the archive loads back as the same image", async () => {
    await t.ok(["save", "-o", join(work, "plain.tar"), "layers:1"]);
    const saved = await savedArchive(join(work, "plain.tar"), join(work, "plain"));
    expect(saved.layers.slice(-3)).toEqual(built.map((d) => `blobs/sha256/${d.slice(7)}`));
    expect(saved.mediaTypes.slice(-3)).toEqual([OCI_LAYER, OCI_LAYER, OCI_LAYER]);
    const fresh = new TestRoot("build-layers-load");
    try {
      await fresh.ok(["load", "-i", join(work, "plain.tar")]);
      expect(await fresh.ok(["images", "-q", "--no-trunc", "layers:1"])).toBe(`${id}\n`);
      expect(await fresh.ok(["run", "--rm", "--network", "none", "layers:1", "cat", "/etc/made"])).toBe("made\n");
    } finally {
      await fresh.destroy();
    }
  });

  test("push gzips them: the manifest names gzip blobs, the config (the image id) is unchanged", async () => {
    const name = `${reg.host}/team/layers:1`;
    await t.ok(["tag", "layers:1", name]);
    const out = await t.ok(["push", name]);
    expect(out).toMatch(/: Pushed/);
    pushed = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)![1]!;
    const raw = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${name}`]));
    expect(raw.config.digest).toBe(id);
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType).every((m: string) => m.endsWith("gzip"))).toBe(true);
    const digests: string[] = raw.layers.slice(-3).map((l: { digest: string }) => l.digest);
    for (const [i, d] of digests.entries()) {
      expect(d).not.toBe(built[i]);
      expect(raw.layers.at(-3 + i).mediaType).toBe(OCI_LAYER_GZIP);
      // Kept beside the plain tar, so the next push sends the same bytes.
      expect(sha256File(blobFile(t.dir, d))).toBe(d);
    }
    expect(await t.ok(["images", "-q", "--no-trunc", "layers:1"])).toBe(`${id}\n`);
    // Pushed again (another tag): every blob already there, the same manifest.
    await t.ok(["tag", "layers:1", `${reg.host}/team/layers:2`]);
    const again = await t.ok(["push", `${reg.host}/team/layers:2`]);
    expect(again).not.toMatch(/: Pushed/);
    expect(again).toContain(`2: digest: ${pushed} `);
    // save still writes the plain tars.
    await t.ok(["save", "-o", join(work, "after.tar"), "layers:1"]);
    expect((await savedArchive(join(work, "after.tar"), join(work, "after"))).layers.slice(-3)).toEqual(built.map((d) => `blobs/sha256/${d.slice(7)}`));
  });

  test("the pushed image pulls back identical, and a pulled image is pushed again as it came", async () => {
    const fresh = new TestRoot("build-layers-pull");
    try {
      const name = `${reg.host}/team/layers:1`;
      await fresh.ok(["pull", "-q", name]);
      expect(await fresh.ok(["images", "-q", "--no-trunc", name])).toBe(`${id}\n`);
      expect(await layersOf(fresh, name)).toEqual(await layersOf(t, "layers:1"));
      expect(await fresh.ok(["run", "--rm", "--network", "none", name, "sh", "-c", "cat /new/a.txt /etc/made /etc/b.txt; test -e /home || echo no-home"])).toBe("a\nmade\nb\nno-home\n");
      await fresh.ok(["tag", name, `${reg.host}/copy/layers:1`]);
      const out = await fresh.ok(["push", `${reg.host}/copy/layers:1`]);
      expect(out).toContain(`1: digest: ${pushed} `);
      expect(gzipBlobs(fresh.dir).length).toBeGreaterThan(0);
    } finally {
      await fresh.destroy();
    }
  });
});

/** Every cached step's image has, for each layer, a stored blob whose bytes are its digest. */
function checkCache(root: string): number {
  const db = new Database(join(root, "tsd.db"));
  try {
    const rows = db.query("SELECT i.layers AS layers FROM build_cache b JOIN images i ON i.id = b.image_id").all() as { layers: string }[];
    for (const r of rows) {
      for (const diffId of JSON.parse(r.layers) as string[]) {
        const blobs = db.query("SELECT digest, size FROM layer_blobs WHERE diff_id = ?").all(diffId) as { digest: string; size: number }[];
        const whole = blobs.filter((b) => existsSync(blobFile(root, b.digest)) && statSync(blobFile(root, b.digest)).size === b.size && sha256File(blobFile(root, b.digest)) === b.digest);
        if (whole.length === 0) throw new Error(`cached layer ${diffId} has no whole blob (rows ${JSON.stringify(blobs)})`);
        expect(existsSync(join(root, "layers", diffId.slice(7), "diff"))).toBe(true);
      }
    }
    return rows.length;
  } finally {
    db.close();
  }
}

test("a build SIGKILLed at any moment leaves no cached step whose blob is missing or partial", async () => {
  const big = Buffer.alloc(6 << 20);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const ctx = context("killed", {
    Dockerfile: "FROM busybox\nCOPY big.bin /data/big.bin\nRUN head -c 3000000 /dev/urandom > /r1\nCOPY small.txt /etc/small.txt\nRUN echo x > /r2 && cat /data/big.bin > /r3\n",
    "small.txt": "small\n",
  });
  await Bun.write(join(ctx, "big.bin"), big);
  let cached = 0;
  for (const delay of [40, 90, 140, 200, 270, 350, 450, 600, 800]) {
    const proc = Bun.spawn([TSD, "--root", t.dir, "build", "-q", "--no-cache", "--network", "none", "-t", "killed:1", ctx], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(delay);
    proc.kill("SIGKILL");
    await proc.exited;
    cached = Math.max(cached, checkCache(t.dir));
    // A RUN's container outlives a killed CLI: gone before the next round.
    const left = (await t.ok(["ps", "-aq", "--no-trunc"])).split("\n").filter(Boolean);
    if (left.length > 0) await t.ok(["rm", "-f", ...left], { timeoutMs: 60000 });
  }
  // Some round got at least one step into the cache (the checks above saw them).
  expect(cached).toBeGreaterThan(0);
  // The cache the killed builds left is used whole: every layer's blob saves.
  const id = (await t.ok(["build", "-q", "--network", "none", "-t", "killed:1", ctx])).trim();
  expect(checkCache(t.dir)).toBeGreaterThan(0);
  await t.ok(["save", "-o", join(work, "killed.tar"), id.slice(7)]);
  expect(await t.ok(["run", "--rm", "--network", "none", "killed:1", "cat", "/etc/small.txt"])).toBe("small\n");
  expect(await t.ok(["ps", "-aq"])).toBe("");
}, 240000);

test("a lost database is rebuilt with the built layers' plain-tar blobs: the image saves again", async () => {
  const ctx = context("repair", { Dockerfile: "FROM busybox\nCOPY a.txt /r/a.txt\nRUN echo r > /r/b\n", "a.txt": "a\n" });
  const id = (await t.ok(["build", "-q", "--network", "none", ctx])).trim();
  expect(id).toMatch(/^sha256:/);
  for (const f of readdirSync(t.dir).filter((n) => n.startsWith("tsd.db"))) rmSync(join(t.dir, f));
  expect(await t.ok(["system", "repair"])).toMatch(/recovered .* images/);
  expect(await t.ok(["images", "-a", "-q", "--no-trunc"])).toContain(id);
  await t.ok(["save", "-o", join(work, "repaired.tar"), id.slice(7)]);
  const saved = await savedArchive(join(work, "repaired.tar"), join(work, "repaired"));
  expect(saved.mediaTypes.slice(-2)).toEqual([OCI_LAYER, OCI_LAYER]);
});
