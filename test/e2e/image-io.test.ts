// Image I/O against hostile input and hostile plumbing: load refuses fifos, devices, bogus
// configs and layers that lie about their digest or diff_id (from a file or a pipe, nothing
// left in <root>/tmp); save, export and logs end at once and quietly when their reader goes
// (status 141, as docker: a Go program dies of SIGPIPE), and with one line on a full device
// or a closed stdout; import and load read pipes. Archives are made with python3 tarfile,
// GNU tar and skopeo; a pull test uses a real registry on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD, pipeline as runPipeline, type Pipeline } from "../lib/tsd";
import { ociLayoutParts, testImages, type TestImages } from "../lib/fixtures";
import { sh, startRegistry, tempDir, uploadBlob, type Registry } from "../lib/registry";

let images: TestImages;
let t: TestRoot;
let work: string;

/** Status 137 is SIGKILL from the `timeout` wrapper: the command did not end by itself. */
const KILLED = 137;

beforeAll(async () => {
  images = await testImages();
  t = new TestRoot("image-io");
  work = tempDir("image-io");
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  rmSync(work, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

/** lib/tsd.ts pipeline for this file's root. */
function pipeline(script: string, root = t.dir, limitSec = 60): Promise<Pipeline> {
  return runPipeline(script, root, { limitSec });
}

/** What a root's tmp holds besides the lease dir (empty after any command). */
function tmpLeft(root: string): string[] {
  const d = join(root, "tmp");
  return existsSync(d) ? readdirSync(d).filter((n) => n !== "leases") : [];
}

function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.trimEnd()).toMatch(pattern);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toContain("    at ");
}

/** A tar of the given entries, made by python3's tarfile (not by us). */
async function pyTar(path: string, entries: { name: string; type?: "fifo" | "chr" | "file"; data?: string | { size: number } | { file: string } }[]): Promise<void> {
  const spec = JSON.stringify(entries);
  const code = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for e in entries:
        ti = tarfile.TarInfo(e["name"])
        kind = e.get("type", "file")
        if kind == "fifo":
            ti.type = tarfile.FIFOTYPE
            t.addfile(ti)
        elif kind == "chr":
            ti.type = tarfile.CHRTYPE
            ti.devmajor, ti.devminor = 1, 5
            t.addfile(ti)
        else:
            d = e.get("data", "")
            data = open(d["file"], "rb").read() if isinstance(d, dict) and "file" in d else (b" " * d["size"]) if isinstance(d, dict) else d.encode()
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
`;
  await sh(["python3", "-c", code, path, spec]);
}

/** A small layer tar (GNU tar) that is not busybox's. */
async function otherLayer(): Promise<string> {
  const tar = join(work, "other-layer.tar");
  if (!existsSync(tar)) {
    const other = join(work, "other");
    mkdirSync(join(other, "etc"), { recursive: true });
    writeFileSync(join(other, "etc", "evil"), "x");
    await sh(["tar", "-C", other, "-cf", tar, "etc"]);
  }
  return tar;
}

const sha256 = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** The busybox fixture's OCI layout, unpacked: its config JSON and layer (gzip) bytes. */
async function busyboxParts(): Promise<{ config: Record<string, unknown>; configBytes: Uint8Array; layer: Uint8Array; layerDigest: string; diffId: string }> {
  const { configBytes, layer, layerDigest } = await ociLayoutParts(images.busyboxOci, work);
  const config = JSON.parse(configBytes.toString());
  return { config, configBytes, layer, layerDigest, diffId: config.rootfs.diff_ids[0] };
}

describe("load refuses what is not an image archive, promptly, leaving nothing", () => {
  test("a fifo entry (from a file and from a pipe)", async () => {
    const tar = join(work, "fifo.tar");
    await pyTar(tar, [{ name: "manifest.json", type: "fifo" }]);
    const r = await pipeline(`tsd load -i ${tar}; tsd load < ${tar}; cat ${tar} | tsd load`);
    expect(r.status).toEqual([0, 1]);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`tsd: cannot load "${tar}": archive entry "manifest.json": is a fifo (an image archive holds only files, directories and links): refused`);
    expect(lines[2]).toBe(`tsd: cannot load stdin: archive entry "manifest.json": is a fifo (an image archive holds only files, directories and links): refused`);
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("a character device 1:5 (/dev/zero) entry, or a link to the host's", async () => {
    const tar = join(work, "chr.tar");
    await pyTar(tar, [{ name: "blobs/sha256/zero", type: "chr" }]);
    const link = join(work, "link");
    mkdirSync(link);
    await sh(["ln", "-s", "/dev/zero", join(link, "manifest.json")]);
    const r = await pipeline(`tsd load -i ${tar}; tar -C ${link} -c manifest.json | tsd load; tsd load < /dev/null`);
    expect(r.status).toEqual([1]);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `tsd: cannot load "${tar}": archive entry "blobs/sha256/zero": is a character device (an image archive holds only files, directories and links): refused`,
      `tsd: cannot load stdin: the archive's "manifest.json" is a symlink out of the archive: refused`,
      "tsd: cannot load stdin: stdin was empty: pipe an archive in or give -i FILE",
    ]);
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("an image config that is null, or has fields of the wrong type, is named", async () => {
    const cases: [string, string, RegExp][] = [
      ["null", "null", /image bad:1: the config is null, not an object \(cfg\.json\)$/],
      ["diffids", JSON.stringify({ rootfs: { type: "layers", diff_ids: 5 } }), /image bad:1: the config's rootfs.diff_ids is not a list/],
      ["env", JSON.stringify({ config: { Env: "PATH=/bin" }, rootfs: { type: "layers", diff_ids: [] } }), /image bad:1: the config's config.Env is not a list of strings/],
      ["notjson", "{", /image bad:1: its config cfg.json is not JSON/],
    ];
    for (const [label, cfg, want] of cases) {
      const tar = join(work, `cfg-${label}.tar`);
      await pyTar(tar, [
        { name: "cfg.json", data: cfg },
        { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["bad:1"], Layers: [] }]) },
      ]);
      const r = await pipeline(`tsd load -i ${tar}`);
      expect(r.status).toEqual([1]);
      expectOneLine(r.stderr, want);
    }
    expect((await t.tsd(["image", "inspect", "bad:1"])).code).not.toBe(0);
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("a manifest.json of wrong shape or over 4 MiB", async () => {
    const shape = join(work, "shape.tar");
    await pyTar(shape, [{ name: "manifest.json", data: JSON.stringify([{ Config: "c.json" }]) }]);
    const big = join(work, "big.tar");
    await pyTar(big, [{ name: "manifest.json", data: { size: 5 * 1024 * 1024 } }]);
    const r = await pipeline(`tsd load -i ${shape}; tsd load -i ${big}`);
    expect(r.status).toEqual([1]);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      `tsd: cannot load "${shape}": manifest.json entry 0: "Layers" is not a list of paths`,
      `tsd: cannot load "${big}": manifest.json is 5242880 bytes, more than the 4194304 a JSON document of an image may have: refused`,
    ]);
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("a layer whose manifest digest is bogus is refused though its diff_id is stored", async () => {
    const bb = await busyboxParts();
    // An OCI layout: the real busybox config and layer bytes, but the manifest names the
    // layer by another digest.
    const bogus = `sha256:${sha256("not the layer")}`;
    const configDigest = `sha256:${sha256(bb.configBytes)}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: bb.configBytes.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: bogus, size: bb.layer.length }],
    });
    const dir = join(work, "bogus-layout");
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "blobs", "sha256", configDigest.slice(7)), bb.configBytes);
    writeFileSync(join(dir, "blobs", "sha256", bogus.slice(7)), bb.layer);
    writeFileSync(join(dir, "blobs", "sha256", sha256(manifest)), manifest);
    writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(
      join(dir, "index.json"),
      JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${sha256(manifest)}`, size: manifest.length, annotations: { "io.containerd.image.name": "docker.io/library/bogus:1" } }] }),
    );
    // A docker save archive whose layer is some other tar claiming busybox's diff_id.
    const evilCfg = JSON.stringify({ ...bb.config, config: { Cmd: ["sh"] } });
    await pyTar(join(work, "evil.tar"), [
      { name: "cfg.json", data: evilCfg },
      { name: "layer.tar", data: { file: await otherLayer() } },
      { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["evil:1"], Layers: ["layer.tar"] }]) },
    ]);
    const r = await pipeline(`tar -C ${dir} -c . | tsd load; tsd load -i ${join(work, "evil.tar")}`);
    expect(r.status).toEqual([1]);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`tsd: cannot load stdin: image bogus:1: layer ${bogus} has content ${bb.layerDigest}: the archive is corrupt`);
    expect(lines[1]).toMatch(/^tsd: cannot load ".*evil.tar": layer content sha256:[a-f0-9]{64} does not match the image config's diff_id sha256:[a-f0-9]{64}: the archive is corrupt$/);
    for (const name of ["bogus:1", "evil:1"]) expect((await t.tsd(["image", "inspect", name])).code).not.toBe(0);
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("a load killed mid-stream leaves its scratch dir, which the next load sweeps", async () => {
    const r = await pipeline(`(head -c 20000 ${images.busyboxDocker}; exec sleep 8) | timeout -s KILL 4 ${TSD} --root ${t.dir} load`);
    expect(r.status[1]).toBe(KILLED);
    const left = tmpLeft(t.dir);
    expect(left.length).toBe(1);
    expect(left[0]).toMatch(/^load-\d+-[A-Za-z0-9]{6}$/);
    // A scratch dir of a live process (this test runner) is not touched.
    const live = join(t.dir, "tmp", `load-${process.pid}-AAAAAA`);
    mkdirSync(live);
    await t.ok(["load", "-q", "-i", images.busyboxDocker]);
    expect(tmpLeft(t.dir)).toEqual([`load-${process.pid}-AAAAAA`]);
    rmSync(live, { recursive: true });
  }, 60000);
});

