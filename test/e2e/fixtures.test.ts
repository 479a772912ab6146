// The test images are real: archives that umoci and skopeo, not our code, read back as expected.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { testImages, type TestImages } from "../lib/fixtures";

let images: TestImages;

beforeAll(async () => {
  images = await testImages();
}, 120000);

function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const tarList = (file: string) => run(["tar", "-tf", file]).split("\n").filter(Boolean);

interface Inspected {
  layers: number;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

function inspect(ref: string): Inspected {
  const i = JSON.parse(run(["skopeo", "--insecure-policy", "inspect", ref]));
  const c = JSON.parse(run(["skopeo", "--insecure-policy", "inspect", "--config", ref])).config ?? {};
  return { layers: i.Layers.length, Cmd: c.Cmd, Entrypoint: c.Entrypoint, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User };
}

/** Whether an ELF64 little-endian file names a program interpreter (PT_INTERP), i.e. is dynamic. */
function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

describe("test images", () => {
  test("the OCI tars are image layouts", () => {
    for (const f of [images.busyboxOci, images.multilayerOci]) {
      const entries = tarList(f);
      expect(entries).toContain("index.json");
      expect(entries).toContain("oci-layout");
      expect(entries.some((e) => e.startsWith("blobs/sha256/"))).toBe(true);
    }
  });

  test("the docker tar is a docker save archive", () => {
    const entries = tarList(images.busyboxDocker);
    expect(entries).toContain("manifest.json");
    const manifest = JSON.parse(run(["tar", "-xOf", images.busyboxDocker, "manifest.json"]));
    expect(manifest).toHaveLength(1);
    expect(manifest[0].Layers).toHaveLength(1);
    expect(manifest[0].RepoTags[0]).toMatch(/^(docker\.io\/library\/)?busybox:latest$/);
  });

  test("skopeo reads busybox-oci.tar: one layer, Cmd sh", () => {
    const i = inspect(`oci-archive:${images.busyboxOci}:latest`);
    expect(i.layers).toBe(1);
    expect(i.Cmd).toEqual(["sh"]);
    expect(i.Entrypoint ?? null).toBeNull();
    expect(i.Env).toEqual([PATH_ENV]);
    expect(i.WorkingDir).toBe("/");
  });

  test("skopeo reads busybox-docker.tar: the same image", () => {
    const i = inspect(`docker-archive:${images.busyboxDocker}`);
    expect(i.layers).toBe(1);
    expect(i.Cmd).toEqual(["sh"]);
    expect(i.Env).toEqual([PATH_ENV]);
  });

  test("skopeo reads multilayer-oci.tar: three layers, Entrypoint, Cmd, Env, WorkingDir, User", () => {
    const i = inspect(`oci-archive:${images.multilayerOci}:latest`);
    expect(i.layers).toBe(3);
    expect(i.Entrypoint).toEqual(["/bin/sh", "-c"]);
    expect(i.Cmd).toEqual(["echo from-entrypoint"]);
    expect(i.Env).toContain("FOO=bar");
    expect(i.WorkingDir).toBe("/data");
    expect(i.User).toBe("1000:1000");
  });

  test("the rootfs: static busybox, applet links, users, modes", () => {
    const r = images.rootfs;
    const elf = readFileSync(join(r, "bin/busybox"));
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(hasInterpreter(elf)).toBe(false); // static: runs in a rootfs with no libc
    expect(readlinkSync(join(r, "bin/sh"))).toBe("/bin/busybox");
    expect(lstatSync(join(r, "usr/bin/env")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(r, "etc/passwd"), "utf8")).toContain("user:x:1000:1000:user:/home/user:/bin/sh");
    expect(readFileSync(join(r, "etc/group"), "utf8")).toContain("user:x:1000:");
    expect(statSync(join(r, "tmp")).mode & 0o7777).toBe(0o1777);
    expect(statSync(join(r, "home/user")).uid).toBe(1000);
    expect(existsSync(join(r, "root"))).toBe(true);
  });
});
