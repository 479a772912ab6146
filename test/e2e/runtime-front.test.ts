// The OCI runtime's front (zig/front/main.zig, dist/tsd-runc): every call answers exactly as
// `dist/tsd runtime …` (the Bun side) does: the same stdout, stderr, exit status and --log
// lines, whether the front answered it itself (state, start, kill, delete, --version) or
// handed it over (everything else). Records are written by the test into its own --root, their
// inits are the test's own processes (a `sleep`, a `cat` of the exec fifo), their "cgroups"
// temp directories, so no container is needed; real containers go through dist/tsd-runc in
// runtime-verbs.test.ts and the test/oci harnesses. `tsd runtime install DIR` writes a front
// bound to dist/tsd. Nothing is left: the temp dir and every process are removed in afterAll.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { TSD } from "../lib/tsd";

setDefaultTimeout(30000);

const FRONT = join(dirname(TSD), "tsd-runc");
let base = "";
/** A copy of the front with no tsd next to it: whatever it hands over fails. */
let LONE = "";
let root = "";
const procs: Subprocess[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[]): Result {
  const r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The front's and the Bun side's answers to one call, with their own --log files. */
function both(args: string[], o: { log?: boolean } = {}): { front: Result; bun: Result; frontLog: string; bunLog: string } {
  const logs = [join(base, `front-${Math.random()}.log`), join(base, `bun-${Math.random()}.log`)];
  const g = (log: string) => ["--root", root, ...(o.log ? ["--log", log, "--log-format", "json"] : [])];
  const front = run([FRONT, ...g(logs[0]!), ...args]);
  const bun = run([TSD, "runtime", ...g(logs[1]!), ...args]);
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").replace(/"time":"[^"]*"/g, '"time":"T"') : "");
  return { front, bun, frontLog: read(logs[0]!), bunLog: read(logs[1]!) };
}

/** `native`: the front answers by itself (a copy with no tsd next to it answers the same). */
function sameAnswer(args: string[], o: { log?: boolean; native?: boolean } = {}): Result {
  const r = both(args, o);
  expect(r.front).toEqual(r.bun);
  expect(r.frontLog).toBe(r.bunLog);
  if (o.native) expect(run([LONE, "--root", root, ...args])).toEqual(r.front);
  return r.front;
}

/** Field 22 of /proc/PID/stat (the record's pidStart). */
function pidStart(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

interface RecordOpts {
  pid?: number;
  annotations?: unknown;
  cgroupPaths?: string[];
  hooks?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Writes <root>/<id>/state.json as writeRecord does, and the bundle's config.json. */
function record(id: string, o: RecordOpts = {}): string {
  const dir = join(root, id);
  const bundle = join(base, `bundle-${id}`);
  mkdirSync(dir, { recursive: true });
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, "config.json"), JSON.stringify({ ociVersion: "1.2.0", hooks: o.hooks ?? {} }));
  const pid = o.pid ?? 0;
  const rec = {
    ociVersion: "1.2.0",
    id,
    pid,
    pidStart: pid > 0 ? pidStart(pid) : "",
    bundle,
    rootfs: join(bundle, "rootfs"),
    created: "2026-12-06T18:00:00.123456789Z",
    annotations: o.annotations ?? { "io.kubernetes.cri.container-type": "container", "q \"k\"": "tab\there\nü ✓ \u0001" },
    owner: "",
    cgroup: { paths: o.cgroupPaths ?? [], systemd: false },
    terminal: false,
    ...o.extra,
  };
  writeFileSync(join(dir, "state.json"), JSON.stringify(rec));
  return dir;
}

function sleeper(): Subprocess {
  const p = Bun.spawn(["sleep", "300"], { stdio: ["ignore", "ignore", "ignore"] });
  procs.push(p);
  return p;
}

/** A created container's stand-in init: the state dir's exec.fifo, and `head -c 1` of it blocked
 *  opening it for reading, as the container's init is (it reads one byte; stdout: what it read). */
async function fifoInit(id: string): Promise<Subprocess<"ignore", "pipe", "ignore">> {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  execFileSync("mkfifo", [join(dir, "exec.fifo")]);
  const init = Bun.spawn(["head", "-c", "1", join(dir, "exec.fifo")], { stdio: ["ignore", "pipe", "ignore"] });
  procs.push(init);
  await Bun.sleep(50);
  return init;
}

beforeAll(() => {
  base = mkdtempSync("/dev/shm/tsd-e2e-front-");
  root = join(base, "root");
  mkdirSync(root);
  mkdirSync(join(base, "lone"));
  LONE = join(base, "lone", "tsd-runc");
  writeFileSync(LONE, readFileSync(FRONT), { mode: 0o755 });
});

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(base, { recursive: true, force: true });
});

