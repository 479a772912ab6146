// tsd exec: every namespace and the cgroup of a running container, its env and capabilities,
// users, exit codes, byte-faithful stdin/stdout, a pty, and a recycled pid never entered.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

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
    expect(await t.ok(["exec", "-u", "1000:1000", "box", "id"])).toBe("uid=1000(user) gid=1000(user)\n");
    const priv = await t.ok(["exec", "--privileged", "box", "grep", "NoNewPrivs", "/proc/self/status"]);
    expect(priv).toMatch(/NoNewPrivs:\s+0/);
    const bad = await t.tsd(["exec", "-u", "nosuchuser", "box", "true"]);
    expect(bad.code).toBe(125);
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
    const bin = readdirSync(join(t.dir, "bin")).map((h) => join(t.dir, "bin", h, "tsd-monitor"))[0]!;
    const cfg = join(t.dir, "containers", id, "exec-test.json");
    await Bun.write(cfg, readFileSync(join(t.dir, "containers", id, "config.json")));
    const wrong = Bun.spawnSync([bin, "--exec", "--pid", String(row.pid), "--pid-start", String(Number(row.pid_start) + 1), "--config", cfg], { stderr: "pipe" });
    expect(wrong.exitCode).toBe(125);
    // A stopped container: a clear error, not a process somewhere else.
    const other = (await t.ok(["run", "-d", "busybox", "sleep", "300"])).trim();
    await t.ok(["stop", "-t", "0", other]);
    const r = await t.tsd(["exec", other, "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("is not running");
    await t.ok(["rm", other]);
  });
});
