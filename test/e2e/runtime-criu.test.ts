// tsd as an OCI runtime: checkpoint and restore through CRIU (src/runtime/checkpoint.ts,
// restore.ts), driven through dist/tsd-runc as containerd's shim calls runc. A subreaper
// (test/lib/subreaper.py) plays the shim for create and for restore --detach and reaps what
// they leave. The container counts in its rootfs (/tmp/c, ten times a second); after
// checkpoint + restore the count must go on from where it was, not start again.
// CRIU: $TSD_TEST_CRIU, else `criu` on PATH; the round trips need one that passes `criu check`
// (Debian 12's 3.17 does not on kernels 6.13+, whose vDSO has a [vvar_vclock] mapping: 4.1+
// does) and are skipped, saying so, without one. The failure paths run whatever the CRIU.
// Nothing is left: no state dir, cgroup, process or mount.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TSD, processes } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { topGroupsNamed } from "../lib/cgroups";

setDefaultTimeout(60000);

const RUNC = join(dirname(TSD), "tsd-runc");
const SUBREAPER = resolve(import.meta.dir, "../lib/subreaper.py");
const TAG = `tsd-rtcriu-${process.pid}`;
const COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/c; [ -d /data ] && echo $i > /data/c; sleep 0.1; done";

const CRIU = process.env.TSD_TEST_CRIU || Bun.which("criu") || "";
const CRIU_CHECK = CRIU ? Bun.spawnSync([CRIU, "check"], { stdout: "pipe", stderr: "pipe" }) : undefined;
const CRIU_WORKS = CRIU_CHECK?.exitCode === 0;
const WHY_SKIP = !CRIU
  ? "no criu on PATH and no $TSD_TEST_CRIU"
  : `${CRIU} check fails on this kernel: ${(CRIU_CHECK!.stderr.toString() + CRIU_CHECK!.stdout.toString()).split("\n").find((l) => /Error/.test(l)) ?? "exit " + CRIU_CHECK!.exitCode} (CRIU 4.1+ is needed on kernels 6.13+; point $TSD_TEST_CRIU at one)`;
if (!CRIU_WORKS) console.warn(`runtime-criu: checkpoint/restore round trips skipped: ${WHY_SKIP}`);