describe("archives stream through pipes both ways", () => {
  test("skopeo's docker-archive, tsd save and a gzipped save load from stdin", async () => {
    const fresh = new TestRoot("image-io-pipe");
    try {
      const r = await pipeline(
        `cat ${images.busyboxDocker} | tsd load\ntsd save busybox | tsd2 load\ntsd save busybox | gzip | tsd2 load -q`.replaceAll(
          "tsd2",
          `timeout -s KILL 60 ${TSD} --root ${fresh.dir}`,
        ),
      );
      expect(r.stderr).toBe("");
      expect(r.status).toEqual([0, 0, 0]);
      expect(r.stdout).toBe("Loaded image: busybox:latest\nLoaded image: busybox:latest\n");
      expect(await fresh.ok(["run", "--rm", "--network", "none", "busybox", "echo", "hi"])).toBe("hi\n");
      expect(tmpLeft(fresh.dir)).toEqual([]);
    } finally {
      await fresh.destroy();
    }
  }, 120000);

  test("cat fs.tar | tsd import - NAME", async () => {
    await t.ok(["create", "--name", "exp", "--network", "none", "busybox"]);
    const r = await pipeline(`tsd export exp | tsd import -c 'CMD ["echo", "imported"]' - imp:1 >/dev/null\ntsd export -o ${join(work, "fs.tar")} exp\ncat ${join(work, "fs.tar")} | tsd import - imp:2`);
    expect(r.stderr).toBe("");
    expect(r.status).toEqual([0, 0]);
    expect(await t.ok(["run", "--rm", "--network", "none", "imp:1"])).toBe("imported\n");
    expect(await t.ok(["run", "--rm", "--network", "none", "imp:2", "cat", "/bin/busybox"])).not.toBe("");
    const missing = await t.tsd(["import", "/nonexistent"]);
    expect(missing.code).toBe(1);
    expectOneLine(missing.stderr, /^tsd: cannot import "\/nonexistent": no such file$/);
    const dir = await t.tsd(["import", work]);
    expect(dir.code).toBe(1);
    expectOneLine(dir.stderr, /it is a directory, not a tarball/);
    expect(tmpLeft(t.dir)).toEqual([]);
  }, 120000);
});

