// A hostile image and a hostile running container against every place the host touches a
// container's files (issue 9): cp (created, stopped, running; both ways), a volume's copy-up,
// export and commit racing a directory swapped for a symlink, and exec -u with a huge passwd.
// The image is built here with umoci from the busybox-static fixture; its /bin/tar and
// /bin/test are scripts that leave a marker on the host if anything ever runs them outside
// the container's confinement.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(60000);

let t: TestRoot;
let work: string;
const tag = `p${process.pid}`;
/** Written on the host by the fake tar/test if they ever run as host root outside a container. */
const pwned = `/tmp/tsd-hostile-pwned-${tag}`;
/** A host directory the image's symlinks point at by absolute path. */
const hostTarget = `/tmp/tsd-hostile-target-${tag}`;
/** A host-only secret the racing container tries to get into an export or a commit. */
const hostSecretDir = `/tmp/tsd-hostile-secret-${tag}`;
const RACE_FILES = 200;

async function sh(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err}`);
  return out;
}

const fakeTool = `#!/bin/busybox sh
/bin/busybox touch "/tmp/ran-$(/bin/busybox basename "$0")"
/bin/busybox mount -t proc proc /proc 2>/dev/null
/bin/busybox touch /proc/1/root${pwned}
exit 1
`;

/** The busybox rootfs made hostile, as one umoci layer, loaded as hostile:1. */
async function buildHostileImage(rootfsFixture: string): Promise<void> {
  const rootfs = join(work, "rootfs");
  await sh(["cp", "-a", rootfsFixture, rootfs]);
  for (const tool of ["bin/tar", "usr/bin/tar", "bin/test", "usr/bin/test", "usr/bin/[", "bin/["]) {
    rmSync(join(rootfs, tool), { force: true });
    writeFileSync(join(rootfs, tool), fakeTool, { mode: 0o755 });
  }
  mkdirSync(join(rootfs, "data"));
  writeFileSync(join(rootfs, "data/suid"), "setuid\n");
  chmodSync(join(rootfs, "data/suid"), 0o4755);
  linkSync(join(rootfs, "data/suid"), join(rootfs, "data/hl"));
  symlinkSync("/etc/passwd", join(rootfs, "data/pw"));
  symlinkSync("../../../..", join(rootfs, "data/up"));
  symlinkSync("/", join(rootfs, "data/root"));
  symlinkSync("/", join(rootfs, "y"));
  symlinkSync(hostTarget, join(rootfs, "dst"));
  symlinkSync(`../../../../..${hostTarget}`, join(rootfs, "dst2"));
  const layout = join(work, "oci");
  await sh(["tar", "-C", rootfs, "-cf", join(work, "layer.tar"), "--numeric-owner", "."]);
  await sh(["umoci", "init", "--layout", layout]);
  await sh(["umoci", "new", "--image", `${layout}:hostile`]);
  await sh(["umoci", "raw", "add-layer", "--image", `${layout}:hostile`, join(work, "layer.tar")]);
  await sh(["umoci", "config", "--image", `${layout}:hostile`, "--config.cmd", "sh"]);
  await sh(["tar", "-C", layout, "-cf", join(work, "hostile.tar"), "."]);
  const out = await t.ok(["load", "-i", join(work, "hostile.tar")]);
  await t.ok(["tag", /sha256:([0-9a-f]{64})/.exec(out)![1]!, "hostile:1"]);
}

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("hostile");
  work = mkdtempSync("/tmp/tsd-e2e-hostile-");
  mkdirSync(hostTarget, { recursive: true });
  mkdirSync(hostSecretDir, { recursive: true });
  // The same names as the racing container's own files: a walk that follows its swapped
  // symlink reads these instead.
  for (let i = 0; i < RACE_FILES; i++) writeFileSync(join(hostSecretDir, `f${i}`), "host only\n");
  await buildHostileImage(images.rootfs);
}, 120000);

afterAll(async () => {
  await t.tsd(["rm", "-f", ...(await t.ok(["ps", "-aq", "--no-trunc"])).split("\n").filter(Boolean)]);
  await t.tsd(["volume", "rm", "-f", "hvol"]);
  const leaks = t.leaks();
  await t.destroy();
  for (const d of [work, hostTarget, hostSecretDir, pwned]) rmSync(d, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

describe("cp never runs the container's programs", () => {
  for (const state of ["created", "stopped", "running"] as const) {
    test(`${state}: the image's tar and test are never executed, the copy still works`, async () => {
      const name = `cp-${state}`;
      if (state === "created") await t.ok(["create", "--name", name, "--network", "none", "hostile:1", "sleep", "300"]);
      if (state === "stopped") await t.ok(["run", "--name", name, "--network", "none", "hostile:1", "true"]);
      if (state === "running") await t.ok(["run", "-d", "--name", name, "--network", "none", "hostile:1", "sleep", "300"]);
      const host = mkdtempSync(join(work, "cp-"));
      try {
        await t.ok(["cp", `${name}:/etc/passwd`, join(host, "passwd")]);
        expect(readFileSync(join(host, "passwd"), "utf8")).toContain("user:x:1000:1000");
        writeFileSync(join(host, "in.txt"), "in\n");
        await t.ok(["cp", join(host, "in.txt"), `${name}:/tmp/`]);
        await t.ok(["cp", `${name}:/tmp/.`, join(host, "tmp")]);
        // Nothing ran: no marker inside the container, none on the host.
        expect(readdirSync(join(host, "tmp")).sort()).toEqual(["in.txt"]);
        expect(existsSync(pwned)).toBe(false);
      } finally {
        rmSync(host, { recursive: true, force: true });
        await t.ok(["rm", "-f", name]);
      }
    });
  }
});