let base = "";
let root = "";
let rootfs = "";
const shims: Subprocess[] = [];
const ids: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function rt(args: string[], env?: Record<string, string>): Promise<Result> {
  const proc = Bun.spawn([RUNC, "--root", root, ...(CRIU ? ["--criu", CRIU] : []), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: env ?? process.env });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function ok(args: string[]): Promise<string> {
  const r = await rt(args);
  if (r.code !== 0) throw new Error(`tsd-runc ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** A subreaper running one tsd-runc command; its report lines (fd 3). The container's stdin is
 *  /dev/null (a file outside it: CRIU's external file), its stdout and stderr a pipe (a shim's:
 *  Bun's own "pipe" is a socketpair, which CRIU could not dump). */
function shim(args: string[]): { events: () => Record<string, number>[] } {
  const cmd = ["python3", SUBREAPER, RUNC, "--root", root, "--criu", CRIU, ...args].map((a) => `'${a}'`).join(" ");
  const proc = Bun.spawn(["sh", "-c", `${cmd} 2>&1 | cat >> '${base}/shim.out'`], { stdio: ["ignore", "ignore", "ignore", "pipe"] });
  shims.push(proc);
  let text = "";
  void (async () => {
    for await (const chunk of Bun.file(proc.stdio[3] as unknown as number).stream()) text += Buffer.from(chunk).toString();
  })();
  return { events: () => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>) };
}

async function until<T>(what: string, get: () => T | undefined, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** A bundle of the counter; `vol`: a host directory bound on /data (an external mount). */
function bundle(name: string, vol?: string): string {
  const dir = join(base, `bundle-${name}`);
  mkdirSync(dir);
  expect(Bun.spawnSync(["cp", "-a", rootfs, join(dir, "rootfs")]).exitCode).toBe(0);
  expect(Bun.spawnSync([RUNC, "spec", "--bundle", dir]).exitCode).toBe(0);
  const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, any>;
  spec.process.terminal = false;
  spec.process.args = ["sh", "-c", COUNTER];
  spec.process.capabilities.ambient = [];
  spec.root.readonly = false;
  spec.linux.cgroupsPath = `/${TAG}-${name}`;
  if (vol) spec.mounts.push({ destination: "/data", type: "bind", source: vol, options: ["rbind", "rw"] });
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  return dir;
}

const counter = (pid: number): number => Number(readFileSync(`/proc/${pid}/root/tmp/c`, "utf8").trim() || "0");
const status = async (id: string): Promise<string> => (JSON.parse(await ok(["state", id])) as { status: string }).status;

/** create under a subreaper, start, and wait until the counter has counted. */
async function counting(name: string, vol?: string): Promise<{ dir: string; pid: number; reaped: () => number | undefined }> {
  const dir = bundle(name, vol);
  ids.push(name);
  const s = shim(["create", "--bundle", dir, "--pid-file", join(dir, "init.pid"), name]);
  await until("create", () => s.events().find((e) => "ran" in e)?.ran);
  await ok(["start", name]);
  const pid = Number(readFileSync(join(dir, "init.pid"), "utf8"));
  await until("the counter", () => (existsSync(`/proc/${pid}/root/tmp/c`) && counter(pid) >= 5 ? true : undefined));
  return { dir, pid, reaped: () => s.events().find((e) => e.reaped === pid)?.status };
}

const leftCgroups = () => topGroupsNamed(TAG);

/** What is left of container `id` (of all, without one). */
function leaks(id = ""): string[] {
  return [
    ...leftCgroups().filter((c) => c.endsWith(`${TAG}-${id}`) || !id).map((c) => `cgroup ${c}`),
    ...processes().filter((p) => p.cmdline.includes(id ? `${base}/bundle-${id}` : base) && !p.cmdline.includes(SUBREAPER)).map((p) => `process ${p.pid}: ${p.cmdline.replaceAll("\0", " ")}`),
    ...readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(base)).map((l) => `mount ${l}`),
    ...(existsSync(root) ? readdirSync(root).filter((d) => d === id || !id).map((d) => `state dir ${d}`) : []),
  ];
}

beforeAll(async () => {
  rootfs = (await testImages()).rootfs;
  base = mkdtempSync("/tmp/tsd-e2e-rtcriu-");
  root = join(base, "state");
}, 120000);

afterAll(async () => {
  for (const id of ids) await rt(["delete", "--force", id]);
  await Bun.sleep(200);
  for (const p of shims) p.kill("SIGKILL");
  const left = leaks();
  for (const c of leftCgroups()) rmSync(c, { recursive: false, force: true });
  rmSync(base, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describe.skipIf(!CRIU_WORKS)("checkpoint and restore (CRIU)", () => {
  test("checkpoint stops the container; restore --detach goes on counting from there, as the shim's child, its bind mount re-supplied", async () => {
    const vol = join(base, "vol-cr");
    mkdirSync(vol);
    const c = await counting("cr", vol);
    const img = join(base, "img-cr");
    await ok(["checkpoint", "--image-path", img, "--work-path", join(base, "work-cr"), "cr"]);
    expect(await until("the dumped init reaped", c.reaped)).toBe(137);
    expect(await status("cr")).toBe("stopped");
    const atDump = Number(readFileSync(join(c.dir, "rootfs/tmp/c"), "utf8"));
    expect(atDump).toBeGreaterThanOrEqual(5);
    await ok(["delete", "cr"]);
    expect(existsSync(join(root, "cr"))).toBe(false);

    ids.push("cr2");
    const s = shim(["restore", "--detach", "--bundle", c.dir, "--image-path", img, "--pid-file", join(base, "cr2.pid"), "cr2"]);
    expect(await until("restore", () => s.events().find((e) => "ran" in e)?.ran)).toBe(0);
    const pid = Number(readFileSync(join(base, "cr2.pid"), "utf8"));
    expect(pid).not.toBe(c.pid);
    expect(await status("cr2")).toBe("running");
    // Not restarted (it would count from 1): at least the dumped count, and going on.
    expect(counter(pid)).toBeGreaterThanOrEqual(atDump);
    await Bun.sleep(500);
    expect(counter(pid)).toBeGreaterThan(atDump + 1);
    // The bind mount is the host directory again: what the restored process writes lands there.
    const onHost = Number(readFileSync(join(vol, "c"), "utf8"));
    await Bun.sleep(300);
    expect(Number(readFileSync(join(vol, "c"), "utf8"))).toBeGreaterThan(onHost);
    expect(readFileSync(`/proc/${pid}/mountinfo`, "utf8")).toMatch(/ \/data /);
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(`/${TAG}-cr`);
    expect(JSON.parse(await ok(["ps", "--format", "json", "cr2"]))).toContain(pid);
    expect(readdirSync(join(root, "cr2")).sort()).toEqual(["lock", "state.json"]);
    await ok(["kill", "cr2", "KILL"]);
    expect(await until("the restored init reaped by the shim", () => s.events().find((e) => e.reaped === pid)?.status)).toBe(137);
    await ok(["delete", "cr2"]);
  });

  test("--leave-running: the container counts on; restore in the foreground waits for the init, exits with its status, deletes", async () => {
    const c = await counting("lr");
    const img = join(base, "img-lr");
    await ok(["checkpoint", "--leave-running", "--image-path", img, "lr"]);
    expect(await status("lr")).toBe("running");
    const before = counter(c.pid);
    await Bun.sleep(300);
    expect(counter(c.pid)).toBeGreaterThan(before);
    expect(readdirSync(img)).toEqual(expect.arrayContaining(["inventory.img", "descriptors.json", "dump.log"]));
    await ok(["delete", "--force", "lr"]);
    expect(await until("reaped", c.reaped)).toBe(137);

    ids.push("lr2");
    const fg = Bun.spawn([RUNC, "--root", root, "--criu", CRIU, "restore", "--bundle", c.dir, "--image-path", img, "--pid-file", join(base, "lr2.pid"), "lr2"], { stdio: ["ignore", "ignore", "pipe"] });
    shims.push(fg);
    const pid = await until("the pid file", () => (existsSync(join(base, "lr2.pid")) ? Number(readFileSync(join(base, "lr2.pid"), "utf8")) : undefined));
    expect(await status("lr2")).toBe("running");
    expect(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]).toBe(String(fg.pid)); // its parent: restore itself
    await ok(["kill", "lr2", "KILL"]);
    expect(await fg.exited).toBe(137);
    expect(existsSync(join(root, "lr2"))).toBe(false);
  });
});

describe("checkpoint and restore: failures leave nothing", () => {
  test("no CRIU: one line naming the fix", async () => {
    const none = await rt(["--criu", "/nonexistent/criu", "restore", "--image-path", base, "x"]);
    expect([none.code, none.stderr]).toEqual([1, expect.stringContaining("checkpoint/restore need CRIU: --criu /nonexistent/criu: no such file (install it: apt-get install criu")]);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    const proc = Bun.spawnSync([RUNC, "--root", root, "restore", "--image-path", base, "x"], { env: { PATH: "/nonexistent" }, stderr: "pipe" });
    expect(proc.exitCode).toBe(1);
    expect(proc.stderr.toString()).toContain(`checkpoint/restore need CRIU: \\"criu\\" is not on PATH`);
  });

  test.skipIf(!CRIU)("a bad image path: an error, no container, cgroup, mount or process", async () => {
    const dir = bundle("bad");
    const missing = await rt(["restore", "--detach", "--bundle", dir, "--image-path", join(base, "nosuch"), "bad"]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringContaining(`--image-path ${join(base, "nosuch")}: no checkpoint there`)]);
    // CRIU itself fails on an image that is none: everything made before it is undone.
    const junk = join(base, "junk");
    mkdirSync(junk);
    writeFileSync(join(junk, "inventory.img"), "not an image");
    const r = await rt(["restore", "--detach", "--bundle", dir, "--image-path", junk, "bad"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/criu restore failed: .*\(log: /);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    if (CRIU_WORKS) expect(r.stderr).toContain("Magic doesn't match for inventory.img");
    expect(leaks("bad")).toEqual([]);
    expect((await rt(["state", "bad"])).code).toBe(1);
  });

  test("checkpoint of a created container is refused (runc's rule)", async () => {
    const dir = bundle("cre");
    ids.push("cre");
    const s = shim(["create", "--bundle", dir, "cre"]);
    await until("create", () => s.events().find((e) => "ran" in e)?.ran);
    const r = await rt(["checkpoint", "--image-path", join(base, "img-cre"), "cre"]);
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining("container cre cannot be checkpointed in created state")]);
    await ok(["delete", "--force", "cre"]);
  });
});
