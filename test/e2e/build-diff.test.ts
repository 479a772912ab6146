// tsd build against buildah and docker build (issue 15's differential test): the Dockerfiles
// of test/lib/build-diff.ts built by all three from one context on the same busybox (the
// fixture's docker-save archive loaded into each), each result saved as a docker-archive,
// its layers flattened with their whiteouts (test/lib/image-fs.py), and the root filesystems
// (paths, types, modes, owners, link targets, content hashes) and configs compared. Known
// legitimate differences are the commented allowlist of test/lib/build-diff.ts; any other
// difference fails.
//
// buildah: Debian's (1.28), its own --root/--runroot in the work dir, the vfs driver, chroot
// isolation (no runtime, no network, no cgroup). docker: Debian's dockerd 20.10 (its classic
// builder, DOCKER_BUILDKIT=0), private: data root, exec root, pid file and socket in the work
// dir, no bridge, no iptables, its own containerd namespace, cgroupfs under a parent of its
// own, in a private mount namespace (its mounts die with it); stopped and checked in afterAll.
// Skipped, saying why, when either is missing (scripts/bootstrap.sh installs both).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { CASES, compareImages, writeContext, type Engine, type ImageFs } from "../lib/build-diff";

setDefaultTimeout(180000);
const DOCKERD = "/usr/sbin/dockerd";
const DOCKER = "/usr/bin/docker";
const BUILDAH = "/usr/bin/buildah";
const missing = [DOCKERD, DOCKER, BUILDAH].filter((f) => !existsSync(f));
if (missing.length > 0) console.warn(`build-diff: skipped: ${missing.join(", ")} not installed (apt-get install docker.io buildah; scripts/bootstrap.sh does)`);

interface Daemon {
  proc: ReturnType<typeof Bun.spawn>;
  sock: string;
  name: string;
}

let t: TestRoot;
let work = "";
let dockerd: Daemon | undefined;
const images = new Map<string, ImageFs>();

async function sh(argv: string[], what: string, env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: work, ...env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${what}: ${argv.join(" ")} exited ${code}:\n${out.slice(-3000)}${err.slice(-3000)}`);
  return out;
}

function buildah(...args: string[]): string[] {
  return ["unshare", "-m", "--propagation", "private", BUILDAH, "--root", join(work, "buildah/root"), "--runroot", join(work, "buildah/run"), "--storage-driver", "vfs", ...args];
}

function docker(...args: string[]): string[] {
  return [DOCKER, "-H", `unix://${dockerd!.sock}`, ...args];
}

async function startDockerd(): Promise<Daemon> {
  const d = join(work, "docker");
  mkdirSync(d);
  await Bun.write(join(d, "daemon.json"), "{}");
  const name = `tsd-bdiff-${work.slice(-6)}`;
  const sock = join(d, "docker.sock");
  const proc = Bun.spawn(
    ["unshare", "-m", "--propagation", "private", DOCKERD, "--config-file", join(d, "daemon.json"), "--data-root", join(d, "data"), "--exec-root", join(d, "exec"), "--pidfile", join(d, "docker.pid"), "-H", `unix://${sock}`, "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--userland-proxy=false", "--containerd-namespace", name, "--containerd-plugins-namespace", `${name}-p`, "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", `/${name}`],
    { stdin: "ignore", stdout: Bun.file(join(d, "dockerd.log")), stderr: Bun.file(join(d, "dockerd.log")) },
  );
  const daemon = { proc, sock, name };
  dockerd = daemon;
  for (let i = 0; i < 300; i++) {
    if (Bun.spawnSync(docker("version"), { stdout: "ignore", stderr: "ignore" }).exitCode === 0) return daemon;
    if (proc.exitCode !== null) break;
    await Bun.sleep(100);
  }
  throw new Error(`the private dockerd did not start: ${readFileSync(join(d, "dockerd.log"), "utf8").slice(-2000)}`);
}

