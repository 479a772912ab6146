// tsd as an OCI runtime (src/runtime/, issue 12): runc's verbs on real containers, driven
// through dist/tsd-runc as containerd's shim, CRI-O and conmon call runc. A small subreaper
// (test/lib/subreaper.py) plays the shim: it runs `create` and `exec --detach` and reaps what
// they leave running, reporting each exit status; a console-socket receiver
// (test/lib/console-socket.py) plays conmon's terminal end. Each test has its own bundle (the
// busybox rootfs, `tsd-runc spec` edited), one --root for the file, its own cgroup
// (/tsd-rtv-<pid>-<name>), and nothing is left: no state dir, cgroup, process or mount.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Subprocess } from "bun";
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TSD, processes } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { topGroupsNamed } from "../lib/cgroups";

setDefaultTimeout(60000);

const RUNC = join(dirname(TSD), "tsd-runc");
const SUBREAPER = resolve(import.meta.dir, "../lib/subreaper.py");
const CONSOLE = resolve(import.meta.dir, "../lib/console-socket.py");
const TAG = `tsd-rtv-${process.pid}`;

let base = "";
let root = "";
let rootfs = "";
const shims: Shim[] = [];
const receivers: Subprocess[] = [];
const ids: string[] = [];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsd-runc --root R --log L --log-format json ARGS` as containerd calls it. */
async function rt(args: string[], o: { stdin?: string; log?: string } = {}): Promise<Result> {
  const log = o.log ?? join(base, "log.json");
  const proc = Bun.spawn([RUNC, "--root", root, "--log", log, "--log-format", "json", ...args], {
    stdin: o.stdin === undefined ? "ignore" : new Blob([o.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function ok(args: string[], o: { stdin?: string } = {}): Promise<string> {
  const r = await rt(args, o);
  if (r.code !== 0) throw new Error(`tsd-runc ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The last line of a --log file, parsed (what containerd shows of a failed call). */
function lastLog(path: string): { level: string; msg: string; time: string } {
  const lines = readFileSync(path, "utf8").trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as { level: string; msg: string; time: string };
}

/** A subreaper running one command: its report lines (fd 3) and the stdout it gave away. */
class Shim {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly events: Record<string, number>[] = [];
  out = "";
  readonly done: Promise<void>;

  constructor(argv: string[]) {
    this.proc = Bun.spawn(["python3", SUBREAPER, ...argv], { stdio: ["ignore", "pipe", "pipe", "pipe"] }) as unknown as Subprocess<"ignore", "pipe", "pipe">;
    shims.push(this);
    this.done = Promise.all([this.readEvents(), this.readOut()]).then(() => {});
  }

