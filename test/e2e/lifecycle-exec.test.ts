// tsd exec: every namespace and the cgroup of a running container, its env and capabilities,
// users, exit codes, byte-faithful stdin/stdout, a pty, and a recycled pid never entered; the
// exec'd process never holds one of the CLI's fds, and the helper (tsd-monitor) runs from a
// sealed memfd nobody can rewrite, never from a file under the root.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { Database } from "bun:sqlite";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

/** A monitor's executable: the sealed memfd named for this build (native/embedded.ts). */
const MONITOR_EXE = /^\/memfd:tsd-monitor-[0-9a-f]{16} \(deleted\)$/;

// Starts, stops and waits add up on a loaded 2-core host.
setDefaultTimeout(20000);

let t: TestRoot;
let id: string;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("lc-exec");
  // Its own bridge and subnet (from the pid): another checkout may run this file at once.
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge: `lc${process.pid}b1`, subnet: `10.234.${process.pid % 250}.0/24` }));
  await t.ok(["load", "-i", images.busyboxDocker]);
  id = (await t.ok(["run", "-d", "--name", "box", "-e", "FROM_RUN=yes", "busybox", "sleep", "3000"])).trim();
}, 120000);

afterAll(async () => {
  await t.tsd(["rm", "-f", "box"]);
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});