describe("a reader that goes away ends save, export and logs at once and quietly", () => {
  test("save | head -c 1000, export | head -c 1000: status 141, no message", async () => {
    await t.tsd(["create", "--name", "exp2", "--network", "none", "busybox"]);
    const r = await pipeline(`tsd save busybox | head -c 1000 >/dev/null\ntsd export exp2 | head -c 1000 >/dev/null`);
    expect(r.stderr).toBe("");
    expect(r.status).toEqual([141, 0]);
    const s = await pipeline(`tsd save busybox | head -c 1000 >/dev/null`);
    expect(s.status).toEqual([141, 0]);
    expect(s.stderr).toBe("");
    expect(tmpLeft(t.dir)).toEqual([]);
  });

  test("logs | head -1", async () => {
    // 200k lines (over 1 MB): far more than a pipe holds, so head is gone before the end.
    await t.ok(["run", "--name", "chatty", "--network", "none", "busybox", "seq", "1", "200000"], { timeoutMs: 60000 });
    const r = await pipeline(`tsd logs chatty | head -1`);
    expect(r.stdout).toBe("1\n");
    expect(r.stderr).toBe("");
    expect(r.status).toEqual([141, 0]);
  }, 90000);

  test("a closed stdout is an error, not a silent success", async () => {
    const r = await pipeline(`tsd save busybox >&-`);
    expect(r.status).toEqual([1]);
    expectOneLine(r.stderr, /^tsd: stdout is closed: redirect it to a file or use -o FILE$/);
  });

  test("save -o into a missing directory names it and creates nothing", async () => {
    const out = join(work, "missing", "dir", "x.tar");
    const r = await t.tsd(["save", "-o", out, "busybox"]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, new RegExp(`^tsd: cannot write "${out}": no such directory "${join(work, "missing", "dir")}"$`));
    expect(existsSync(join(work, "missing"))).toBe(false);
    const dir = await t.tsd(["save", "-o", work, "busybox"]);
    expect(dir.code).toBe(1);
    expectOneLine(dir.stderr, new RegExp(`^tsd: cannot write "${work}": it is a directory: name a file in it$`));
  });

  test("a full device: one line naming what was written, no partial file", async () => {
    const mnt = join(work, "full");
    mkdirSync(mnt);
    await sh(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]);
    try {
      const r = await pipeline(`tsd save -o ${mnt}/a.tar busybox\ntsd save busybox > ${mnt}/b.tar\ntsd export exp > ${mnt}/c.tar\ntsd logs chatty > /dev/full`);
      expect(r.status).toEqual([1]);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        `tsd: no space left on device writing ${mnt}/a.tar`,
        "tsd: no space left on device writing stdout",
        "tsd: no space left on device writing stdout",
        "tsd: no space left on device writing stdout",
      ]);
      expect(readdirSync(mnt).filter((n) => n.startsWith("a.tar"))).toEqual([]);
      expect(tmpLeft(t.dir)).toEqual([]);
    } finally {
      await sh(["umount", mnt]);
    }
  });
});

describe("pull", () => {
  let reg: Registry | undefined;
  afterAll(async () => {
    await reg?.stop().catch(() => {});
  });

  const putBlob = (repo: string, bytes: Uint8Array) => uploadBlob(reg!.host, repo, bytes);

  test("a manifest naming another blob for a stored diff_id is refused, not taken as 'Already exists'", async () => {
    reg = await startRegistry();
    const bb = await busyboxParts();
    // busybox's config (its diff_id is stored in this root) over a layer that is another tar.
    const other = new Uint8Array(readFileSync(await otherLayer()));
    const layerDigest = await putBlob("evil", other);
    const configDigest = await putBlob("evil", bb.configBytes);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: bb.configBytes.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: other.length }],
    });
    const put = await fetch(`http://${reg.host}/v2/evil/manifests/1`, { method: "PUT", body: manifest, headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } });
    expect(put.status).toBe(201);
    const r = await t.tsd(["pull", "-q", `${reg.host}/evil:1`], { timeoutMs: 60000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`layer ${layerDigest} unpacks to sha256:${sha256(other)}, but the image config says ${bb.diffId}`);
    expect((await t.tsd(["image", "inspect", `${reg.host}/evil:1`])).code).not.toBe(0);
  }, 90000);
});