describe("state: the Bun side's bytes", () => {
  test("stopped, running, paused (cgroup.freeze and freezer.state), created", async () => {
    record("s-stopped");
    expect(sameAnswer(["state", "s-stopped"], { native: true }).stdout).toContain('"status": "stopped"');
    const p = sleeper();
    record("s-running", { pid: p.pid, annotations: {} });
    expect(sameAnswer(["state", "s-running"], { native: true }).stdout).toContain(`"pid": ${p.pid},\n  "status": "running"`);
    const v2 = join(base, "cg-v2");
    const v1 = join(base, "cg-v1");
    mkdirSync(v2);
    mkdirSync(v1);
    writeFileSync(join(v2, "cgroup.freeze"), "1\n");
    writeFileSync(join(v1, "freezer.state"), "FROZEN\n");
    record("s-paused2", { pid: p.pid, cgroupPaths: [v2] });
    record("s-paused1", { pid: p.pid, cgroupPaths: [join(base, "cg-none"), v1] });
    expect(sameAnswer(["state", "s-paused2"], { native: true }).stdout).toContain('"status": "paused"');
    expect(sameAnswer(["state", "s-paused1"], { native: true }).stdout).toContain('"status": "paused"');
    const dir = record("s-created", { pid: p.pid, annotations: null });
    writeFileSync(join(dir, "exec.fifo"), "");
    expect(sameAnswer(["state", "s-created"], { native: true }).stdout).toContain('"status": "created"');
    // A recycled pid (another start time) is not the init.
    record("s-recycled", { pid: p.pid, extra: { pidStart: "1" } });
    expect(sameAnswer(["state", "s-recycled"], { native: true }).stdout).toContain('"pid": 0,\n  "status": "stopped"');
  });

  test("records the front hands over answer the same: odd annotations, missing fields, bad JSON", () => {
    record("o-index", { annotations: { b: "1", "10": "x", "2": "y" } });
    expect(sameAnswer(["state", "o-index"]).stdout).toMatch(/"2": "y",\n {4}"10": "x",\n {4}"b": "1"/);
    record("o-number", { annotations: { n: 5 } });
    sameAnswer(["state", "o-number"]);
    record("o-noowner", { extra: { owner: undefined } });
    sameAnswer(["state", "o-noowner"]);
    mkdirSync(join(root, "o-bad"));
    writeFileSync(join(root, "o-bad", "state.json"), "{not json");
    expect(sameAnswer(["state", "o-bad"], { log: true }).code).toBe(1);
  });

  test("errors and flags: missing and invalid ids, extra arguments, --help, globals in both forms", () => {
    record("g-one");
    expect(sameAnswer(["state", "nope"], { log: true }).code).toBe(1);
    expect(sameAnswer(["state", "a/b"], { log: true }).code).toBe(1);
    expect(sameAnswer(["state", "g-one", "x"], { log: true }).code).toBe(1);
    expect(sameAnswer(["state", "--help"]).code).toBe(0);
    expect(sameAnswer(["state", "--", "g-one"], { native: true }).code).toBe(0);
    const a = run([LONE, `--root=${root}`, "--systemd-cgroup", "--log-format=json", "--rootless", "false", "state", "g-one"]);
    const b = run([TSD, "runtime", `--root=${root}`, "--systemd-cgroup", "--log-format=json", "--rootless", "false", "state", "g-one"]);
    expect(a).toEqual(b);
    expect(a.code).toBe(0);
    expect(run([LONE, "--version"])).toEqual(run([TSD, "runtime", "--version"]));
    expect(run([FRONT, "--root", root, "--debug", "state", "g-one"]).code).toBe(0);
  });
});