/** Stops the private dockerd; returns what it left (processes, mounts, cgroups). */
async function stopDockerd(): Promise<string[]> {
  if (!dockerd) return [];
  const d = dockerd;
  const ids = Bun.spawnSync(docker("ps", "-aq")).stdout.toString().split("\n").filter(Boolean);
  if (ids.length > 0) Bun.spawnSync(docker("rm", "-f", ...ids));
  dockerd = undefined;
  d.proc.kill("SIGTERM");
  const timer = setTimeout(() => d.proc.kill("SIGKILL"), 20000);
  await d.proc.exited;
  clearTimeout(timer);
  const leaks: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cmd = "";
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmd.includes(work) && Number(pid) !== process.pid) {
      leaks.push(`process ${pid}: ${cmd.replaceAll("\0", " ")}`);
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
  }
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (line.includes(work)) leaks.push(`mount: ${line}`);
  // The cgroup parent dockerd made stays (removed here); a group under it is a leak.
  for (const ctl of readdirSync("/sys/fs/cgroup")) {
    const g = join("/sys/fs/cgroup", ctl, d.name);
    if (!existsSync(g)) continue;
    for (const sub of readdirSync(g, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      leaks.push(`cgroup: ${join(g, sub.name)}`);
      Bun.spawnSync(["rmdir", join(g, sub.name)]);
    }
    Bun.spawnSync(["rmdir", g]);
  }
  return leaks;
}

async function exported(engine: Engine, name: string, archive: string): Promise<ImageFs> {
  const out = await sh(["python3", join(import.meta.dir, "../lib/image-fs.py"), archive], `${engine} ${name}: image-fs.py`);
  return JSON.parse(out) as ImageFs;
}

async function build(engine: Engine, c: (typeof CASES)[number]): Promise<ImageFs> {
  const ctx = join(work, "ctx");
  const tag = `bdiff-${c.name}:latest`;
  const common = ["-f", join(ctx, `Dockerfile.${c.name}`), "-t", tag, ...(c.target ? ["--target", c.target] : []), ...Object.entries(c.buildArgs ?? {}).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`])];
  const archive = join(work, `${engine}-${c.name}.tar`);
  if (engine === "tsd") {
    await t.ok(["build", "-q", "--network", "none", ...common, ctx], { timeoutMs: 120000 });
    await t.ok(["save", "-o", archive, tag]);
  } else if (engine === "docker" || engine === "buildkit") {
    await sh(docker("build", "-q", "--network", "none", ...common, ctx), `docker build ${c.name}`, { DOCKER_BUILDKIT: engine === "docker" ? "0" : "1" });
    await sh(docker("save", "-o", archive, tag), `docker save ${c.name}`);
  } else {
    await sh(buildah("bud", "-q", "--format", "docker", "--pull=never", "--isolation", "chroot", "--layers", ...common, ctx), `buildah bud ${c.name}`);
    await sh(buildah("push", tag, `docker-archive:${archive}:${tag}`), `buildah push ${c.name}`);
  }
  return exported(engine, c.name, archive);
}

describe.skipIf(missing.length > 0)("tsd build, buildah bud and docker build make the same images", () => {
  beforeAll(async () => {
    const fixtures = await testImages();
    work = mkdtempSync("/tmp/tsd-e2e-bdiff-");
    t = new TestRoot("build-diff");
    writeContext(join(work, "ctx"));
    await t.ok(["load", "-i", fixtures.busyboxDocker]);
    await startDockerd();
    await sh(docker("load", "-i", fixtures.busyboxDocker), "docker load");
    await sh(buildah("pull", "-q", `docker-archive:${fixtures.busyboxDocker}`), "buildah pull");
    const [id] = (await sh(buildah("images", "-q"), "buildah images")).split("\n");
    await sh(buildah("tag", id!, "busybox"), "buildah tag");
    // The three engines build at once (each its own store); the cases one after the other.
    for (const c of CASES) {
      const engines = c.engines ?? ["tsd", "buildah", "docker"];
      // Settled, not all: a failing engine must not leave the others' builds running.
      const made = await Promise.allSettled(engines.map((e) => build(e, c)));
      for (const [i, m] of made.entries()) {
        if (m.status === "rejected") throw m.reason;
        images.set(`${engines[i]}/${c.name}`, m.value);
      }
    }
  }, 300000);

  afterAll(async () => {
    const leaks = [...(await stopDockerd()), ...(t ? t.leaks() : [])];
    if (t) await t.destroy();
    if (work) {
      Bun.spawnSync(["rm", "-rf", work]);
      rmSync(work, { recursive: true, force: true });
    }
    expect(leaks).toEqual([]);
  }, 60000);

  for (const c of CASES) {
    for (const other of (c.engines ?? ["tsd", "buildah", "docker"]).filter((e) => e !== "tsd")) {
      test(`${c.name}: tsd's image is ${other}'s`, () => {
        const diffs = compareImages(images.get(`tsd/${c.name}`)!, images.get(`${other}/${c.name}`)!, other);
        expect(diffs).toEqual([]);
      });
    }
  }
});
