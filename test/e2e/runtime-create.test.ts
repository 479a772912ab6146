// tsd as an OCI runtime, the create/start path (issue 12, RUNTIME.md): dist/tsd driven with
// runc's command line against bundles this file writes (the busybox rootfs of test/lib, a
// config.json of our own), with a small Python caller playing containerd-shim's part: a child
// subreaper that runs `create`, finds the init reparented to itself, runs `start` and reaps the
// init. Each test has its own bundle and cgroup under this file's parent group; nothing is left.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { dirname, join } from "node:path";
import { TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { removeGroupTree } from "../lib/cgroups";

const base = mkdtempSync("/dev/shm/tsd-e2e-rtc-");
const root = join(base, "root");
const parent = `tsd-e2e-rtc-${process.pid}`;
const HIERARCHIES = readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h));
const groupDirs = () => HIERARCHIES.map((h) => join(h, parent)).filter((d) => existsSync(join(d, "cgroup.procs")));
let rootfs = "";

// The caller: a child subreaper as containerd-shim is; results as JSON into argv[1].
const HELPER = String.raw`
import ctypes, json, os, socket, subprocess, sys, threading, time
result_path, mode, tsd, root, bundle, cid = sys.argv[1:7]
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
rt = [tsd, "runtime", "--root", root]
res = {}
def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
def reap(pid):
    while True:
        p, st = os.waitpid(-1, 0)
        if p == pid:
            return os.waitstatus_to_exitcode(st)
def read_all(fd):
    out = b""
    while True:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        out += b
    return out.decode()
pidfile = os.path.join(root, "..", cid + ".pid")
if mode == "lifecycle":
    os.open("/dev/null", os.O_RDONLY)  # takes fd 3 if free: the pipes must not land there
    out_r, out_w = os.pipe(); err_r, err_w = os.pipe(); pre_r, pre_w = os.pipe()
    os.dup2(pre_w, 3)
    c = subprocess.run(rt + ["create", "--bundle", bundle, "--pid-file", pidfile, "--preserve-fds", "1", cid], stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w, pass_fds=(3,))
    os.close(3); os.close(pre_w); os.close(out_w); os.close(err_w)
    res["create"] = c.returncode
    pid = int(open(pidfile).read())
    res["pid"] = pid
    res["ppid"] = ppid(pid); res["me"] = os.getpid()
    time.sleep(0.3)
    res["ran_before_start"] = os.path.exists(os.path.join(bundle, "out", "ran"))
    res["state"] = json.loads(subprocess.run(rt + ["state", cid], capture_output=True).stdout)
    start = [os.environ["TSD_FRONT"], "--root", root] if "TSD_FRONT" in os.environ else rt
    res["start"] = subprocess.run(start + ["start", cid]).returncode
    try:  # the process, or gone: never the init still before its execve
        res["exe_after_start"] = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        res["exe_after_start"] = "gone"
    res["status"] = reap(pid)
    res["stdout"] = read_all(out_r); res["stderr"] = read_all(err_r); res["fd3"] = read_all(pre_r)
    res["state_after"] = json.loads(subprocess.run(rt + ["state", cid], capture_output=True).stdout)
elif mode == "console":
    path = os.path.join(bundle, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); srv.bind(path); srv.listen(1)
    got = {}
    def accept():
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
        got["name"] = msg.decode(); got["fd"] = fds[0]
    t = threading.Thread(target=accept); t.start()
    c = subprocess.run(rt + ["create", "--bundle", bundle, "--pid-file", pidfile, "--console-socket", path, cid], stdin=subprocess.DEVNULL)
    res["create"] = c.returncode
    t.join(10)
    res["name"] = got.get("name")
    pid = int(open(pidfile).read())
    res["start"] = subprocess.run(rt + ["start", cid]).returncode
    res["output"] = read_all(got["fd"]) if "fd" in got else None
    res["status"] = reap(pid)
json.dump(res, open(result_path, "w"))
`;

interface Options {
  args: string[];
  terminal?: boolean;
  /** Another rootfs than the shared read-only copy (a test that changes it). */
  rootfs?: string;
  user?: { uid: number; gid: number };
  cwd?: string;
  /** /dev as a read-only tmpfs (runc's mounts.bats). */
  devReadonly?: boolean;
  mounts?: object[];
  hooks?: Record<string, { path: string; args?: string[]; env?: string[]; timeout?: number }[]>;
}