describe("exec", () => {
  test("enters every namespace of the init and its cgroup", async () => {
    const kinds = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
    const inside = (await t.ok(["exec", "box", "sh", "-c", kinds.map((k) => `readlink /proc/self/ns/${k}`).join(";")])).trim().split("\n");
    const init = (await t.ok(["exec", "box", "sh", "-c", kinds.map((k) => `readlink /proc/1/ns/${k}`).join(";")])).trim().split("\n");
    expect(inside).toEqual(init);
    // pid 1 is the container's own command; the exec'd shell is in the same pid namespace.
    expect(await t.ok(["exec", "box", "cat", "/proc/1/cmdline"])).toBe("sleep\u00003000\u0000");
    // The cgroup: the host sees the exec'd process in the container's group.
    const hostPid = Number((await t.ok(["exec", "box", "sh", "-c", "grep NSpid /proc/self/status | cut -f2"])).trim());
    expect(hostPid).toBeGreaterThan(1);
    const cg = (await t.ok(["exec", "box", "cat", "/proc/self/cgroup"])).trim().split("\n");
    // In its cgroup namespace the container's group is "/".
    for (const line of cg) expect(line.endsWith(":/")).toBe(true);
  });

  test("the container's env, capabilities and no_new_privs; -e, -w, -u", async () => {
    const out = await t.ok(["exec", "box", "sh", "-c", "echo $FROM_RUN; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; id -u"]);
    expect(out).toBe("yes\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\n0\n");
    expect(await t.ok(["exec", "-e", "FROM_RUN=no", "-e", "X=1", "-w", "/tmp", "box", "sh", "-c", "echo $FROM_RUN $X; pwd"])).toBe("no 1\n/tmp\n");
    const envFile = join(t.dir, "exec.env");
    writeFileSync(envFile, "# a comment\nFROM_FILE=yes\nX=file\n");
    expect(await t.ok(["exec", "--env-file", envFile, "-e", "X=flag", "box", "sh", "-c", "echo $FROM_FILE $X"])).toBe("yes flag\n");
    expect(await t.ok(["exec", "-u", "user", "box", "sh", "-c", "id -un; echo $HOME; grep CapEff /proc/self/status"])).toBe("user\n/home/user\nCapEff:\t0000000000000000\n");
    expect(await t.ok(["exec", "-u", "1000:1000", "box", "id"])).toBe("uid=1000(user) gid=1000(user) groups=1000(user)\n");
    const priv = await t.ok(["exec", "--privileged", "box", "grep", "NoNewPrivs", "/proc/self/status"]);
    expect(priv).toMatch(/NoNewPrivs:\s+0/);
    const bad = await t.tsd(["exec", "-u", "nosuchuser", "box", "true"]);
    expect(bad.code).toBe(126);
    expect(bad.stderr).toContain("nosuchuser");
  });

  test("exit codes: the command's, 126 and 127 with one line", async () => {
    expect((await t.tsd(["exec", "box", "sh", "-c", "exit 9"])).code).toBe(9);
    const nf = await t.tsd(["exec", "box", "/no/such"]);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toBe(`tsd: cannot exec "/no/such": no such file or directory\n`);
    const path = await t.tsd(["exec", "box", "nosuchcmd"]);
    expect(path.code).toBe(127);
    expect(path.stderr).toBe(`tsd: cannot exec "nosuchcmd": executable file not found in $PATH\n`);
    const noexec = await t.tsd(["exec", "box", "/etc/passwd"]);
    expect(noexec.code).toBe(126);
    expect(noexec.stderr.trim().split("\n")).toHaveLength(1);
    const usage = await t.tsd(["exec", "box"]);
    expect(usage.code).toBe(125);
  });

  test("stdin piping and binary output are byte for byte", async () => {
    const data = crypto.getRandomValues(new Uint8Array(3 << 20));
    const put = Bun.spawn([TSD, "--root", t.dir, "exec", "-i", "box", "sh", "-c", "cat > /tmp/blob"], { stdin: new Blob([data]), stdout: "pipe", stderr: "pipe" });
    expect(await put.exited).toBe(0);
    const get = Bun.spawn([TSD, "--root", t.dir, "exec", "box", "cat", "/tmp/blob"], { stdout: "pipe" });
    const back = new Uint8Array(await new Response(get.stdout).arrayBuffer());
    expect(await get.exited).toBe(0);
    expect(back.length).toBe(data.length);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(data))).toBe(0);
    // tar c of a directory: what the host's tar reads back is what went in.
    await t.ok(["exec", "box", "sh", "-c", "mkdir -p /data && cp /tmp/blob /data/b && echo note > /data/n"]);
    const tar = Bun.spawn([TSD, "--root", t.dir, "exec", "box", "tar", "c", "-C", "/", "data"], { stdout: "pipe" });
    const tarBytes = new Uint8Array(await new Response(tar.stdout).arrayBuffer());
    expect(await tar.exited).toBe(0);
    const list = Bun.spawnSync(["tar", "tv"], { stdin: tarBytes });
    expect(list.stdout.toString()).toContain(`${data.length} `);
    // Without -i the command reads nothing.
    expect(await t.ok(["exec", "box", "cat"], { stdin: "ignored\n" })).toBe("");
  });

  test("-t gives a pty from the container's devpts; -it keeps the exit code", async () => {
    const tty = Bun.spawn(["script", "-qec", `${TSD} --root ${t.dir} exec -t box sh -c 'tty; stty size'`, "/dev/null"], { stdout: "pipe", stdin: "ignore" });
    const out = await new Response(tty.stdout).text();
    expect(await tty.exited).toBe(0);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    const session = Bun.spawn(["script", "-qec", `${TSD} --root ${t.dir} exec -it box sh`, "/dev/null"], { stdin: "pipe", stdout: "pipe" });
    session.stdin.write("echo in-$((40+2))\nexit 6\n");
    session.stdin.flush();
    const text = await new Response(session.stdout).text();
    expect(await session.exited).toBe(6);
    expect(text).toContain("in-42");
  });

  test("-d returns at once and the command runs on", async () => {
    const started = Date.now();
    await t.ok(["exec", "-d", "box", "sh", "-c", "sleep 0.3; echo done > /tmp/detached"]);
    expect(Date.now() - started).toBeLessThan(3000);
    for (let i = 0; i < 100; i++) {
      const r = await t.tsd(["exec", "box", "cat", "/tmp/detached"]);
      if (r.code === 0) {
        expect(r.stdout).toBe("done\n");
        return;
      }
      await Bun.sleep(50);
    }
    throw new Error("the detached exec never ran");
  });

  test("a pid whose start time differs is never entered (recycled pid)", async () => {
    // The helper itself: the recorded start time must match /proc/PID/stat.
    const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
    const row = db.query("SELECT pid, pid_start FROM containers WHERE id = ?").get(id) as { pid: number; pid_start: string };
    db.close();
    // The monitor binary exists only as the running monitors' memfd: exec the box's.
    const bin = `/proc/${monitorPid()}/exe`;
    const cfg = join(t.dir, "containers", id, "exec-test.json");
    await Bun.write(cfg, readFileSync(join(t.dir, "containers", id, "config.json")));
    const wrong = Bun.spawnSync([bin, "--exec", "--pid", String(row.pid), "--pid-start", String(Number(row.pid_start) + 1), "--config", cfg], { stderr: "pipe" });
    expect(wrong.exitCode).toBe(125);
    // A stopped container: a clear error, not a process somewhere else.
    const other = (await t.ok(["run", "-d", "busybox", "sleep", "300"])).trim();
    await t.ok(["stop", "-t", "0", other]);
    const r = await t.tsd(["exec", other, "true"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not running");
    await t.ok(["rm", other]);
  });
});