describe("cp contains what it writes", () => {
  test("out of the container: no setuid bit, symlinks stay symlinks, hard links kept, no device nodes, nothing beside the destination", async () => {
    await t.ok(["run", "-d", "--name", "cpout", "--network", "none", "hostile:1", "sleep", "300"]);
    const host = mkdtempSync(join(work, "out-"));
    try {
      const mknod = await t.tsd(["exec", "cpout", "mknod", "/data/mem", "c", "1", "1"]);
      await t.ok(["cp", "cpout:/data", join(host, "out")]);
      expect(readdirSync(host)).toEqual(["out"]);
      const out = join(host, "out");
      expect(statSync(join(out, "suid")).mode & 0o7777).toBe(0o755);
      expect(statSync(join(out, "hl")).ino).toBe(statSync(join(out, "suid")).ino);
      expect(readlinkSync(join(out, "pw"))).toBe("/etc/passwd");
      expect(readlinkSync(join(out, "up"))).toBe("../../../..");
      expect(readlinkSync(join(out, "root"))).toBe("/");
      if (mknod.code === 0) expect(existsSync(join(out, "mem"))).toBe(false);
      else console.log(`skipped the device-node check: mknod in the container failed (${mknod.stderr.trim()})`);
      // A symlink named as the source is copied as the link, not what it points to.
      await t.ok(["cp", "cpout:/data/root", join(host, "rootlink")]);
      expect(lstatSync(join(host, "rootlink")).isSymbolicLink()).toBe(true);
      // The container's kernel filesystems are not walked (reading /proc as host root is no copy).
      await t.ok(["cp", "cpout:/proc", join(host, "proc")]);
      expect(readdirSync(join(host, "proc"))).toEqual([]);
      // -a keeps the setuid bit (Docker's archive mode).
      await t.ok(["cp", "-a", "cpout:/data/suid", join(host, "suid-a")]);
      expect(statSync(join(host, "suid-a")).mode & 0o7777).toBe(0o4755);
    } finally {
      rmSync(host, { recursive: true, force: true });
      await t.ok(["rm", "-f", "cpout"]);
    }
  });

  for (const state of ["stopped", "running"] as const) {
    test(`into a ${state} container: a destination symlink to a host path resolves inside the rootfs`, async () => {
      const name = `cpin-${state}`;
      if (state === "stopped") await t.ok(["run", "--name", name, "--network", "none", "hostile:1", "true"]);
      else await t.ok(["run", "-d", "--name", name, "--network", "none", "hostile:1", "sleep", "300"]);
      const host = mkdtempSync(join(work, "in-"));
      const unique = `tsd-hostile-in-${tag}-${state}`;
      try {
        writeFileSync(join(host, unique), "payload\n");
        // /dst -> <hostTarget>: missing in the container, so the link itself is the new name.
        await t.ok(["cp", join(host, unique), `${name}:/dst`]);
        const bad = await t.tsd(["cp", join(host, unique), `${name}:/dst2/x`]);
        expect(bad.code).not.toBe(0);
        // /data/root -> /: the container's root receives the file, not the host's.
        await t.ok(["cp", join(host, unique), `${name}:/data/root/`]);
        expect(readdirSync(hostTarget)).toEqual([]);
        expect(existsSync(`/${unique}`)).toBe(false);
        await t.ok(["cp", `${name}:/${unique}`, join(host, "back")]);
        expect(readFileSync(join(host, "back"), "utf8")).toBe("payload\n");
        await t.ok(["cp", `${name}:/dst`, join(host, "dst-back")]);
        expect(readFileSync(join(host, "dst-back"), "utf8")).toBe("payload\n");
      } finally {
        rmSync(`/${unique}`, { force: true });
        rmSync(host, { recursive: true, force: true });
        await t.ok(["rm", "-f", name]);
      }
    });
  }
});

