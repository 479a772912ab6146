// Rootless limits (issue 13) on a pure cgroup v2 kernel, run by the VM lane: a test user made
// here gets a cgroup subtree delegated the way systemd's user@.service does it (a directory
// owned by the user, its cgroup.procs, cgroup.subtree_control and cgroup.threads too, cpu memory
// pids enabled in its subtree_control, the user's shell in a leaf below it), and runs dist/tsd
// through setpriv from that leaf. Containers' groups go to <delegated>/tsd/<id> and carry
// -m, --cpus, --pids-limit; an OOM and a pids limit bite; from a group that is not delegated,
// limits are refused with one line and a plain run still works. Nothing is left: no group below
// the delegated one but the shell's leaf, no process of the user, no mount of its root.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testImages, type TestImages } from "../lib/fixtures";
import { removeGroupTree } from "../lib/cgroups";
import { asUser, dropRootlessUser, makeRootlessUser, processesOf, type Result, type RootlessUser } from "../lib/rootless";
import { hostLayout } from "../../src/cgroup";

const CG = "/sys/fs/cgroup";
const DELEGATED = `tsd-vm-rl-${process.pid}`;
const D = join(CG, DELEGATED);
const SHELL = join(D, "shell");
const START = 1_300_000_000;
const NAME = `tsdvmrl${process.pid % 100000}`;

let base: string;
let user: RootlessUser;
let images: TestImages;

/** What systemd does for user@UID.service with Delegate=yes. */
function delegate(dir: string, uid: number, gid: number): void {
  mkdirSync(dir);
  writeFileSync(join(dir, "cgroup.subtree_control"), "+cpu +memory +pids");
  for (const f of ["", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"]) chownSync(join(dir, f), uid, gid);
}

beforeAll(async () => {
  const layout = hostLayout();
  if (layout.version !== 2 || layout.hierarchies.v1.length > 0) throw new Error("rootless-limits.test needs a pure cgroup v2 host (test/vm/lane.sh)");
  images = await testImages();
  base = mkdtempSync("/dev/shm/tsd-vm-rl-");
  chmodSync(base, 0o755);
  user = makeRootlessUser(NAME, base, START);
  const { uid, gid } = user;
  delegate(D, uid, gid);
  // The user's shell: a leaf of its own (a group with controllers enabled holds no process).
  mkdirSync(SHELL);
  // Made as if by the user (systemd --user makes its own groups so): everything in it is the user's.
  for (const f of ["", ...readdirSync(SHELL)]) chownSync(join(SHELL, f), uid, gid);
}, 120000);

/** dist/tsd as the user, started from the delegated leaf (or `from`: another group's procs file). */
async function as(args: string[], from = join(SHELL, "cgroup.procs")): Promise<Result> {
  return asUser(user, args, { via: ["sh", "-c", 'echo $$ > "$0" && exec "$@"', from], timeoutMs: 90000 });
}

async function ok(args: string[]): Promise<string> {
  const r = await as(args);
  if (r.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Groups below the delegated one other than the shell's leaf. */
const groupsLeft = () => (existsSync(D) ? readdirSync(D, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== "shell").map((e) => e.name) : []);

afterAll(async () => {
  const left: string[] = [];
  try {
    if (user) {
      const ids = (await as(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) await as(["rm", "-f", ...ids]);
      left.push(...groupsLeft().map((g) => `group ${g}`));
      for (const pid of processesOf(user)) process.kill(pid, "SIGKILL"); // the pause process (by design) and anything leaked
      await Bun.sleep(200);
    }
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (base && line.includes(base)) left.push(`mount: ${line}`);
  } finally {
    removeGroupTree(D);
    if (user) dropRootlessUser(user);
    if (base) rmSync(base, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
}, 120000);

test("info: limits available through the delegated group", async () => {
  await ok(["load", "-i", images.busyboxDocker]);
  const info = await ok(["info"]);
  expect(info).toContain(" Cgroup Driver: cgroupfs\n Cgroup Version: 2\n");
  expect(info).toContain(`  Cgroups: delegated /${DELEGATED}\n`);
}, 180000);

test("-m, --cpus, --pids-limit in the container's group below the delegated one", async () => {
  const out = await ok(["run", "--rm", "--network", "none", "-m", "32m", "--cpus", "0.5", "--pids-limit", "20", "busybox", "sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max /proc/self/cgroup"]);
  expect(out).toBe("33554432\n50000 100000\n20\n0::/\n");
  expect(groupsLeft()).toEqual([]);
}, 60000);

test("a memory hog is OOM-killed (137, OOMKilled); a fork bomb stops at --pids-limit", async () => {
  const hog = await as(["run", "--name", "hog", "--network", "none", "-m", "16m", "--memory-swap", "16m", "busybox", "sh", "-c", `exec awk 'BEGIN{s="xxxxxxxxxxxxxxxx"; while(1) s=s s}'`]);
  expect(hog.code).toBe(137);
  expect((await ok(["inspect", "-f", "{{.State.OOMKilled}}", "hog"])).trim()).toBe("true");
  await ok(["rm", "hog"]);
  const forks = await as(["run", "--rm", "--network", "none", "--pids-limit", "4", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait"]);
  expect([forks.code, forks.stderr]).toEqual([2, "sh: can't fork: Resource temporarily unavailable\n"]);
  expect(groupsLeft()).toEqual([]);
}, 90000);

test("run -d: the group is the user's, --cgroup-parent stays inside the delegation, rm removes the group", async () => {
  const id = (await ok(["run", "-d", "--network", "none", "-m", "24m", "busybox", "sleep", "300"])).trim();
  const group = join(D, "tsd", id);
  expect(readFileSync(join(group, "memory.max"), "utf8")).toBe(`${24 << 20}\n`);
  expect(statSync(group).uid).toBe(user.uid);
  expect(readFileSync(join(group, "cgroup.procs"), "utf8")).toMatch(/^\d+\n$/);
  const other = (await ok(["run", "-d", "--network", "none", "--cgroup-parent", "mine", "--pids-limit", "9", "busybox", "sleep", "300"])).trim();
  expect(readFileSync(join(D, "mine", other, "pids.max"), "utf8")).toBe("9\n");
  await ok(["rm", "-f", id, other]);
  // tsd's default parent goes with its last container; a named parent is the user's to keep.
  expect(groupsLeft()).toEqual(["mine"]);
  expect(readdirSync(join(D, "mine"), { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
  removeGroupTree(join(D, "mine"));
}, 90000);

test("a failed run leaves no group", async () => {
  const r = await as(["run", "--rm", "--network", "none", "-m", "32m", "busybox", "no-such-command"]);
  expect(r.code).toBe(127);
  expect(groupsLeft()).toEqual([]);
}, 60000);

test("outside the delegated group: limits refused with one line, a plain run works", async () => {
  const root = join(CG, "cgroup.procs");
  const r = await as(["run", "--rm", "--network", "none", "-m", "32m", "busybox", "true"], root);
  expect(r.code).toBe(125);
  expect(r.stderr).toBe("tsd: rootless: resource limits and --cgroup-parent need a delegated cgroup v2 subtree, and your cgroup / is not delegated to you: run tsd inside a delegated one (systemd: systemd-run --user --scope tsd …, or a shell of your user@.service); or drop the limit flags\n");
  expect((await as(["run", "--rm", "--network", "none", "busybox", "echo", "plain"], root)).stdout).toBe("plain\n");
}, 60000);