/** The box's monitor, as recorded by tsd. */
function monitorPid(): number {
  const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
  const row = db.query("SELECT monitor_pid FROM containers WHERE id = ?").get(id) as { monitor_pid: number };
  db.close();
  expect(row.monitor_pid).toBeGreaterThan(0);
  return row.monitor_pid;
}

/** Runs tsd with fds 0-2 on the given files (owned by the test), to completion. */
async function tsdWithFiles(args: string[], files: { stdin?: string; stdout: string; stderr: string }): Promise<number> {
  const proc = Bun.spawn([TSD, "--root", t.dir, ...args], {
    stdin: files.stdin === undefined ? "ignore" : Bun.file(files.stdin),
    stdout: Bun.file(files.stdout),
    stderr: Bun.file(files.stderr),
  });
  return proc.exited;
}

async function waitInContainer(path: string, what: string): Promise<void> {
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    if ((await t.tsd(["exec", "box", "test", "-e", path])).code === 0) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} never happened`);
}

describe("exec stdio: never one of the CLI's fds", () => {
  const fdScript = "ls -l /proc/self/fd 2>/dev/null; for i in 0 1 2; do echo fd$i=$(readlink /proc/self/fd/$i); done";

  test("without -t the process gets pipes and the container's /dev/null, not the CLI's files", async () => {
    const dir = join(t.dir, "stdio");
    mkdirSync(dir, { recursive: true });
    const [input, out, err] = ["in", "out", "err"].map((n) => join(dir, n)) as [string, string, string];
    writeFileSync(input, "from-a-file\n");
    expect(await tsdWithFiles(["exec", "box", "sh", "-c", `${fdScript}; echo to-stderr >&2`], { stdin: input, stdout: out, stderr: err })).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^fd0=\/dev\/null$/m);
    expect(text).toMatch(/^fd1=pipe:\[\d+\]$/m);
    expect(text).toMatch(/^fd2=pipe:\[\d+\]$/m);
    expect(text).not.toContain(dir);
    expect(readFileSync(err, "utf8")).toBe("to-stderr\n");
    // -i: a pipe too, fed from the file (epoll refuses regular files: a copier of its own),
    // and EOF reaches the process.
    expect(await tsdWithFiles(["exec", "-i", "box", "sh", "-c", `${fdScript}; cat; echo eof-seen`], { stdin: input, stdout: out, stderr: err })).toBe(0);
    const withInput = readFileSync(out, "utf8");
    expect(withInput).toMatch(/^fd0=pipe:\[\d+\]$/m);
    expect(withInput).not.toContain(dir);
    expect(withInput).toEndWith("from-a-file\neof-seen\n");
    // -i from a pipe: relayed, EOF closes the process's stdin.
    expect(await t.ok(["exec", "-i", "box", "sh", "-c", "cat; echo eof-seen"], { stdin: "piped\n" })).toBe("piped\neof-seen\n");
  });

  test("-d: the process's stdio is the container's /dev/null", async () => {
    // $(…) reads the shell's own fds, before any redirection of its output.
    await t.ok(["exec", "-d", "box", "sh", "-c", 'f="$(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"; echo "$f" > /tmp/d-fds.tmp; mv /tmp/d-fds.tmp /tmp/d-fds']);
    await waitInContainer("/tmp/d-fds", "the detached exec");
    expect(await t.ok(["exec", "box", "cat", "/tmp/d-fds"])).toBe("/dev/null /dev/null /dev/null\n");
  });

  test("a background process keeps no way to the CLI's stdout after exec returns", async () => {
    const dir = join(t.dir, "bg");
    mkdirSync(dir, { recursive: true });
    const [out, err] = [join(dir, "out"), join(dir, "err")];
    // The main process exits at once with 4; its child holds the pipes, silent for longer than
    // the helper's 2 s drain, then writes to them (ignoring SIGPIPE to live on and tell).
    const started = Date.now();
    const script = '(trap "" PIPE; sleep 5; echo late; o=$?; echo late-err >&2; echo "$o $?" > /tmp/bg-status) & echo early; exit 4';
    const code = await tsdWithFiles(["exec", "box", "sh", "-c", script], { stdout: out, stderr: err });
    expect(code).toBe(4);
    expect(Date.now() - started).toBeLessThan(5000);
    await waitInContainer("/tmp/bg-status", "the background write");
    // Both writes failed (EPIPE): the helper and its pipes are gone.
    expect(await t.ok(["exec", "box", "cat", "/tmp/bg-status"])).toBe("1 1\n");
    expect(readFileSync(out, "utf8")).toBe("early\n");
    expect(readFileSync(err, "utf8")).toBe("");
    // A child that keeps writing does not hold exec up either: 2 s of its output after the
    // main process exits, then the pipes are dropped (as Docker's exec does).
    const chatty = Date.now();
    const ticks = await t.ok(["exec", "box", "sh", "-c", '(trap "" PIPE; while true; do echo tick; sleep 0.2; done) & echo $! > /tmp/ticker-pid; echo early']);
    expect(Date.now() - chatty).toBeLessThan(12000);
    expect(ticks).toContain("early\n");
    expect(ticks).toContain("tick\n");
    await t.ok(["exec", "box", "sh", "-c", "kill $(cat /tmp/ticker-pid)"]);
    // A background process that let go of the pipes does not hold exec up at all.
    const quick = Date.now();
    await t.ok(["exec", "box", "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $! > /tmp/bg-pid"]);
    expect(Date.now() - quick).toBeLessThan(25000);
    await t.ok(["exec", "box", "sh", "-c", "kill $(cat /tmp/bg-pid)"]);
  });
});

describe("the monitor binary (CVE-2019-5736 class)", () => {
  test("monitor and exec helper run from the sealed memfd the monitors share, never a file", async () => {
    expect(readlinkSync(`/proc/${monitorPid()}/exe`)).toMatch(MONITOR_EXE);
    expect(existsSync(join(t.dir, "bin")) ? readdirSync(join(t.dir, "bin")).filter((h) => existsSync(join(t.dir, "bin", h, "tsd-monitor"))) : []).toEqual([]);
    const exec = Bun.spawn([TSD, "--root", t.dir, "exec", "box", "sleep", "2"], { stdout: "ignore", stderr: "pipe" });
    let helper = 0;
    for (let i = 0; i < 200 && helper === 0; i++) {
      helper = processesNamed("tsd-monitor").find((p) => p.cmdline.includes("--exec") && p.cmdline.includes(t.dir))?.pid ?? 0;
      if (helper === 0) await Bun.sleep(10);
    }
    expect(helper).toBeGreaterThan(0);
    expect(readlinkSync(`/proc/${helper}/exe`)).toMatch(MONITOR_EXE);
    // It shares the box monitor's sealed copy (same bytes): one copy in memory, not one each.
    expect(statSync(`/proc/${helper}/exe`).ino).toBe(statSync(`/proc/${monitorPid()}/exe`).ino);
    // While anything runs it, not even root opens it for writing.
    expect(tryWrite(`/proc/${helper}/exe`)).toBe("ETXTBSY");
    expect(await exec.exited).toBe(0);
  });

  test("the CVE's sequence: an exe held open and written once no tsd process runs it is refused (sealed)", async () => {
    const own = new TestRoot("lc-exec-seal");
    let held: number | undefined;
    try {
      await own.ok(["load", "-i", (await testImages()).busyboxDocker]);
      const other = (await own.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
      const db = new Database(join(own.dir, "tsd.db"), { readonly: true });
      const row = db.query("SELECT monitor_pid FROM containers WHERE id = ?").get(other) as { monitor_pid: number };
      db.close();
      held = openSync(`/proc/${row.monitor_pid}/exe`, "r");
      expect(await own.ok(["exec", other, "echo", "in"])).toBe("in\n");
      const before = readFileSync(`/proc/self/fd/${held}`);
      expect(before.subarray(0, 4)).toEqual(Buffer.from("\x7fELF", "latin1"));
      await own.ok(["rm", "-f", other]);
      for (let i = 0; i < 200 && existsSync(`/proc/${row.monitor_pid}/exe`) && readFileSync(`/proc/${row.monitor_pid}/stat`, "utf8").split(" ")[2] !== "Z"; i++) await Bun.sleep(20);
      // Nothing executes it any more: only the seals stand between root and its bytes.
      expect(tryWrite(`/proc/self/fd/${held}`)).toBe("EPERM");
      expect(Buffer.compare(readFileSync(`/proc/self/fd/${held}`), before)).toBe(0);
      expect(own.leaks()).toEqual([]);
    } finally {
      if (held !== undefined) closeSync(held);
      await own.destroy();
    }
  });

  test("a monitor whose recorded start time is not its own (a recycled pid) shares nothing", async () => {
    const own = new TestRoot("lc-exec-donor");
    try {
      await own.ok(["load", "-i", (await testImages()).busyboxDocker]);
      const first = (await own.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
      const db = new Database(join(own.dir, "tsd.db"));
      const row = db.query("SELECT monitor_pid, monitor_start FROM containers WHERE id = ?").get(first) as { monitor_pid: number; monitor_start: string };
      const exeOf = (id: string) => statSync(`/proc/${(db.query("SELECT monitor_pid FROM containers WHERE id = ?").get(id) as { monitor_pid: number }).monitor_pid}/exe`).ino;
      try {
        db.query("UPDATE containers SET monitor_start = '1' WHERE id = ?").run(first);
        const second = (await own.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
        expect(exeOf(second)).not.toBe(exeOf(first));
        // With its own start time back, the first monitor is a donor again.
        db.query("UPDATE containers SET monitor_start = ? WHERE id = ?").run(row.monitor_start, first);
        await own.ok(["rm", "-f", second]);
        const third = (await own.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
        expect(exeOf(third)).toBe(exeOf(first));
      } finally {
        db.query("UPDATE containers SET monitor_start = ? WHERE id = ?").run(row.monitor_start, first);
        db.close();
      }
      await own.ok(["rm", "-f", ...(await own.ok(["ps", "-aq"])).trim().split("\n")]);
      expect(own.leaks()).toEqual([]);
    } finally {
      await own.destroy();
    }
  });

  test("a second container's monitor shares the running one's sealed copy", async () => {
    const other = (await t.ok(["run", "-d", "--network", "none", "busybox", "sleep", "300"])).trim();
    try {
      const db = new Database(join(t.dir, "tsd.db"), { readonly: true });
      const row = db.query("SELECT monitor_pid FROM containers WHERE id = ?").get(other) as { monitor_pid: number };
      db.close();
      expect(readlinkSync(`/proc/${row.monitor_pid}/exe`)).toMatch(MONITOR_EXE);
      expect(statSync(`/proc/${row.monitor_pid}/exe`).ino).toBe(statSync(`/proc/${monitorPid()}/exe`).ino);
    } finally {
      await t.tsd(["rm", "-f", other]);
    }
  });

  test("a tsd-monitor planted under <root>/bin is never run", async () => {
    // Where the file used to be written and trusted: <root>/bin/<sha256 prefix>/tsd-monitor.
    const built = readFileSync(resolve(import.meta.dir, "../../zig-out/bin/tsd-monitor"));
    const hash = new Bun.CryptoHasher("sha256").update(built).digest("hex").slice(0, 16);
    const planted = join(t.dir, "bin", hash, "tsd-monitor");
    const marker = join(t.dir, "planted-ran");
    mkdirSync(join(t.dir, "bin", hash), { recursive: true });
    writeFileSync(planted, `#!/bin/sh\ntouch ${marker}\nexit 0\n`, { mode: 0o755 });
    try {
      expect(await t.ok(["exec", "box", "echo", "real"])).toBe("real\n");
      expect(await t.ok(["run", "--rm", "--network", "none", "busybox", "echo", "real-run"])).toBe("real-run\n");
      expect(existsSync(marker)).toBe(false);
    } finally {
      Bun.spawnSync(["rm", "-rf", join(t.dir, "bin", hash)]);
    }
  });
});

/** Opens `path` for writing and writes to it: "written", or the error code of the step that failed. */
function tryWrite(path: string): string {
  let w: number;
  try {
    w = openSync(path, "r+");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  }
  try {
    writeSync(w, "#!/bin/sh\n", 0);
    return "written";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "error";
  } finally {
    closeSync(w);
  }
}

function processesNamed(comm: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, "utf8").trim() === comm) out.push({ pid: Number(p), cmdline: readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}