test("volume copy-up resolves the mount point inside the image: /y -> / never reaches the host's /etc", async () => {
  expect(existsSync("/etc/shadow")).toBe(true); // what a broken copy-up would bring along
  await t.ok(["run", "--rm", "--network", "none", "-v", "hvol:/y/etc", "hostile:1", "true"]);
  const [info] = JSON.parse(await t.ok(["volume", "inspect", "hvol"]));
  const data = info.Mountpoint as string;
  expect(existsSync(join(data, "shadow"))).toBe(false);
  expect(readFileSync(join(data, "passwd"), "utf8")).toContain("user:x:1000:1000");
  expect(readdirSync(data).sort()).toEqual(["group", "passwd"]);
  await t.ok(["volume", "rm", "hvol"]);
});

describe("a running container racing the host's walks", () => {
  // /r/d flips between a real directory and a symlink to a host-only directory with the same
  // file names: every file a walk opens by a host path is a chance to read the host's.
  const racer = `mkdir -p /r/d && for i in $(seq 0 ${RACE_FILES - 1}); do echo mine > /r/d/f$i; done; echo > /r/ready; while :; do mv /r/d /r/d.real; ln -s ${hostSecretDir} /r/d; rm /r/d; mv /r/d.real /r/d; done`;
  const hostBytes = Buffer.from("host only");
  const started = async (name: string) => {
    for (let i = 0; i < 200 && (await t.tsd(["exec", name, "cat", "/r/ready"])).code !== 0; i++) await Bun.sleep(25);
  };

  test("export never contains host files", async () => {
    await t.ok(["run", "-d", "--name", "racer", "--network", "none", "hostile:1", "sh", "-c", racer]);
    try {
      await started("racer");
      let sawSwap = 0;
      for (let i = 0; i < 12; i++) {
        const file = join(work, `export-${i}.tar`);
        await t.ok(["export", "-o", file, "racer"]);
        const list = await sh(["tar", "-tvf", file]);
        expect(Buffer.from(await sh(["tar", "-xOf", file])).indexOf(hostBytes)).toBe(-1);
        if (/ r\/d -> /.test(list)) sawSwap++;
        expect(list).toContain("bin/busybox");
        rmSync(file);
      }
      console.log(`export saw the symlink side of the swap in ${sawSwap} of 12 runs`);
    } finally {
      await t.ok(["rm", "-f", "racer"]);
    }
  });

  test("commit (paused by default, and with --pause=false) never contains host files; the container runs on", async () => {
    await t.ok(["run", "-d", "--name", "racer2", "--network", "none", "hostile:1", "sh", "-c", racer]);
    try {
      await started("racer2");
      for (const [i, pause] of [[1, []], [2, ["--pause=false"]], [3, []], [4, ["--pause=false"]]] as const) {
        await t.ok(["commit", ...pause, "racer2", `raced:${i}`]);
        // A host file packed into the layer would be a real file under /r in the image.
        const found = await t.ok(["run", "--rm", "--network", "none", `raced:${i}`, "sh", "-c", "find /r; cat /r/d/* /r/d.real/* 2>/dev/null; true"]);
        expect(found).not.toContain("host only");
        expect(found).toMatch(/\/r\/d/);
      }
      // Thawed: the container still answers.
      expect(await t.ok(["exec", "racer2", "echo", "alive"], { timeoutMs: 10000 })).toBe("alive\n");
    } finally {
      await t.ok(["rm", "-f", "racer2"]);
    }
  });
});

test("exec -u NAME with a 100 MB /etc/passwd: one clear error, the passwd is not read", async () => {
  await t.ok(["run", "-d", "--name", "bigpw", "--network", "none", "hostile:1", "sleep", "300"]);
  try {
    await t.ok(["exec", "bigpw", "sh", "-c", "head -c 104857600 /dev/zero > /etc/passwd"]);
    const r = await t.tsd(["exec", "-u", "user", "bigpw", "id"]);
    expect(r.code).toBe(126);
    expect(r.stderr).toBe("tsd: /etc/passwd in the container is larger than 1 MiB: tsd does not read account files that large\n");
    // A passwd swapped for a symlink to the host's is not followed: no host-only user found.
    expect(readFileSync("/etc/passwd", "utf8")).toMatch(/^daemon:/m);
    await t.ok(["exec", "bigpw", "sh", "-c", "rm /etc/passwd && ln -s /etc/../../../../../etc/passwd.host /etc/passwd && ln -s /proc/1/root/etc/passwd /etc/passwd.host"]);
    const viaLink = await t.tsd(["exec", "-u", "daemon", "bigpw", "id"]);
    expect(viaLink.code).toBe(126);
    expect(viaLink.stderr).toContain("unable to find user daemon");
  } finally {
    await t.ok(["rm", "-f", "bigpw"]);
  }
});

test("nothing ever ran on the host", () => {
  expect(existsSync(pwned)).toBe(false);
  try {
    unlinkSync(pwned);
  } catch {
    // Absent, as it must be.
  }
});
