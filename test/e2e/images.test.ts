// The image commands end to end: images, rmi, tag, image inspect/prune, save (checked with
// skopeo), commit (whiteouts, opaque dirs, --change), export/import, and push to a real
// docker-registry, pulled back with skopeo and compared.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { TestRoot } from "../lib/tsd";
import { testImages, type TestImages } from "../lib/fixtures";
import { push, sh, skopeo, startRegistry, tempDir, type Registry } from "../lib/registry";

let images: TestImages;
let t: TestRoot;
let reg: Registry;
let work: string;

beforeAll(async () => {
  images = await testImages();
  t = new TestRoot("images");
  work = tempDir("images");
  reg = await startRegistry();
  await t.ok(["load", "-i", images.busyboxDocker]);
  const out = await t.ok(["load", "-i", images.multilayerOci]);
  const id = /sha256:([0-9a-f]{64})/.exec(out)![1]!;
  await t.ok(["tag", id, "multi:1"]);
}, 120000);

afterAll(async () => {
  await reg?.stop().catch(() => {});
  const leaks = t.leaks();
  await t.destroy();
  rmSync(work, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

/** The layer tars of an OCI layout dir (skopeo output), uncompressed, as `tar -t` listings. */
async function layerListings(layout: string): Promise<string[][]> {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(layout, "blobs", "sha256", index.manifests[0].digest.slice(7)), "utf8"));
  const out: string[][] = [];
  for (const l of manifest.layers) {
    const raw = readFileSync(join(layout, "blobs", "sha256", l.digest.slice(7)));
    const tar = l.mediaType.endsWith("gzip") ? gunzipSync(raw) : raw;
    const file = join(work, `l-${l.digest.slice(7, 19)}.tar`);
    await Bun.write(file, tar);
    out.push((await sh(["tar", "-tvf", file])).trim().split("\n"));
  }
  return out;
}

describe("images, tag, inspect", () => {
  test("images: table, -q, --digests, --format json, a repository filter", async () => {
    const table = await t.ok(["images"]);
    expect(table.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(table).toMatch(/\nbusybox\s+latest\s+[0-9a-f]{12}\s+\S.*\s+2\.\d+MB\n/);
    const ids = (await t.ok(["images", "-q"])).trim().split("\n");
    expect(ids.length).toBe(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect((await t.ok(["images", "--digests"])).split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID/);
    const json = (await t.ok(["images", "--format", "json"])).trim().split("\n").map((l) => JSON.parse(l));
    expect(json.map((j) => `${j.Repository}:${j.Tag}`).sort()).toEqual(["busybox:latest", "multi:1"]);
    expect((await t.ok(["images", "multi"])).trim().split("\n").length).toBe(2);
    // Any other --format is a Go template, as with docker: plain text prints once per image.
    expect(await t.ok(["images", "--format", "yaml"])).toBe("yaml\nyaml\n");
    const bad = await t.tsd(["images", "--format", "{{.Nope}}"]);
    expect([bad.code, bad.stderr.includes("can't evaluate field Nope in type *formatter.imageContext")]).toEqual([1, true]);
  });

  test("tag and image inspect (JSON and -f templates)", async () => {
    await t.ok(["tag", "busybox", "example.com/team/bb:v1"]);
    const [doc] = JSON.parse(await t.ok(["image", "inspect", "example.com/team/bb:v1"]));
    expect(doc.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.RepoTags).toEqual(["busybox:latest", "example.com/team/bb:v1"]);
    expect(doc.Config.Cmd).toEqual(["sh"]);
    expect(doc.RootFS.Layers.length).toBe(1);
    expect(doc.Architecture).toBe("amd64");
    expect(await t.ok(["image", "inspect", "-f", "{{.Os}} {{json .Config.Cmd}}", "busybox"])).toBe('linux ["sh"]\n');
    const missing = await t.tsd(["image", "inspect", "nope:1"]);
    expect(missing.code).toBe(1); // docker: "No such image", status 1
    expect(missing.stderr).toContain("no such image: nope:1");
    // A second tag goes alone.
    expect(await t.ok(["rmi", "example.com/team/bb:v1"])).toBe("Untagged: example.com/team/bb:v1\n");
    expect(await t.ok(["images", "-q"])).toContain(doc.Id.slice(7, 19));
  });
});

describe("commit, save, export, import, push", () => {
  let committedId = "";
  test("commit: deletions become whiteouts, a replaced dir opaque, --change sets the config", async () => {
    await t.ok([
      "run", "-u", "0", "--name", "changer", "multi:1",
      "rm /data/b; rm -rf /opt/x; mkdir /opt/x; echo two > /opt/x/n2; echo hi > /new; ln /new /new2; mkfifo /fifo",
    ]);
    const out = await t.ok(["commit", "-c", 'CMD ["cat", "/new"]', "-c", "ENTRYPOINT []", "-c", 'ENV A=1 B="two words"', "-c", "WORKDIR /opt", "-m", "changed", "changer", "committed:1"]);
    committedId = /^sha256:([0-9a-f]{64})$/.exec(out.trim())![1]!;
    expect(await t.ok(["run", "--rm", "committed:1"])).toBe("hi\n");
    expect(await t.ok(["run", "--rm", "-u", "0", "committed:1", "sh", "-c", 'echo "$A|$B|$(pwd)"; ls -A /data /opt/x; ls -l /fifo | cut -c1'])).toBe(
      "1|two words|/opt\n/data:\n\n/opt/x:\nn2\np\n",
    );
    const [doc] = JSON.parse(await t.ok(["image", "inspect", "committed:1"]));
    expect(doc.RootFS.Layers.length).toBe(4);
    const history = (await t.ok(["history", "committed:1"])).trim().split("\n");
    expect(history[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(history[1]).toMatch(new RegExp(`^${committedId.slice(0, 12)}\\s+.*tsd commit changer\\s+\\S+\\s+changed$`));
    expect(history.length).toBeGreaterThanOrEqual(5); // header, commit, 3 layers (+ umoci's config entries)
    expect(history.slice(2).every((l) => l.startsWith("<missing>"))).toBe(true);
    expect((await t.ok(["images", "--filter", "reference=commit*", "-q"])).trim()).toBe(committedId.slice(0, 12));
    // The new layer, as skopeo reads it back from a saved archive, holds AUFS whiteouts.
    await t.ok(["save", "-o", join(work, "committed.tar"), "committed:1"]);
    await skopeo(["copy", "-q", `docker-archive:${join(work, "committed.tar")}`, `oci:${join(work, "committed-layout")}:c`]);
    const top = (await layerListings(join(work, "committed-layout"))).at(-1)!.join("\n");
    expect(top).toMatch(/ data\/\.wh\.b$/m);
    expect(top).toMatch(/ opt\/x\/\.wh\.\.wh\.\.opq$/m);
    expect(top).toMatch(/ opt\/x\/n2$/m);
    expect(top).toMatch(/^h.* new2 link to new$/m);
    expect(top).not.toMatch(/etc\/hostname/);
  });

  test("save: docker-archive loads back and runs; oci-archive reads in skopeo by tag", async () => {
    const fresh = new TestRoot("images-load");
    try {
      expect(await fresh.ok(["load", "-i", join(work, "committed.tar")])).toBe("Loaded image: committed:1\n");
      expect(await fresh.ok(["images", "-q", "--no-trunc"])).toBe(`sha256:${committedId}\n`);
      expect(await fresh.ok(["run", "--rm", "committed:1"])).toBe("hi\n");
    } finally {
      await fresh.destroy();
    }
    await t.ok(["save", "--format", "oci-archive", "-o", join(work, "oci.tar"), "committed:1"]);
    const info = JSON.parse(await skopeo(["inspect", "--config", `oci-archive:${join(work, "oci.tar")}:1`]));
    expect(info.config.Cmd).toEqual(["cat", "/new"]);
    expect(info.rootfs.diff_ids.length).toBe(4);
    // To stdout too.
    const r = await t.tsd(["save", "busybox"]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(100000);
    const bad = await t.tsd(["save", "-o", join(work, "x.tar"), "nope:1"]);
    expect(bad.code).toBe(1);
    expect(existsSync(join(work, "x.tar"))).toBe(false);
  });

  test("export the container's filesystem; import it as a one-layer image", async () => {
    await t.ok(["export", "-o", join(work, "fs.tar"), "changer"]);
    const list = (await sh(["tar", "-tf", join(work, "fs.tar")])).split("\n");
    expect(list).toContain("bin/busybox");
    expect(list).toContain("opt/x/n2");
    expect(list).toContain("data/");
    expect(list).not.toContain("data/b");
    expect(list).not.toContain("opt/x/new");
    expect(list.some((l) => l.includes(".wh."))).toBe(false);
    const id = (await t.ok(["import", "-c", 'CMD ["cat", "/etc/motd"]', join(work, "fs.tar"), "imported:1"])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await t.ok(["run", "--rm", "imported:1"])).toBe("welcome to the multilayer image\n");
    const [doc] = JSON.parse(await t.ok(["image", "inspect", "imported:1"]));
    expect(doc.RootFS.Layers.length).toBe(1);
    const none = await t.tsd(["import", "/nonexistent.tar"]);
    expect(none.code).toBe(1);
  });

  test("push (chunked, then a cross-repository mount); skopeo pulls back the same image", async () => {
    await t.ok(["tag", "committed:1", `${reg.host}/team/committed:1`]);
    const out = await t.ok(["push", `${reg.host}/team/committed:1`], { env: { TSD_PUSH_CHUNK_SIZE: "200000" } });
    expect(out).toContain(`The push refers to repository [${reg.host}/team/committed]`);
    expect(out).toMatch(/: Pushed/);
    const digest = /1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)![1]!;
    const layout = join(work, "pushed");
    await skopeo(["copy", "-q", "--src-tls-verify=false", `docker://${reg.host}/team/committed:1`, `oci:${layout}:p`]);
    const cfg = JSON.parse(await skopeo(["inspect", "--config", `oci:${layout}:p`]));
    const [doc] = JSON.parse(await t.ok(["image", "inspect", "committed:1"]));
    expect(cfg.rootfs.diff_ids).toEqual(doc.RootFS.Layers);
    expect(cfg.config.Cmd).toEqual(["cat", "/new"]);
    // The config travelled byte for byte: its digest is the image id.
    const raw = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/team/committed:1`]));
    expect(raw.config.digest).toBe(doc.Id);
    expect((await skopeo(["inspect", "--tls-verify=false", `docker://${reg.host}/team/committed:1`])).includes(digest)).toBe(true);
    // The same blobs into another repository: mounted, not uploaded.
    await t.ok(["tag", "committed:1", `${reg.host}/other/copy:2`]);
    const again = await t.ok(["push", `${reg.host}/other/copy:2`]);
    expect(again).toMatch(/Mounted from team\/committed/);
    expect(again).not.toMatch(/: Pushed/);
    // A pushed loaded image keeps the manifest it was loaded with when the blobs are all here.
    await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/ref/busybox:latest`);
    const unknown = await t.tsd(["push", `${reg.host}/never/tagged:1`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("tag an image with that name first");
  });

  test("rmi: refused while a container uses the image, -f removes it; unused layers go", async () => {
    const r = await t.tsd(["rmi", "committed:1", `${reg.host}/team/committed:1`, `${reg.host}/other/copy:2`]);
    // The first two names only untag (other tags remain); the last one deletes the image,
    // which no container uses.
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Deleted: sha256:");
    const busyboxLayer = JSON.parse(await t.ok(["image", "inspect", "busybox"]))[0].RootFS.Layers[0].slice(7);
    expect(existsSync(join(t.dir, "layers", busyboxLayer))).toBe(true);
    const used = await t.tsd(["rmi", "multi:1"]);
    expect(used.code).toBe(1);
    expect(used.stderr).toMatch(/container .* \(changer\) uses it: remove the container or use -f/);
    const multiLayers: string[] = JSON.parse(await t.ok(["image", "inspect", "multi:1"]))[0].RootFS.Layers.map((l: string) => l.slice(7));
    await t.ok(["rmi", "-f", "multi:1"]);
    await t.ok(["rm", "changer"]);
    await t.ok(["rmi", "imported:1"]);
    // The busybox layer is shared with busybox:latest and stays; the others are gone.
    expect(existsSync(join(t.dir, "layers", multiLayers[0]!))).toBe(multiLayers[0] === busyboxLayer);
    for (const l of multiLayers.slice(1)) expect(existsSync(join(t.dir, "layers", l))).toBe(false);
    const links = readdirSync(join(t.dir, "layers", "l"));
    expect(links.length).toBe(1);
  });

  test("while another process adds to the store, rmi leaves layers and blobs for later", async () => {
    const u = new TestRoot("images-lease");
    try {
      await u.ok(["load", "-i", images.busyboxDocker]);
      const layer = JSON.parse(await u.ok(["image", "inspect", "busybox"]))[0].RootFS.Layers[0].slice(7);
      // A lease held by a live process (this test) stands for a pull in progress.
      mkdirSync(join(u.dir, "tmp", "leases"), { recursive: true });
      writeFileSync(join(u.dir, "tmp", "leases", `${process.pid}-test`), "");
      await u.ok(["rmi", "busybox"]);
      expect(existsSync(join(u.dir, "layers", layer))).toBe(true);
      rmSync(join(u.dir, "tmp", "leases", `${process.pid}-test`));
      expect(await u.ok(["image", "prune"])).toMatch(/Total reclaimed space: 2\.\d+MB/);
      expect(existsSync(join(u.dir, "layers", layer))).toBe(false);
      expect(readdirSync(join(u.dir, "blobs", "sha256"))).toEqual([]);
    } finally {
      await u.destroy();
    }
  });

  test("image prune removes dangling images; -a every unused one", async () => {
    const id = (await t.ok(["import", join(work, "fs.tar")])).trim();
    expect(await t.ok(["images"])).toContain("<none>");
    const out = await t.ok(["image", "prune", "-f"]);
    expect(out).toContain(`deleted: ${id}`);
    expect(await t.ok(["images"])).not.toContain("<none>");
    const all = await t.ok(["image", "prune", "-a", "-f"]);
    expect(all).toContain("untagged: busybox:latest");
    expect((await t.ok(["images", "-q"])).trim()).toBe("");
    expect(readdirSync(join(t.dir, "blobs", "sha256"))).toEqual([]);
    expect(readdirSync(join(t.dir, "layers")).filter((d) => d !== "l")).toEqual([]);
  });
});