/** A bundle of its own: the busybox rootfs read-only, its own out/ bound at /out, its group. */
function bundle(name: string, o: Options): string {
  const dir = join(base, name);
  mkdirSync(join(dir, "out"), { recursive: true });
  const spec = {
    ociVersion: "1.3.0",
    process: { terminal: o.terminal ?? false, user: o.user ?? { uid: 0, gid: 0 }, args: o.args, env: ["PATH=/bin:/usr/bin", "TERM=xterm"], cwd: o.cwd ?? "/",
      capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] } },
    root: { path: o.rootfs ?? rootfs, readonly: o.rootfs === undefined },
    hostname: name,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k", ...(o.devReadonly ? ["ro"] : [])] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/out", type: "bind", source: join(dir, "out"), options: ["rbind", "rw"] },
      ...(o.mounts ?? []),
    ],
    ...(o.hooks ? { hooks: o.hooks } : {}),
    linux: {
      cgroupsPath: `/${parent}/${name}`,
      resources: { pids: { limit: 64 } },
      namespaces: [{ type: "pid" }, { type: "mount" }, { type: "uts" }, { type: "ipc" }, { type: "network" }],
      maskedPaths: ["/proc/kcore"],
      readonlyPaths: ["/proc/sys"],
    },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  return dir;
}

let calls = 0;

/** `tsd runtime ARGS`; its stdio are files (a created container keeps create's stdio open). */
async function rt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = join(base, `call-${++calls}`);
  const p = Bun.spawn([TSD, "runtime", "--root", root, ...args], { stdin: "ignore", stdout: Bun.file(`${out}.out`), stderr: Bun.file(`${out}.err`) });
  const timer = setTimeout(() => p.kill(9), 20000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: readFileSync(`${out}.out`, "utf8"), stderr: readFileSync(`${out}.err`, "utf8") };
}

/** `tsd runtime ARGS` on a pty of its own (script(1)), as at a user's terminal; its output
 *  and, last, its status. */