describe("start, kill, delete", () => {
  test("start writes the byte the waiting init reads, removes the fifo; a running one is refused", async () => {
    const dir = join(root, "st-1");
    const init = await fifoInit("st-1");
    record("st-1", { pid: init.pid });
    const r = run([LONE, "--root", root, "start", "st-1"]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await new Response(init.stdout).text()).toBe("0");
    expect(existsSync(join(dir, "exec.fifo"))).toBe(false);
    await init.exited;
    // Stopped now (its init is gone): the Bun side's refusal, through the front.
    expect(sameAnswer(["start", "st-1"], { log: true }).code).toBe(1);
  });

  test("start with poststart hooks and delete with poststop hooks are the Bun side's (the hooks run)", async () => {
    const init = await fifoInit("st-hooks");
    const mark = (kind: string) => join(base, `hook-${kind}`);
    const hook = (kind: string) => [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${mark(kind)}`] }];
    record("st-hooks", { pid: init.pid, hooks: { poststart: hook("poststart"), poststop: hook("poststop") } });
    expect(run([FRONT, "--root", root, "start", "st-hooks"]).code).toBe(0);
    expect(JSON.parse(readFileSync(mark("poststart"), "utf8")).status).toBe("running");
    await init.exited;
    expect(run([FRONT, "--root", root, "delete", "st-hooks"]).code).toBe(0);
    expect(JSON.parse(readFileSync(mark("poststop"), "utf8")).status).toBe("stopped");
    expect(existsSync(join(root, "st-hooks"))).toBe(false);
  });

  test("kill signals the init; a stopped one is `container not running`; --all of an empty group is nothing", async () => {
    const p = sleeper();
    record("k-1", { pid: p.pid });
    expect(run([LONE, "--root", root, "kill", "k-1", "KILL"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await p.exited).not.toBe(0);
    expect(p.signalCode).toBe("SIGKILL");
    const q = sleeper();
    record("k-2", { pid: q.pid });
    expect(run([LONE, "--root", root, "kill", "--all=false", "k-2", "sigusr1"]).code).toBe(0);
    await q.exited;
    expect(q.signalCode).toBe("SIGUSR1");
    const cg = join(base, "cg-empty");
    mkdirSync(join(cg, "sub"), { recursive: true });
    writeFileSync(join(cg, "cgroup.procs"), "");
    writeFileSync(join(cg, "sub", "cgroup.procs"), "");
    record("k-3", { cgroupPaths: [cg] });
    expect(sameAnswer(["kill", "k-3", "TERM"], { log: true }).stderr).toBe("container not running\n");
    expect(sameAnswer(["kill", "--all", "k-3", "9"], { native: true }).code).toBe(0);
    expect(sameAnswer(["kill", "k-3", "NOSIG"], { log: true }).code).toBe(1);
    expect(sameAnswer(["kill", "nope", "9"], { log: true }).code).toBe(1);
  });

  test("delete of a stopped container removes its (empty) cgroup dirs and state dir; --force of a missing id is 0", () => {
    const cg = join(base, "cg-del");
    mkdirSync(cg);
    record("d-1", { cgroupPaths: [cg, join(base, "cg-gone")] });
    expect(run([LONE, "--root", root, "--log", join(base, "d.log"), "--log-format", "json", "delete", "d-1"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(existsSync(cg)).toBe(false);
    expect(existsSync(join(root, "d-1"))).toBe(false);
    expect(existsSync(join(base, "d.log"))).toBe(false);
    expect(sameAnswer(["delete", "--force", "d-1"], { log: true, native: true })).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(sameAnswer(["delete", "-f", "d-1"], { native: true })).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(sameAnswer(["delete", "d-1"], { log: true }).code).toBe(1);
    const p = sleeper();
    record("d-2", { pid: p.pid });
    expect(sameAnswer(["delete", "d-2"], { log: true }).stderr).toBe("cannot delete container d-2 that is not stopped: running\n");
  });

  test("verbs the front does not answer go to the Bun side: features, list, checkpoint, unknown", () => {
    expect(sameAnswer(["features"]).code).toBe(0);
    expect(sameAnswer(["list", "-q"]).code).toBe(0);
    expect(sameAnswer(["checkpoint", "x"], { log: true }).code).toBe(1);
    expect(sameAnswer(["frobnicate"], { log: true }).code).toBe(1);
    expect(sameAnswer(["--nope", "state", "x"], { log: true }).code).toBe(1);
  });
});

describe("tsd runtime install", () => {
  test("writes DIR/tsd-runc bound to this binary; a front whose tsd is gone says so in one line", () => {
    const dir = join(base, "install", "bin");
    const r = run([TSD, "runtime", "install", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(dir, "tsd-runc")} (runs ${TSD})\n`);
    const front = join(dir, "tsd-runc");
    record("i-1");
    expect(run([front, "--root", root, "state", "i-1"])).toEqual(run([TSD, "runtime", "--root", root, "state", "i-1"]));
    expect(run([front, "--root", root, "features"])).toEqual(run([TSD, "runtime", "--root", root, "features"]));
    // A front from dist/ moved away from its tsd: nothing to hand over to.
    const lone = dirname(LONE);
    const l = run([LONE, "--root", root, "features"]);
    expect(l.code).toBe(1);
    expect(l.stderr).toBe(`tsd-runc: cannot run the tsd binary ${lone}/tsd: FileNotFound (install the runtime again: tsd runtime install DIR)\n`);
    expect(run([TSD, "runtime", "install"]).code).toBe(1);
  });

  test("a link named tsd-runc to dist/tsd still speaks runc's command line (all in Bun)", () => {
    const dir = join(base, "link");
    mkdirSync(dir);
    symlinkSync(TSD, join(dir, "tsd-runc"));
    record("l-1");
    expect(run([join(dir, "tsd-runc"), "--root", root, "state", "l-1"])).toEqual(run([FRONT, "--root", root, "state", "l-1"]));
  });
});