  private async readEvents(): Promise<void> {
    let text = "";
    for await (const chunk of Bun.file(this.proc.stdio[3] as unknown as number).stream()) {
      text += Buffer.from(chunk).toString();
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const l of lines) if (l) this.events.push(JSON.parse(l) as Record<string, number>);
    }
  }

  private async readOut(): Promise<void> {
    for await (const chunk of this.proc.stdout) this.out += Buffer.from(chunk).toString();
  }

  async waitFor<T>(what: string, get: () => T | undefined, ms = 15000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events ${JSON.stringify(this.events)}, output ${JSON.stringify(this.out)}`);
      await Bun.sleep(20);
    }
  }

  ran(): Promise<number> {
    return this.waitFor("the command", () => this.events.find((e) => "ran" in e)?.ran);
  }

  reaped(pid: number): Promise<number> {
    return this.waitFor(`pid ${pid} reaped`, () => this.events.find((e) => e.reaped === pid)?.status);
  }
}

/** A bundle: the busybox rootfs and `tsd-runc spec`, with `args` and its own cgroup. */
function bundle(name: string, args: string[], edit: (spec: Record<string, any>) => void = () => {}): string {
  const dir = join(base, `bundle-${name}`);
  mkdirSync(dir);
  expect(Bun.spawnSync(["cp", "-a", rootfs, join(dir, "rootfs")]).exitCode).toBe(0);
  expect(Bun.spawnSync([RUNC, "spec", "--bundle", dir]).exitCode).toBe(0);
  const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, any>;
  spec.process.terminal = false;
  spec.process.args = args;
  // runc's default spec asks ambient capabilities without inheritable ones, which the kernel
  // refuses; runc warns and goes on, tsd's init fails (create's matter, reported): none here.
  spec.process.capabilities.ambient = [];
  spec.linux.cgroupsPath = `/${TAG}-${name}`;
  edit(spec);
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  return dir;
}

interface Started {
  id: string;
  pid: number;
  shim: Shim;
  dir: string;
}

const LOOP = "trap 'echo got-usr1' USR1; trap 'exit 7' TERM; echo up; while :; do sleep 0.1; done";

/** create under a subreaper, then start: a running container whose init the shim reaps. */
async function started(name: string, edit?: (spec: Record<string, any>) => void, args = ["sh", "-c", LOOP]): Promise<Started> {
  const dir = bundle(name, args, edit);
  ids.push(name);
  const shim = new Shim([RUNC, "--root", root, "create", "--bundle", dir, "--pid-file", join(dir, "init.pid"), name]);
  expect(await shim.ran()).toBe(0);
  await ok(["start", name]);
  await shim.waitFor("the init's first line", () => (shim.out.includes("up\n") ? true : undefined));
  return { id: name, pid: Number(readFileSync(join(dir, "init.pid"), "utf8")), shim, dir };
}

const state = async (id: string) => JSON.parse(await ok(["state", id])) as { id: string; pid: number; status: string; bundle: string; rootfs: string; created: string };

/** The group directory of `controller` (v1) or the one v2 directory of a container. */
function groupDir(id: string, controller: string): string {
  const paths = (JSON.parse(readFileSync(join(root, id, "state.json"), "utf8")) as { cgroup: { paths: string[] } }).cgroup.paths;
  return paths.find((p) => p.includes(`/${controller}/`)) ?? paths[0]!;
}

const leftCgroups = () => topGroupsNamed(TAG);

beforeAll(async () => {
  const images = await testImages();
  rootfs = images.rootfs;
  base = mkdtempSync("/tmp/tsd-e2e-rtverbs-");
  root = join(base, "state");
}, 120000);

afterAll(async () => {
  for (const id of ids) await rt(["delete", "--force", id]);
  await Promise.all(shims.map((s) => Promise.race([s.done, Bun.sleep(5000)])));
  for (const p of [...shims.map((s) => s.proc), ...receivers]) p.kill("SIGKILL");
  const leaks = [
    ...leftCgroups().map((c) => `cgroup ${c}`),
    ...processes().filter((p) => p.cmdline.includes(base)).map((p) => `process ${p.pid}: ${p.cmdline.replaceAll("\0", " ")}`),
    ...readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(base)).map((l) => `mount ${l}`),
    ...(existsSync(root) ? readdirSync(root).map((d) => `state dir ${d}`) : []),
  ];
  for (const c of leftCgroups()) rmSync(c, { recursive: false, force: true });
  rmSync(base, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

describe("state, list, ps", () => {
  test("created, then running after start; runc's fields; the pid file names the init", async () => {
    const dir = bundle("st", ["sh", "-c", "echo up; exec sleep 1000"]);
    ids.push("st");
    const shim = new Shim([RUNC, "--root", root, "create", "--bundle", dir, "--pid-file", join(dir, "init.pid"), "st"]);
    expect(await shim.ran()).toBe(0);
    const created = await state("st");
    const pid = Number(readFileSync(join(dir, "init.pid"), "utf8"));
    expect(created).toMatchObject({ ociVersion: "1.2.0", id: "st", pid, status: "created", bundle: dir, rootfs: join(dir, "rootfs") });
    expect(created.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    // As runc: a created container's namespaces exist, so it can be exec'd into.
    expect(await rt(["exec", "st", "hostname"])).toMatchObject({ code: 0, stdout: "tsd\n" });
    await ok(["start", "st"]);
    expect((await state("st")).status).toBe("running");
    expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(`/${TAG}-st`);
    await ok(["delete", "--force", "st"]);
    expect(await shim.reaped(pid)).toBe(137);
  });

  test("list: runc's table, JSON and -q; ps: the cgroup's pids", async () => {
    const c = await started("ls");
    const table = await ok(["list"]);
    expect(table.split("\n")[0]).toMatch(/^ID {10}PID {9}STATUS {6}BUNDLE +CREATED +OWNER$/);
    expect(table).toMatch(new RegExp(`\\nls +${c.pid} +running +${c.dir} `));
    const json = JSON.parse(await ok(["list", "--format", "json"])) as { id: string; status: string }[];
    expect(json.find((s) => s.id === "ls")).toMatchObject({ status: "running", pid: c.pid });
    expect((await ok(["list", "-q"])).split("\n")).toContain("ls");
    const pids = JSON.parse(await ok(["ps", "--format", "json", "ls"])) as number[];
    expect(pids).toContain(c.pid);
    const ps = (await ok(["ps", "ls"])).split("\n");
    expect(ps[0]).toMatch(/PID/);
    expect(ps.some((l) => l.split(/\s+/)[1] === String(c.pid))).toBe(true);
  });

  test("errors: one line on stderr, runc's JSON line in --log, exit 1", async () => {
    const log = join(base, "errors.json");
    const r = await rt(["state", "nosuch"], { log });
    expect([r.code, r.stdout, r.stderr]).toEqual([1, "", 'container "nosuch" does not exist\n']);
    expect(lastLog(log)).toMatchObject({ level: "error", msg: 'container "nosuch" does not exist' });
    expect(lastLog(log).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const verb of [["kill", "nosuch"], ["delete", "nosuch"], ["pause", "nosuch"], ["ps", "nosuch"], ["exec", "nosuch", "true"], ["update", "--memory", "1m", "nosuch"], ["checkpoint", "nosuch"]]) {
      const e = await rt(verb, { log });
      // exec's failures are runc's "exec failed: …", 255.
      const [code, prefix] = verb[0] === "exec" ? [255, "exec failed: "] : [1, ""];
      expect([verb[0], e.code, e.stderr]).toEqual([verb[0], code, `${prefix}container "nosuch" does not exist\n`]);
    }
    // Without --log the line itself goes to stderr (runc's default log is stderr).
    const plain = Bun.spawnSync([RUNC, "--root", root, "state", "nosuch"]);
    expect(plain.stderr.toString()).toMatch(/^time="[^"]+" level=error msg="container \\"nosuch\\" does not exist"\n$/);
    expect(plain.exitCode).toBe(1);
    expect(await rt(["delete", "--force", "nosuch"], { log })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("features, and `tsd runtime …` answers as the tsd-runc link does", async () => {
    const f = JSON.parse(await ok(["features"])) as { ociVersionMax: string; linux: { namespaces: string[] } };
    expect(f.ociVersionMax).toBe("1.3.0");
    expect(f.linux.namespaces).toContain("pid");
    const viaTsd = Bun.spawnSync([TSD, "runtime", "--root", root, "features"]);
    expect(JSON.parse(viaTsd.stdout.toString())).toEqual(f);
    expect(Bun.spawnSync([RUNC, "--version"]).stdout.toString()).toMatch(/^tsd-runc version \S+\nspec: 1\.3\.0\n$/);
  });
});

describe("kill, pause, resume, update", () => {
  test("kill by name and number; the init's own status reaches the subreaper; then not running", async () => {
    const c = await started("kl");
    // Signal 0: kill(2)'s liveness check, runc's too; nothing reaches the init.
    expect(await rt(["kill", "kl", "0"])).toMatchObject({ code: 0, stderr: "" });
    await ok(["kill", "kl", "USR1"]);
    await c.shim.waitFor("the trap's line", () => (c.shim.out.includes("got-usr1") ? true : undefined));
    await ok(["kill", "kl"]); // TERM, runc's default
    expect(await c.shim.reaped(c.pid)).toBe(7);
    expect(await state("kl")).toMatchObject({ status: "stopped", pid: 0 });
    const again = await rt(["kill", "kl", "9"]);
    expect([again.code, again.stderr]).toEqual([1, "container not running\n"]);
    // --all of a stopped container: what is left in its cgroup (nothing here), no error.
    expect(await rt(["kill", "--all", "kl", "9"])).toMatchObject({ code: 0, stderr: "" });
    expect(await rt(["kill", "-a", "kl", "0"])).toMatchObject({ code: 0, stderr: "" });
    expect(await rt(["kill", "kl", "0"])).toMatchObject({ code: 1, stderr: "container not running\n" });
    const bad = await rt(["kill", "kl", "NOPE"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown signal "NOPE"');
  });

  test("pause freezes the cgroup, resume thaws it; each refuses the wrong state", async () => {
    const c = await started("pz");
    await ok(["pause", "pz"]);
    expect((await state("pz")).status).toBe("paused");
    const dir = groupDir("pz", "freezer");
    const frozen = existsSync(join(dir, "freezer.state")) ? readFileSync(join(dir, "freezer.state"), "utf8").trim() : readFileSync(join(dir, "cgroup.freeze"), "utf8").trim();
    expect(["FROZEN", "1"]).toContain(frozen);
    expect(await rt(["pause", "pz"])).toMatchObject({ code: 1, stderr: "container not running\n" });
    await ok(["resume", "pz"]);
    expect((await state("pz")).status).toBe("running");
    expect(await rt(["resume", "pz"])).toMatchObject({ code: 1, stderr: "container not paused\n" });
    // A paused container is killed by delete --force (thawed first).
    await ok(["pause", "pz"]);
    await ok(["delete", "--force", "pz"]);
    expect(await c.shim.reaped(c.pid)).toBe(137);
    expect(existsSync(join(root, "pz"))).toBe(false);
  });

  test("update: runc's flags and --resources - (LinuxResources on stdin, containerd's way)", async () => {
    await started("up");
    await ok(["update", "--memory", "64m", "--pids-limit", "50", "up"]);
    const mem = groupDir("up", "memory");
    const pids = groupDir("up", "pids");
    const memFile = existsSync(join(mem, "memory.limit_in_bytes")) ? "memory.limit_in_bytes" : "memory.max";
    expect(readFileSync(join(mem, memFile), "utf8").trim()).toBe(String(64 * 1024 * 1024));
    expect(readFileSync(join(pids, "pids.max"), "utf8").trim()).toBe("50");
    await ok(["update", "--resources=-", "up"], { stdin: JSON.stringify({ memory: { limit: 128 * 1024 * 1024 }, pids: { limit: 60 } }) });
    expect(readFileSync(join(mem, memFile), "utf8").trim()).toBe(String(128 * 1024 * 1024));
    expect(readFileSync(join(pids, "pids.max"), "utf8").trim()).toBe("60");
    const file = join(base, "resources.json");
    writeFileSync(file, JSON.stringify({ pids: { limit: 70 } }));
    await ok(["update", "-r", file, "up"]);
    expect(readFileSync(join(pids, "pids.max"), "utf8").trim()).toBe("70");
    const bad = await rt(["update", "--resources=-", "up"], { stdin: "{not json" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("are not valid JSON");
  });
});

describe("exec", () => {
  test("foreground: the caller's stdio, the process's exit status, -e, --cwd, -u", async () => {
    await started("ex");
    const r = await rt(["exec", "-e", "FOO=bar", "--cwd", "/tmp", "ex", "sh", "-c", "echo $FOO $(pwd); echo err >&2; exit 3"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([3, "bar /tmp\n", "err\n"]);
    expect(await rt(["exec", "ex", "cat"], { stdin: "piped\n" })).toEqual({ code: 0, stdout: "piped\n", stderr: "" });
    expect((await ok(["exec", "-u", "1000:1000", "ex", "id", "-u"])).trim()).toBe("1000");
    // In the container's namespaces and cgroup.
    expect((await ok(["exec", "ex", "cat", "/proc/1/cmdline"])).replaceAll("\0", " ")).toContain("trap");
    expect(await ok(["exec", "ex", "cat", "/proc/self/cgroup"])).toContain(`/${TAG}-ex`);
    // -t without a console socket: the pty is relayed to our stdio (as `tsd exec -t`).
    const tty = await rt(["exec", "-t", "ex", "sh", "-c", "tty; exit 2"]);
    expect([tty.code, tty.stdout]).toEqual([2, expect.stringMatching(/^\/dev\/pts\/\d+\r\n$/)]);
    const missing = await rt(["exec", "ex", "/nope"]);
    // runc's: every failure after the flags is "exec failed: …", exit 255.
    expect([missing.code, missing.stderr]).toEqual([255, 'exec failed: cannot exec "/nope": no such file or directory\n']);
    expect(lastLog(join(base, "log.json")).msg).toBe('exec failed: cannot exec "/nope": no such file or directory');
  });

  test("--process FILE --detach --pid-file: handed to the caller's subreaper, which reaps its status", async () => {
    const c = await started("xd");
    const proc = JSON.parse(readFileSync(join(c.dir, "config.json"), "utf8")).process as Record<string, unknown>;
    const file = join(base, "process.json");
    writeFileSync(file, JSON.stringify({ ...proc, args: ["sh", "-c", "sleep 0.3; exit 4"] }));
    const pidFile = join(base, "exec.pid");
    const shim = new Shim([RUNC, "--root", root, "exec", "--process", file, "--detach", "--pid-file", pidFile, "xd"]);
    expect(await shim.ran()).toBe(0);
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(JSON.parse(await ok(["ps", "--format", "json", "xd"]))).toContain(pid);
    expect(await shim.reaped(pid)).toBe(4);
    await shim.done;
  });

  test("-t --console-socket: the pty master reaches the socket (runc's SCM_RIGHTS), foreground and detached", async () => {
    await started("tt");
    for (const detach of [false, true]) {
      const sock = join(base, `console-${detach}.sock`);
      const recv = Bun.spawn(["python3", CONSOLE, sock, "tty; echo typed-$((6*7)); exit 5\n"], { stdout: "pipe", stderr: "pipe" });
      receivers.push(recv);
      const reader = recv.stdout.getReader();
      let first = "";
      while (!first.includes("\n")) first += Buffer.from((await reader.read()).value!).toString();
      expect(first).toBe("ready\n");
      const argv = ["exec", "-t", "--console-socket", sock, ...(detach ? ["-d"] : []), "tt", "sh"];
      const shim = detach ? new Shim([RUNC, "--root", root, ...argv]) : undefined;
      const r = detach ? { code: await shim!.ran() } : await rt(argv);
      expect(r.code).toBe(detach ? 0 : 5);
      let text = first.slice("ready\n".length);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      const got = JSON.parse(text) as { name: string; fds: number; output: string };
      expect([got.name, got.fds]).toEqual(["/dev/ptmx", 1]);
      expect(got.output).toMatch(/\/dev\/pts\/\d+\r\n/);
      expect(got.output).toContain("typed-42\r\n");
      if (shim) expect(await shim.waitFor("the shell's exit", () => shim.events.find((e) => "reaped" in e)?.status)).toBe(5);
    }
  });

  test("runc's refusals: no command, -t -d without a socket, a stopped container", async () => {
    await started("xr");
    expect(await rt(["exec", "xr"])).toMatchObject({ code: 1 });
    expect((await rt(["exec", "-t", "-d", "xr", "sh"])).stderr).toBe("cannot allocate tty if tsd-runc will detach without setting console socket\n");
    await ok(["kill", "xr", "KILL"]);
    await Bun.sleep(200);
    const r = await rt(["exec", "xr", "true"]);
    expect([r.code, r.stderr]).toEqual([255, "exec failed: cannot exec in a container that is not running: container not running\n"]);
  });
});

test("exec --preserve-fds 2: the caller's fds 3 and 4 are the process's 3 and 4", async () => {
  await started("pf");
  const files = ["three", "four"].map((w) => {
    const f = join(base, `fd-${w}`);
    writeFileSync(f, `${w}\n`);
    return openSync(f, "r");
  });
  try {
    const proc = Bun.spawn([RUNC, "--root", root, "exec", "--preserve-fds", "2", "pf", "sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd"], { stdio: ["ignore", "pipe", "pipe", files[0]!, files[1]!] });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(out.startsWith("three\nfour\n")).toBe(true);
    // 0-4, and ls's own directory fd: nothing of tsd's.
    expect(out.slice("three\nfour\n".length).split("\n").filter(Boolean).length).toBe(6);
  } finally {
    for (const fd of files) closeSync(fd);
  }
});

describe("delete", () => {
  test("running: refused without --force; stopped: the cgroup, the state dir, then poststop hooks with the state", async () => {
    const out = join(base, "poststop.json");
    const c = await started("dl", (spec) => {
      spec.hooks = { poststop: [{ path: "/bin/sh", args: ["sh", "-c", `cat > ${out}`] }] };
    });
    const r = await rt(["delete", "dl"]);
    expect([r.code, r.stderr]).toEqual([1, "cannot delete container dl that is not stopped: running\n"]);
    const cg = groupDir("dl", "pids");
    await ok(["kill", "dl", "TERM"]);
    expect(await c.shim.reaped(c.pid)).toBe(7);
    await ok(["delete", "dl"]);
    expect(existsSync(join(root, "dl"))).toBe(false);
    expect(existsSync(cg)).toBe(false);
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ id: "dl", status: "stopped", bundle: c.dir });
  });

  test("kill --all signals every process of the cgroup; delete --force kills and cleans a running one", async () => {
    const c = await started("ka");
    const shim = new Shim([RUNC, "--root", root, "exec", "-d", "ka", "sleep", "1000"]);
    expect(await shim.ran()).toBe(0);
    const before = JSON.parse(await ok(["ps", "--format", "json", "ka"])) as number[];
    expect(before.length).toBeGreaterThanOrEqual(2);
    await ok(["kill", "--all", "ka", "KILL"]);
    expect(await c.shim.reaped(c.pid)).toBe(137);
    await shim.waitFor("the exec'd sleep reaped", () => shim.events.find((e) => "reaped" in e)?.status);
    expect(shim.events.find((e) => "reaped" in e)?.status).toBe(137);
    await ok(["delete", "ka"]);
    const d = await started("df");
    await ok(["delete", "-f", "df"]);
    expect(await d.shim.reaped(d.pid)).toBe(137);
    expect(existsSync(join(root, "df"))).toBe(false);
  });
});