async function rtOnPty(args: string[]): Promise<{ code: number; output: string }> {
  const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
  const cmd = [TSD, "runtime", "--root", root, ...args].map(quote).join(" ");
  // stdin a pipe left open: at EOF of its stdin script(1) types the terminal's EOF character,
  // which a canonical line discipline stores as a NUL that the relay, once raw, would read.
  const p = Bun.spawn(["script", "-qec", `${cmd}; echo "rc=$?"`, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const timer = setTimeout(() => p.kill(9), 20000);
  const output = await new Response(p.stdout).text();
  await p.exited;
  clearTimeout(timer);
  p.stdin.end();
  const m = /rc=(\d+)\r?\n?$/.exec(output);
  return { code: m ? Number(m[1]) : -1, output };
}

/** A copy of the busybox rootfs this test may change. */
function rootfsCopy(name: string): string {
  const dir = join(base, `${name}-rootfs`);
  const cp = Bun.spawnSync(["cp", "-a", rootfs, dir]);
  if (cp.exitCode !== 0) throw new Error(`cp -a the busybox rootfs: ${cp.stderr}`);
  return dir;
}

/** Runs the Python caller; its JSON result. */
async function caller(mode: string, dir: string, id: string, env: Record<string, string> = {}): Promise<Record<string, any>> {
  const out = join(base, `${id}.result.json`);
  const p = Bun.spawn(["python3", join(base, "helper.py"), out, mode, TSD, root, dir, id], { stdin: "ignore", stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  const timer = setTimeout(() => p.kill(9), 30000);
  const code = await p.exited;
  clearTimeout(timer);
  expect(code).toBe(0);
  return JSON.parse(readFileSync(out, "utf8"));
}

/** Processes whose cgroup is under this file's parent group. */
function containerProcesses(): number[] {
  const pids: number[] = [];
  for (const d of groupDirs()) {
    const walk = (g: string) => {
      for (const l of readFileSync(join(g, "cgroup.procs"), "utf8").split("\n")) if (l) pids.push(Number(l));
      for (const e of readdirSync(g, { withFileTypes: true })) if (e.isDirectory()) walk(join(g, e.name));
    };
    walk(d);
  }
  return pids;
}

/** Nothing of `id` is left: no state dir, no group, no process. */
function expectGone(id: string, name: string): void {
  expect(existsSync(join(root, id))).toBe(false);
  for (const h of HIERARCHIES) expect(existsSync(join(h, parent, name))).toBe(false);
  expect(containerProcesses()).toEqual([]);
}

beforeAll(async () => {
  // A copy: the init creates mount points in it (/out, /sys/fs/cgroup…), the cache is shared.
  rootfs = join(base, "rootfs");
  const cp = Bun.spawnSync(["cp", "-a", (await testImages()).rootfs, rootfs]);
  if (cp.exitCode !== 0) throw new Error(`cp -a the busybox rootfs: ${cp.stderr}`);
  writeFileSync(join(base, "helper.py"), HELPER);
});

afterAll(() => {
  for (const d of groupDirs()) removeGroupTree(d);
  rmSync(base, { recursive: true, force: true });
  expect(HIERARCHIES.filter((h) => existsSync(join(h, parent)))).toEqual([]);
});

describe("tsd runtime create/start", () => {
  test("create leaves the init blocked under the caller's subreaper; start runs it on create's pipes", async () => {
    const dir = bundle("life", { args: ["sh", "-c", "touch /out/ran; echo hello; echo oops >&2; echo kept >&3; exit 3"] });
    const r = await caller("lifecycle", dir, "life");
    expect(r.create).toBe(0);
    expect(r.ppid).toBe(r.me);
    expect(r.ran_before_start).toBe(false);
    expect(r.state).toMatchObject({ id: "life", status: "created", pid: r.pid, bundle: dir, rootfs, ociVersion: "1.3.0" });
    expect(r.start).toBe(0);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("hello\n");
    expect(r.stderr).toBe("oops\n");
    expect(r.fd3).toBe("kept\n");
    expect(existsSync(join(dir, "out", "ran"))).toBe(true);
    expect(r.state_after).toMatchObject({ status: "stopped", pid: 0 });
    expect(r.exe_after_start).not.toContain("tsd-monitor");
    expect((await rt(["delete", "life"])).code).toBe(0);
    expectGone("life", "life");
  });

  test("start returns once the init has exec'd the process (a signal sent then is not lost to its set-up: runtime-tools' killsig), the front's start too", async () => {
    for (const [id, env] of [["exec-bun", {}], ["exec-front", { TSD_FRONT: join(dirname(TSD), "tsd-runc") }]] as const) {
      const dir = bundle(id, { args: ["/bin/sh", "-c", "exit 4"] });
      const r = await caller("lifecycle", dir, id, env);
      expect(r.start).toBe(0);
      expect(r.exe_after_start).not.toContain("tsd-monitor");
      expect(r.status).toBe(4);
      expect((await rt(["delete", id])).code).toBe(0);
      expectGone(id, id);
    }
  });

  test("the limits of linux.resources hold in the group of linux.cgroupsPath", async () => {
    bundle("limits", { args: ["true"] });
    const c = await rt(["create", "--bundle", join(base, "limits"), "limits"]);
    expect(c).toMatchObject({ code: 0, stderr: "" });
    const pid = JSON.parse((await rt(["state", "limits"])).stdout).pid;
    const pidsGroup = HIERARCHIES.map((h) => join(h, parent, "limits")).find((d) => existsSync(join(d, "pids.max")))!;
    expect(readFileSync(join(pidsGroup, "pids.max"), "utf8").trim()).toBe("64");
    expect(readFileSync(join(pidsGroup, "cgroup.procs"), "utf8").trim()).toBe(String(pid));
    // On v1 every line of its /proc/PID/cgroup names the group: the name=systemd hierarchy's
    // and, on a hybrid host, the unified one's too (runc's placement).
    const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
    if (!existsSync("/sys/fs/cgroup/cgroup.controllers")) expect(lines.filter((l) => !l.endsWith(`:/${parent}/limits`))).toEqual([]);
    // A created container deleted without start: the blocked init goes with it.
    expect((await rt(["delete", "--force", "limits"])).code).toBe(0);
    expectGone("limits", "limits");
  });

  test("hooks run in runc's order, each with the state on stdin", async () => {
    const log = join(base, "hooks", "out", "hooks.log");
    const hook = (kind: string) => ({ path: "/bin/sh", args: ["sh", "-c", `echo "${kind} $(cat)" >> ${log}`] });
    const kinds = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"];
    const hooks: Options["hooks"] = Object.fromEntries(kinds.map((k) => [k, [hook(k)]]));
    // startContainer runs in the container: its path and the log resolve there.
    hooks.startContainer = [{ path: "/bin/sh", args: ["sh", "-c", `echo "startContainer $(cat)" >> /out/hooks.log`] }];
    const dir = bundle("hooks", { args: ["sh", "-c", "echo process >> /out/hooks.log"], hooks });
    const r = await caller("lifecycle", dir, "hooks");
    expect([r.create, r.start, r.status]).toEqual([0, 0, 0]);
    expect((await rt(["delete", "hooks"])).code).toBe(0);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const kindsSeen = lines.map((l) => l.split(" ")[0]);
    // The process runs alongside poststart (which follows its exec): its line is somewhere after startContainer.
    expect(kindsSeen.indexOf("process")).toBeGreaterThan(kindsSeen.indexOf("startContainer"));
    expect(kindsSeen.filter((k) => k !== "process")).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
    const hookLines = lines.filter((l) => !l.startsWith("process"));
    const state = (i: number) => JSON.parse(hookLines[i]!.slice(hookLines[i]!.indexOf(" ") + 1));
    expect(state(0)).toEqual({ ociVersion: "1.3.0", id: "hooks", bundle: dir, annotations: {}, status: "created", pid: r.pid });
    expect(state(1)).toMatchObject({ status: "creating", pid: r.pid });
    expect(state(2)).toMatchObject({ status: "creating", pid: r.pid });
    expect(state(3)).toMatchObject({ status: "created", pid: r.pid });
    // poststart: the process has started ("running" even if it has ended already).
    expect(state(4)).toMatchObject({ id: "hooks", bundle: dir, status: "running", pid: r.pid });
    expect(state(5)).toMatchObject({ id: "hooks", status: "stopped" });
    expectGone("hooks", "hooks");
  });

  test("a failing createRuntime hook fails the create, naming the hook, and leaves nothing", async () => {
    const dir = bundle("badhook", { args: ["true"], hooks: { createRuntime: [{ path: "/bin/sh", args: ["sh", "-c", "echo refused by policy >&2; exit 7"] }] } });
    const c = await rt(["create", "--bundle", dir, "badhook"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("createRuntime: error running hook /bin/sh: exit status 7: refused by policy");
    expectGone("badhook", "badhook");
  });

  test("a frozen group in linux.cgroupsPath is refused, not joined (the init would stop there and the create hang)", async () => {
    const dir = bundle("frozen", { args: ["true"] });
    // The group exists frozen before the create (runc's bats test does this).
    const v1 = existsSync("/sys/fs/cgroup/freezer/cgroup.procs");
    const g = v1 ? `/sys/fs/cgroup/freezer/${parent}/frozen` : `/sys/fs/cgroup/${parent}/frozen`;
    mkdirSync(g, { recursive: true });
    writeFileSync(join(g, v1 ? "freezer.state" : "cgroup.freeze"), v1 ? "FROZEN" : "1");
    try {
      const c = await rt(["create", "--bundle", dir, "frozen"]);
      expect(c.code).toBe(1);
      expect(c.stderr).toContain("is frozen: thaw it");
      expect(existsSync(join(root, "frozen"))).toBe(false);
      expect(containerProcesses()).toEqual([]);
    } finally {
      writeFileSync(join(g, v1 ? "freezer.state" : "cgroup.freeze"), v1 ? "THAWED" : "0");
      rmdirSync(g);
    }
    expectGone("frozen", "frozen");
  });

  test("a process that does not exist fails the create, not the start", async () => {
    const dir = bundle("nope", { args: ["/bin/nope"] });
    const c = await rt(["create", "--bundle", dir, "nope"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain(`cannot exec \\"/bin/nope\\": no such file or directory`);
    expect((await rt(["state", "nope"])).stderr).toContain(`container \\"nope\\" does not exist`);
    expectGone("nope", "nope");
  });

  test("--console-socket receives the pty master; the process runs on the pty", async () => {
    const dir = bundle("tty", { args: ["sh", "-c", "tty; echo on-the-pty"], terminal: true });
    const r = await caller("console", dir, "tty");
    expect([r.create, r.start, r.status]).toEqual([0, 0, 0]);
    expect(r.name).toBe("/dev/ptmx");
    expect(r.output).toContain("/dev/pts/0");
    expect(r.output).toContain("on-the-pty");
    expect((await rt(["delete", "tty"])).code).toBe(0);
    expectGone("tty", "tty");
  });

  test("a terminal without --console-socket, an existing id, a bad id are refused", async () => {
    const dir = bundle("refused", { args: ["true"], terminal: true });
    const c = await rt(["create", "--bundle", dir, "refused"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("a console socket is needed (--console-socket)");
    expectGone("refused", "refused");
    const ok = bundle("twice", { args: ["true"] });
    expect((await rt(["create", "--bundle", ok, "twice"])).code).toBe(0);
    const again = await rt(["create", "--bundle", ok, "twice"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("container with id exists: twice");
    expect(JSON.parse((await rt(["state", "twice"])).stdout).status).toBe("created");
    expect((await rt(["delete", "--force", "twice"])).code).toBe(0);
    expectGone("twice", "twice");
    expect((await rt(["create", "--bundle", ok, "a/b"])).stderr).toContain("invalid container id format");
  });

  test("a cgroup mount naming no hierarchy (containerd's) shows the container's own groups, read-only", async () => {
    const sys = [
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ];
    const script = "cat /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/pids/x 2>/dev/null || echo read-only; mkdir /sys/fs/cgroup/y 2>/dev/null || echo tmpfs-read-only";
    const dir = bundle("cgmount", { args: ["sh", "-c", script], mounts: sys });
    const r = await rt(["run", "--bundle", dir, "cgmount"]);
    expect(r).toMatchObject({ code: 0, stdout: "64\nread-only\ntmpfs-read-only\n" });
    expectGone("cgmount", "cgmount");
  });

  test("run with a terminal and no console socket: our own pty, relayed; owned by the user; a read-only /dev after /dev/console", async () => {
    const script = "tty; stat -c %u $(tty); grep '^tmpfs /dev ' /proc/mounts; exit 3";
    const dir = bundle("fgtty", { args: ["sh", "-c", script], terminal: true, user: { uid: 1000, gid: 1000 }, devReadonly: true });
    const r = await rtOnPty(["run", "--bundle", dir, "fgtty"]);
    expect(r.output).toMatch(/\/dev\/pts\/\d+\r\n1000\r\ntmpfs \/dev tmpfs ro,/);
    expect(r.code).toBe(3);
    expectGone("fgtty", "fgtty");
    // A process that ends at once: its exit is not lost between the monitor's report and its
    // relay (a race that hung runc's seccomp tests one run in three).
    const quick = bundle("fgquick", { args: ["sh", "-c", "exit 7"], terminal: true });
    for (let i = 0; i < 5; i++) expect((await rtOnPty(["run", "--bundle", quick, "fgquick"])).code).toBe(7);
    expectGone("fgquick", "fgquick");
  });

  test("the init joins a session keyring of its own, _ses.<id> (runc's); --no-new-keyring keeps the caller's", async () => {
    const dir = bundle("keys", { args: ["cat", "/proc/keys"] });
    const r = await rt(["run", "--bundle", dir, "keys"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/keyring\s+_ses\.keys: /);
    expectGone("keys", "keys");
    const kept = await rt(["run", "--no-new-keyring", "--bundle", dir, "keys2"]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).not.toContain("_ses.keys2");
    expectGone("keys2", "keys");
  });

  test("proc on a symlink the image put at /proc is refused (runc's), nothing mounted through it", async () => {
    const fs = rootfsCopy("symproc");
    rmSync(join(fs, "proc"), { recursive: true, force: true });
    Bun.spawnSync(["ln", "-s", "/elsewhere", join(fs, "proc")]);
    const dir = bundle("symproc", { args: ["true"], rootfs: fs });
    const r = await rt(["run", "--bundle", dir, "symproc"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('filesystem \\"proc\\" must be mounted on ordinary directory: \\"/proc\\" is a symlink in the rootfs');
    expect(existsSync(join(fs, "elsewhere"))).toBe(false);
    expectGone("symproc", "symproc");
  });

  test("exec as root into a cwd only the container's user may enter: chdir before the capabilities go (runc's order)", async () => {
    const fs = rootfsCopy("cwd");
    Bun.spawnSync(["chown", "42", join(fs, "root")]);
    chmodSync(join(fs, "root"), 0o700);
    const dir = bundle("cwd", { args: ["sleep", "60"], rootfs: fs, user: { uid: 42, gid: 42 }, cwd: "/root" });
    try {
      expect((await rt(["create", "--bundle", dir, "cwd"])).code).toBe(0);
      expect((await rt(["start", "cwd"])).code).toBe(0);
      expect(await rt(["exec", "--user", "0", "cwd", "sh", "-c", "pwd; id -u"])).toMatchObject({ code: 0, stdout: "/root\n0\n" });
    } finally {
      await rt(["delete", "--force", "cwd"]);
    }
    expectGone("cwd", "cwd");
  });

  test("run: create + start in the foreground, the process's status, then deleted", async () => {
    const dir = bundle("run", { args: ["sh", "-c", "echo ran; exit 5"] });
    const r = await rt(["run", "--bundle", dir, "run"]);
    expect(r).toMatchObject({ code: 5, stdout: "ran\n" });
    expectGone("run", "run");
  });
});
