// Detached containers, names and id prefixes, logs, stop/kill/wait/rm/rename: the built
// dist/tsd against real namespaces, cgroups and the monitor.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

// Starts, stops and waits add up on a loaded 2-core host.
setDefaultTimeout(20000);

let t: TestRoot;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("lifecycle");
  // Its own bridge and subnet (from the pid): another checkout may run this file at once.
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge: `lc${process.pid}b0`, subnet: `10.233.${process.pid % 250}.0/24` }));
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  await t.tsd(["rm", "-f", ...(await t.ok(["ps", "-aq", "--no-trunc"])).split("\n").filter(Boolean)]);
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

const runD = async (args: string[]) => (await t.ok(["run", "-d", ...args])).trim();

/** Polls until `fn` returns true (at most `ms`). */
async function until(fn: () => Promise<boolean> | boolean, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(25);
  }
}

describe("run -d", () => {
  test("prints the full id at once; the container runs on; ps lists it by name", async () => {
    const started = Date.now();
    const id = await runD(["--name", "sleeper", "busybox", "sleep", "300"]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await t.ok(["ps"]);
    expect(ps.split("\n")[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ps).toMatch(new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sleep 300"\\s+.*\\s+Up (Less than a second|\\d+ seconds?)\\s+sleeper`));
    // Resolves by name, full id and any unique prefix.
    for (const ref of ["sleeper", id, id.slice(0, 5)]) expect((await t.tsd(["logs", ref])).code).toBe(0);
    expect(await t.ok(["ps", "-q", "--no-trunc", "--filter", `id=${id.slice(0, 8)}`])).toBe(`${id}\n`);
    const dup = await t.tsd(["run", "-d", "--name", "sleeper", "busybox", "true"]);
    expect(dup.code).toBe(125);
    expect(dup.stderr).toBe(`tsd: the container name "/sleeper" is already in use: remove that container or choose another name\n`);
    await t.ok(["rm", "-f", "sleeper"]);
    expect(t.containerDirs()).not.toContain(id);
  });

  test("a detached container's exit is recorded by its monitor; wait prints the code", async () => {
    const id = await runD(["busybox", "sh", "-c", "sleep 0.2; exit 7"]);
    expect((await t.ok(["wait", id])).trim()).toBe("7");
    expect(await t.ok(["ps", "-a", "--filter", `id=${id}`])).toMatch(/Exited \(7\) (Less than a second|\d+ seconds?) ago/);
    expect(await t.ok(["ps", "-q"])).not.toContain(id.slice(0, 12));
    // The monitor ran the cleanup: the cgroup is gone, exit.json is there.
    expect(existsSync(join(t.dir, "containers", id, "exit.json"))).toBe(true);
    await t.ok(["rm", id]);
  });

  test("-d with a missing command: 127, one line, the container recorded as exited", async () => {
    const r = await t.tsd(["run", "-d", "--name", "broken", "busybox", "/no/such"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^tsd: .*\/no\/such.*\n$/);
    await t.ok(["rm", "-f", "broken"]);
  });

  test("-d --rm removes the container when it exits", async () => {
    const id = await runD(["--rm", "busybox", "true"]);
    await until(() => !t.containerDirs().includes(id));
    expect(await t.ok(["ps", "-aq", "--no-trunc"])).not.toContain(id);
  });
});

describe("logs", () => {
  test("stdout and stderr apart, -t timestamps, --tail", async () => {
    const id = await runD(["busybox", "sh", "-c", "echo one; echo two >&2; echo three; printf partial"]);
    await t.ok(["wait", id]);
    const r = await t.tsd(["logs", id]);
    expect(r.stdout).toBe("one\nthree\npartial");
    expect(r.stderr).toBe("two\n");
    const ts = await t.ok(["logs", "-t", "--tail", "1", id]);
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z partial$/);
    expect(await t.ok(["logs", "--tail", "0", id])).toBe("");
    // Docker's json-file format, one record a line.
    const file = readFileSync(join(t.dir, "containers", id, `${id}-json.log`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(file.find((r) => r.log === "one\n")).toEqual({ log: "one\n", stream: "stdout", time: expect.stringMatching(/Z$/) });
    // Two pipes: the order between the streams is the order the monitor read them in.
    expect(file.filter((r) => r.stream === "stdout").map((r) => r.log)).toEqual(["one\n", "three\n", "partial"]);
    expect(file.filter((r) => r.stream === "stderr").map((r) => r.log)).toEqual(["two\n"]);
    await t.ok(["rm", id]);
  });

  test("--since and --until", async () => {
    const id = await runD(["busybox", "sh", "-c", "echo early; sleep 1.2; echo late"]);
    await t.ok(["wait", id]);
    const file = readFileSync(join(t.dir, "containers", id, `${id}-json.log`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const lateAt = Date.parse(file[1].time);
    expect(await t.ok(["logs", "--since", new Date(lateAt - 200).toISOString(), id])).toBe("late\n");
    expect(await t.ok(["logs", "--until", String((lateAt - 200) / 1000), id])).toBe("early\n");
    expect(await t.ok(["logs", "--since", "1h", id])).toBe("early\nlate\n");
    await t.ok(["rm", id]);
  });

  test("-f follows a running container and ends when it exits", async () => {
    const id = await runD(["busybox", "sh", "-c", "for i in 1 2 3; do echo n$i; sleep 0.3; done"]);
    const r = await t.tsd(["logs", "-f", id], { timeoutMs: 10000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("n1\nn2\nn3\n");
    await t.ok(["rm", id]);
  });

  test("a foreground run is logged too", async () => {
    const out = await t.ok(["run", "--name", "fg-logged", "busybox", "echo", "in the foreground"]);
    expect(out).toBe("in the foreground\n");
    expect(await t.ok(["logs", "fg-logged"])).toBe("in the foreground\n");
    await t.ok(["rm", "fg-logged"]);
  });

  test("growth is bounded by --log-opt max-size/max-file; logs reads across the rotation", async () => {
    // 3000 lines of 100 bytes (~420 kB of records) into 64 kB files, 2 of them.
    const id = await runD(["--log-opt", "max-size=64k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
      "i=0; while [ $i -lt 3000 ]; do printf '%099d\\n' $i; i=$((i+1)); done"]);
    await t.ok(["wait", id]);
    const dir = join(t.dir, "containers", id);
    const logs = readdirSync(dir).filter((f) => f.includes("-json.log")).sort();
    expect(logs).toEqual([`${id}-json.log`, `${id}-json.log.1`]);
    for (const f of logs) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(64 * 1024);
    const lines = (await t.ok(["logs", id])).trim().split("\n");
    // The newest lines survive, in order, ending with the last one.
    expect(lines.at(-1)).toBe("2999".padStart(99, "0"));
    expect(lines.length).toBeGreaterThan(400);
    lines.forEach((l, i) => i > 0 && expect(Number(l)).toBe(Number(lines[i - 1]) + 1));
    const bad = await t.tsd(["run", "-d", "--log-opt", "max-size=lots", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("max-size");
    await t.ok(["rm", id]);
  });
});

describe("stop, kill, rename, rm", () => {
  test("stop on a container that ignores SIGTERM returns after the timeout with 137", async () => {
    // sh as pid 1 of its namespace has no SIGTERM handler: the kernel drops the signal.
    const id = await runD(["busybox", "sleep", "300"]);
    const started = Date.now();
    expect((await t.ok(["stop", "-t", "1", id])).trim()).toBe(id);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(8000);
    expect((await t.ok(["wait", id])).trim()).toBe("137");
    await t.ok(["rm", id]);
  });

  test("stop of a container that handles SIGTERM ends it at once with its own code", async () => {
    const id = await runD(["busybox", "sh", "-c", "trap 'exit 42' TERM; while true; do sleep 0.1; done"]);
    await Bun.sleep(200);
    const started = Date.now();
    await t.ok(["stop", id]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await t.ok(["wait", id])).trim()).toBe("42");
    await t.ok(["rm", id]);
  });

  test("kill -s sends the signal; kill of a stopped container fails", async () => {
    const id = await runD(["busybox", "sh", "-c", "trap 'exit 3' USR1; while true; do sleep 0.1; done"]);
    await Bun.sleep(200);
    await t.ok(["kill", "-s", "USR1", id]);
    expect((await t.ok(["wait", id])).trim()).toBe("3");
    const again = await t.tsd(["kill", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is not running");
    const bad = await t.tsd(["kill", "-s", "NOPE", id]);
    expect(bad.code).toBe(125);
    await t.ok(["rm", id]);
  });

  test("rename; rm of a running container needs -f", async () => {
    const id = await runD(["--name", "before", "busybox", "sleep", "300"]);
    await t.ok(["rename", "before", "after"]);
    expect(await t.ok(["ps", "--filter", "name=after"])).toContain(id.slice(0, 12));
    expect(await t.ok(["ps", "--filter", "name=after", "--format", "{{.ID}} {{.Names}} {{.State}}"])).toBe(`${id.slice(0, 12)} after running\n`);
    const r = await t.tsd(["rm", "after"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stop it first or use rm -f");
    await t.ok(["rm", "-f", "after"]);
    expect(t.containerDirs()).not.toContain(id);
    expect((await t.tsd(["rm", "after"])).stderr).toBe("tsd: no such container: after\n");
  });
});

describe("start, restart, inspect, top, cp, prune", () => {
  test("start runs an exited container again on the same rootfs; restart; start -a", async () => {
    const id = await runD(["--name", "again", "busybox", "sh", "-c", "echo run >> /count; wc -l < /count; sleep 300"]);
    // Each run counts before it is stopped (a stop right away could beat the echo).
    await until(async () => (await t.ok(["logs", "again"])) === "1\n");
    await t.ok(["stop", "-t", "0", "again"]);
    expect(await t.ok(["start", "again"])).toBe("again\n");
    await until(async () => (await t.ok(["logs", "again"])) === "1\n2\n");
    expect(await t.ok(["ps", "--filter", "name=again", "-q"])).toBe(`${id.slice(0, 12)}\n`);
    await t.ok(["restart", "-t", "0", "again"]);
    await until(async () => (await t.ok(["logs", "again"])).includes("3\n")).catch(async (e) => {
      throw new Error(`${e}: logs ${JSON.stringify(await t.ok(["logs", "again"]))}, ps ${await t.ok(["ps", "-a"])}, inspect ${await t.ok(["inspect", "again"])}`);
    });
    expect(await t.ok(["logs", "again"])).toBe("1\n2\n3\n");
    // The old exit status went away with the new start.
    expect((await t.ok(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "again"])).trim()).toBe("running 0");
    await t.ok(["stop", "-t", "0", "again"]);
    // start -a: in the foreground with the container's output and its status.
    const fg = await runD(["--name", "fg-again", "busybox", "sh", "-c", "echo hi; exit 4"]);
    await t.ok(["wait", fg]);
    const r = await t.tsd(["start", "-a", "fg-again"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("hi\n");
    await t.ok(["rm", "again", "fg-again"]);
  }, 30000);

  test("create, then start: Created in ps until started", async () => {
    const id = (await t.ok(["create", "--name", "made", "--network", "none", "busybox", "sh", "-c", "echo started; sleep 300"])).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await t.ok(["ps", "-a", "--filter", "name=made", "--format", "{{.Status}}"])).toBe("Created\n");
    expect((await t.ok(["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "made"])).trim()).toBe("created 0");
    await t.ok(["start", "made"]);
    await until(async () => (await t.ok(["logs", "made"])) === "started\n");
    expect(await t.ok(["ps", "--filter", "name=made", "--format", "{{.State}}"])).toBe("running\n");
    await t.ok(["rm", "-f", "made"]);
  });

  test("inspect: Docker's shape and --format field paths", async () => {
    const id = await runD(["--name", "insp", "-e", "K=V", "busybox", "sleep", "300"]);
    const [c] = JSON.parse(await t.ok(["inspect", "insp"]));
    expect(c.Id).toBe(id);
    expect(c.Name).toBe("/insp");
    expect(c.State).toMatchObject({ Status: "running", Running: true, ExitCode: 0, OOMKilled: false, Error: "" });
    expect(c.State.Pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${c.State.Pid}/cmdline`, "utf8")).toBe("sleep\u0000300\u0000");
    expect(c.Config.Env).toContain("K=V");
    expect(c.Config.Image).toBe("busybox");
    expect(c.HostConfig).toHaveProperty("RestartPolicy");
    expect(c).toHaveProperty("Mounts");
    expect(c).toHaveProperty("NetworkSettings");
    expect(Date.parse(c.State.StartedAt)).toBeGreaterThan(0);
    expect((await t.ok(["inspect", "--format", "{{.State.Pid}}", "insp"])).trim()).toBe(String(c.State.Pid));
    expect((await t.ok(["inspect", "--format", "{{json .Config.Cmd}}", "insp"])).trim()).toBe('["sleep","300"]');
    await t.ok(["stop", "-t", "0", "insp"]);
    const [s] = JSON.parse(await t.ok(["inspect", "insp"]));
    expect(s.State).toMatchObject({ Status: "exited", Running: false, Pid: 0, ExitCode: 137 });
    expect(Date.parse(s.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(s.State.StartedAt));
    const missing = await t.tsd(["inspect", "nothing-here"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nothing-here");
    await t.ok(["rm", "insp"]);
  });

  test("top lists the container's processes with ps columns", async () => {
    await runD(["--name", "topped", "busybox", "sh", "-c", "sleep 301 & sleep 302"]);
    await Bun.sleep(200);
    const out = await t.ok(["top", "topped"]);
    expect(out.split("\n")[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(out).toContain("sleep 301");
    expect(out).toContain("sleep 302");
    expect(out.trim().split("\n").length).toBe(3); // header and two sleeps (sh execs the last command)
    const custom = await t.ok(["top", "topped", "-o", "pid,comm"]);
    expect(custom.split("\n")[0]).toMatch(/PID\s+COMMAND/);
    await t.ok(["rm", "-f", "topped"]);
  });

  test("cp both ways, into a directory and to a new name", async () => {
    await runD(["--name", "cpbox", "busybox", "sleep", "300"]);
    const host = mkdtempSync("/tmp/tsd-e2e-cp-");
    try {
      const data = crypto.getRandomValues(new Uint8Array(200000));
      writeFileSync(join(host, "blob"), data);
      mkdirSync(join(host, "dir/sub"), { recursive: true });
      writeFileSync(join(host, "dir/sub/f"), "deep\n");
      await t.ok(["cp", join(host, "blob"), "cpbox:/tmp/"]);
      await t.ok(["cp", join(host, "blob"), "cpbox:/tmp/renamed"]);
      await t.ok(["cp", join(host, "dir"), "cpbox:/opt"]);
      expect(await t.ok(["exec", "cpbox", "sh", "-c", "cmp /tmp/blob /tmp/renamed && cat /opt/sub/f"])).toBe("deep\n");
      await t.ok(["cp", "cpbox:/tmp/renamed", join(host, "back")]);
      expect(Buffer.compare(readFileSync(join(host, "back")), Buffer.from(data))).toBe(0);
      await t.ok(["cp", "cpbox:/etc", host]);
      expect(readFileSync(join(host, "etc/passwd"), "utf8")).toContain("root:");
      const bad = await t.tsd(["cp", "cpbox:/no/such", host]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^tsd: copy failed: /);
    } finally {
      rmSync(host, { recursive: true, force: true });
      await t.ok(["rm", "-f", "cpbox"]);
    }
  });

  test("cp with a stopped container: its rootfs, its own symlinks resolved inside it", async () => {
    await t.ok(["run", "--name", "built", "--network", "none", "busybox", "sh", "-c", "mkdir /out && echo artifact > /out/a.txt && ln -s /etc /out/link"]);
    const host = mkdtempSync("/tmp/tsd-e2e-cp-");
    try {
      await t.ok(["cp", "built:/out", host]);
      expect(readFileSync(join(host, "out/a.txt"), "utf8")).toBe("artifact\n");
      // /out/link -> /etc is the container's /etc, never the host's.
      await t.ok(["cp", "built:/out/link/passwd", join(host, "pw")]);
      expect(readFileSync(join(host, "pw"), "utf8")).toBe(await t.ok(["run", "--rm", "--network", "none", "busybox", "cat", "/etc/passwd"]));
      writeFileSync(join(host, "in.txt"), "put while stopped\n");
      await t.ok(["cp", join(host, "in.txt"), "built:/out/"]);
      expect(await t.ok(["start", "-a", "built"]).catch((e) => String(e))).toContain("File exists"); // same rootfs
      const r = await t.tsd(["cp", "built:/out/in.txt", join(host, "back.txt")]);
      expect(r.code).toBe(0);
      expect(readFileSync(join(host, "back.txt"), "utf8")).toBe("put while stopped\n");
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(t.dir);
    } finally {
      rmSync(host, { recursive: true, force: true });
      await t.ok(["rm", "-f", "built"]);
    }
  });

  test("container prune removes the stopped ones only", async () => {
    const live = await runD(["busybox", "sleep", "300"]);
    // 3 MB written in its writable layer: what prune reclaims (Docker counts the same).
    const dead = await runD(["busybox", "sh", "-c", "head -c 3000000 /dev/zero > /big"]);
    await t.ok(["wait", dead]);
    const out = await t.ok(["container", "prune", "-f"]);
    expect(out).toContain(dead);
    expect(out).not.toContain(live);
    expect(out).toMatch(/Total reclaimed space: 3(\.\d+)?MB\n$/);
    const left = await t.ok(["ps", "-aq", "--no-trunc"]);
    expect(left).toContain(live);
    expect(left).not.toContain(dead);
    await t.ok(["rm", "-f", live]);
  });
});

describe("restart policy (carried out by the monitor's cleanup command)", () => {
  test("on-failure:2 restarts twice then stays exited; its output is logged each time", async () => {
    await runD(["--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo ran; exit 1"]);
    await until(async () => (await t.ok(["logs", "flaky"])) === "ran\nran\nran\n");
    await Bun.sleep(1000); // a fourth run would have come by now (back-off 100, 200 ms)
    expect(await t.ok(["logs", "flaky"])).toBe("ran\nran\nran\n");
    expect((await t.ok(["inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}", "flaky"])).trim()).toBe("2 exited 1 on-failure");
    await t.ok(["rm", "flaky"]);
  });

  test("always restarts a clean exit; stop ends it for good; rm -f of a restarting container works", async () => {
    await runD(["--name", "always", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.2"]);
    await until(async () => Number((await t.ok(["inspect", "-f", "{{.RestartCount}}", "always"])).trim()) >= 2);
    await t.ok(["stop", "-t", "1", "always"]);
    const count = (await t.ok(["inspect", "-f", "{{.RestartCount}}", "always"])).trim();
    await Bun.sleep(800);
    expect((await t.ok(["inspect", "-f", "{{.RestartCount}} {{.State.Running}}", "always"])).trim()).toBe(`${count} false`);
    // on-failure does not restart a success; --rm conflicts.
    const ok = await runD(["--restart", "on-failure", "busybox", "true"]);
    expect((await t.ok(["wait", ok])).trim()).toBe("0");
    await Bun.sleep(400);
    expect((await t.ok(["inspect", "-f", "{{.RestartCount}}", ok])).trim()).toBe("0");
    const bad = await t.tsd(["run", "--rm", "--restart", "always", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("--restart");
    const looping = await runD(["--restart", "always", "busybox", "sh", "-c", "sleep 0.1"]);
    // Between an exit and its restart (the back-off) it shows as Docker does.
    await until(async () => (await t.ok(["ps", "-a", "--filter", `id=${looping}`, "--format", "{{.Status}}"])).startsWith("Restarting (0) "));
    await t.ok(["rm", "-f", looping]);
    await Bun.sleep(500);
    expect(await t.ok(["ps", "-aq", "--no-trunc"])).not.toContain(looping);
    await t.ok(["rm", "always", ok]);
  });
});

describe("volumes", () => {
  test("a named volume is filled from the image on first use, keeps data across containers, is refused for rm while used", async () => {
    expect((await t.ok(["volume", "create", "etcvol"])).trim()).toBe("etcvol");
    // First use: the image's /etc is copied up into the empty volume.
    expect(await t.ok(["run", "--rm", "--network", "none", "-v", "etcvol:/etc", "busybox", "sh", "-c", "cat /etc/passwd | head -1; echo kept > /etc/mine"])).toBe("root:x:0:0:root:/root:/bin/sh\n");
    const [info] = JSON.parse(await t.ok(["volume", "inspect", "etcvol"]));
    expect(info).toMatchObject({ Name: "etcvol", Driver: "local", Scope: "local", Mountpoint: join(t.dir, "volumes", "etcvol", "_data") });
    expect(readFileSync(join(info.Mountpoint, "mine"), "utf8")).toBe("kept\n");
    // Second use: not copied again (the file written stays, the image's files are not restored).
    await t.ok(["run", "--rm", "--network", "none", "-v", "etcvol:/etc", "busybox", "rm", "/etc/group"]);
    expect(await t.ok(["run", "--rm", "--network", "none", "-v", "etcvol:/etc:ro", "busybox", "sh", "-c", "ls /etc; touch /etc/x 2>&1 | grep -c Read-only"])).toBe("mine\npasswd\n1\n");
    // A volume created by -v NAME without volume create; ls lists both; in use → refused.
    const user = await runD(["--network", "none", "-v", "autovol:/data", "busybox", "sleep", "300"]);
    expect(await t.ok(["volume", "ls", "-q"])).toBe("autovol\netcvol\n");
    const busy = await t.tsd(["volume", "rm", "autovol"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("in use");
    const [c] = JSON.parse(await t.ok(["inspect", user]));
    expect(c.Mounts).toEqual([expect.objectContaining({ Type: "volume", Name: "autovol", Destination: "/data", RW: true })]);
    await t.ok(["rm", "-f", user]);
    expect(await t.ok(["volume", "rm", "autovol", "etcvol"])).toBe("autovol\netcvol\n");
    expect(existsSync(join(t.dir, "volumes", "etcvol"))).toBe(false);
  });

  test("anonymous volumes go with rm -v and --rm; prune; a missing --mount bind source is a clear error", async () => {
    const c = await runD(["--network", "none", "-v", "/scratch", "busybox", "sh", "-c", "echo a > /scratch/f; sleep 300"]);
    const anon = (await t.ok(["volume", "ls", "-q"])).trim();
    expect(anon).toMatch(/^[0-9a-f]{64}$/);
    await t.ok(["rm", "-f", "-v", c]);
    expect(await t.ok(["volume", "ls", "-q"])).toBe("");
    await t.ok(["run", "--rm", "--network", "none", "-v", "/scratch", "busybox", "true"]);
    expect(await t.ok(["volume", "ls", "-q"])).toBe("");
    await t.ok(["volume", "create", "unused"]);
    expect(await t.ok(["volume", "prune", "-f"])).toBe("Total reclaimed space: 0B\n"); // named ones need -a
    expect(await t.ok(["volume", "prune", "-a", "-f"])).toContain("unused");
    const r = await t.tsd(["run", "--rm", "--mount", "type=bind,src=/no/such/dir,dst=/x", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`tsd: invalid mount config for type "bind": bind source path does not exist: /no/such/dir: create it first\n`);
    expect((await t.tsd(["volume", "rm", "nothing"])).stderr).toBe("tsd: no such volume: nothing\n");
  });
});

describe("the image's VOLUME", () => {
  test("an anonymous volume filled from the image, unless -v or --tmpfs covers the path; gone with --rm and rm -v", async () => {
    await t.ok(["run", "--name", "volbase", "--network", "none", "busybox", "sh", "-c", "mkdir -p /data /cache && echo from-image > /data/f"]);
    await t.ok(["commit", "--change", "VOLUME /data /cache/", "volbase", "vol:img"]);
    await t.ok(["rm", "volbase"]);
    const c = await runD(["--network", "none", "vol:img", "sh", "-c", "cat /data/f; grep -E ' /(data|cache) ' /proc/self/mounts | wc -l; sleep 300"]);
    const vols = (await t.ok(["volume", "ls", "-q"])).trim().split("\n");
    expect(vols).toHaveLength(2);
    for (const v of vols) expect(v).toMatch(/^[0-9a-f]{64}$/);
    const [info] = JSON.parse(await t.ok(["inspect", c]));
    expect(info.Mounts.map((m: { Destination: string; Type: string }) => `${m.Type}:${m.Destination}`).sort()).toEqual(["volume:/cache", "volume:/data"]);
    for (let i = 0; i < 100 && !(await t.ok(["logs", c])).includes("\n2\n"); i++) await Bun.sleep(50);
    expect(await t.ok(["logs", c])).toBe("from-image\n2\n");
    await t.ok(["rm", "-f", "-v", c]);
    expect(await t.ok(["volume", "ls", "-q"])).toBe("");
    // A -v at one path and a --tmpfs at the other: no anonymous volume; --rm leaves none either.
    const covered = await t.ok(["run", "--rm", "--network", "none", "-v", "named1:/data", "--tmpfs", "/cache", "vol:img", "sh", "-c", "cat /data/f; grep ' /cache ' /proc/self/mounts | cut -d' ' -f3"]);
    expect(covered).toBe("from-image\ntmpfs\n");
    expect(await t.ok(["volume", "ls", "-q"])).toBe("named1\n");
    await t.ok(["run", "--rm", "--network", "none", "vol:img", "true"]);
    expect(await t.ok(["volume", "ls", "-q"])).toBe("named1\n");
    await t.ok(["volume", "rm", "named1"]);
    await t.ok(["rmi", "vol:img"]);
  });
});

describe("attach", () => {
  test("to a running container: its output from then on, stdout and stderr apart, its exit code", async () => {
    await runD(["--name", "att", "--network", "none", "busybox", "sh", "-c", "sleep 0.5; echo out; echo err >&2; sleep 0.2; exit 3"]);
    const r = await t.tsd(["attach", "att"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
    const stopped = await t.tsd(["attach", "att"]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("start it first");
    await t.ok(["rm", "att"]);
  });

  test("stdin of a -d -i container; Ctrl-P Ctrl-Q detaches and leaves it running", async () => {
    const id = await runD(["-i", "--name", "reader", "--network", "none", "busybox", "sh", "-c", "while read l; do echo got:$l; done; echo eof"]);
    // Type, see the answer, then the detach keys (sent at once they would race the answer).
    const session = async (keys: string[], line: string, detach: string) => {
      const p = Bun.spawn([TSD, "--root", t.dir, "attach", ...keys, "reader"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      await Bun.sleep(300);
      p.stdin.write(line);
      p.stdin.flush();
      const reader = p.stdout.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      p.stdin.write(detach);
      p.stdin.flush();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return { code: await p.exited, stdout: text };
    };
    const r = await session([], "hello\n", "\x10\x11");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("got:hello\n");
    expect(await t.ok(["ps", "-q", "--no-trunc"])).toContain(id);
    // Again, with other detach keys; the container kept its stdin open in between.
    const again = await session(["--detach-keys", "ctrl-x"], "more\n", "\x18");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("got:more\n");
    expect(await t.ok(["logs", "reader"])).toBe("got:hello\ngot:more\n");
    await t.ok(["rm", "-f", "reader"]);
  });

  test("-t: the pty's bytes; the detach keys end the session, the shell runs on", async () => {
    const id = await runD(["-it", "--name", "ttybox", "--network", "none", "busybox", "sh"]);
    // The attaching terminal's size reaches the container's pty.
    const proc = Bun.spawn(["script", "-qec", `stty rows 33 cols 77; ${TSD} --root ${t.dir} attach ttybox`, "/dev/null"], { stdin: "pipe", stdout: "pipe" });
    await Bun.sleep(500);
    proc.stdin.write("stty size; echo hi-$((40+2))\n");
    proc.stdin.flush();
    await Bun.sleep(500);
    proc.stdin.write("\x10\x11");
    proc.stdin.flush();
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out).toContain("hi-42");
    expect(out).toContain("33 77");
    expect(out).toContain("read escape sequence");
    expect(await t.ok(["ps", "-q", "--no-trunc"])).toContain(id);
    await t.ok(["rm", "-f", "ttybox"]);
  });
});
