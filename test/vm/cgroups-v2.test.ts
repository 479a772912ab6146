// Resource limits end to end on a pure cgroup v2 kernel: the twin of test/e2e/cgroups.test.ts
// for the v2 driver, run by the VM lane (test/vm/lane.sh) inside a guest that has cgroup2
// alone at /sys/fs/cgroup. Every limit is checked in the v2 file that carries it (memory.max,
// memory.events, cpu.max, cpu.stat, pids.max, cpuset.cpus), from the host side and from the
// container's own namespaced /sys/fs/cgroup. Every container lives under this file's own
// --cgroup-parent (or tsd/<id>, checked by id), removed in afterAll.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processes, TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { BackgroundRuns, containerIds, dbRow as rowOf, pidsOf, removeGroupTree, waitFor as waitUntil } from "../lib/cgroups";
import { hostLayout } from "../../src/cgroup";

const CG = "/sys/fs/cgroup";
const layout = hostLayout();
const PARENT = `tsd-vm-cgroups-${process.pid}`;
const BRIDGE = "tsdvm0";
const SUBNET = "10.231.7";
let t: TestRoot;

const dir = (...parts: string[]) => join(CG, ...parts);
const cat = (...parts: string[]) => readFileSync(dir(...parts), "utf8").trim();
/** Groups left below `group` (this file's parent must end empty). */
const leftUnder = (group: string) => (existsSync(dir(group)) ? readdirSync(dir(group), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);

beforeAll(async () => {
  // This file proves the v2 driver: on anything but a pure v2 host it must not pass quietly.
  if (layout.version !== 2 || layout.hierarchies.v1.length > 0 || layout.hierarchies.v2 !== CG) {
    throw new Error(`cgroups-v2.test needs a pure cgroup v2 host (run it through test/vm/lane.sh); this one has ${JSON.stringify(layout)}`);
  }
  const images = await testImages();
  t = new TestRoot("vm-cgroups");
  runs = new BackgroundRuns(t, PARENT, (id) => dir(PARENT, id, "cgroup.procs"), 30000);
  writeFileSync(`${t.dir}/network.json`, JSON.stringify({ bridge: BRIDGE, subnet: `${SUBNET}.0/24` }));
  const t0 = performance.now();
  await t.ok(["load", "-i", images.busyboxDocker], { timeoutMs: 120000 });
  console.log(`cgroups-v2.test: tsd load of busybox took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 180000);

afterAll(async () => {
  const leaks = t.leaks();
  const groups = leftUnder(PARENT);
  await t.destroy();
  removeGroupTree(dir(PARENT));
  expect(leaks).toEqual([]);
  expect(groups).toEqual([]);
}, 60000);

const run = (args: string[], o = {}) => t.tsd(["run", "--network", "none", "--cgroup-parent", PARENT, ...args], { timeoutMs: 60000, ...o });

let runs: BackgroundRuns;
const background = (args: string[]) => runs.start(args);
const runningId = () => runs.runningId();
const ids = () => containerIds(t);
const dbRow = (id: string) => rowOf(t, id);
const waitFor = <T,>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 30000) => waitUntil(what, f, ms);

/** Whether `pid` has exited (reaped, or a zombie); it may vanish while /proc is read. */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] === "Z";
  } catch {
    return true;
  }
}

/** CPU time the group used over `ms` of wall time, in CPUs (cpu.stat usage_usec). */
async function cpuShare(group: string, ms: number): Promise<number> {
  const usage = () => Number(/^usage_usec (\d+)$/m.exec(cat(group, "cpu.stat"))![1]);
  const [u0, t0] = [usage(), performance.now()];
  await Bun.sleep(ms);
  return (usage() - u0) / ((performance.now() - t0) * 1000);
}

describe("limits hold", () => {
  test("-m 32m: a memory hog is OOM-killed, exit 137, OOMKilled from memory.events", async () => {
    const r = await run(["--name", "hog", "-m", "32m", "busybox", "sh", "-c", `cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max; exec awk 'BEGIN{s="xxxxxxxxxxxxxxxx"; while(1) s=s s}'`]);
    expect(r.code).toBe(137);
    // Docker's default swap (2 × -m in all) is memory.swap.max = -m on v2, which counts swap alone.
    expect(r.stdout).toBe(`${32 * 1048576}\n${32 * 1048576}\n`);
    const [id] = await ids();
    expect(dbRow(id!)).toEqual({ exit_code: 137, oom_killed: 1 });
    expect((await t.ok(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}", "hog"])).trim()).toBe(`true 137 ${32 * 1048576}`);
    // The flag is the kernel's counter, not a guess from the status.
    const k = await run(["--name", "killed", "-m", "32m", "busybox", "sh", "-c", "exit 137"]);
    expect(k.code).toBe(137);
    expect(dbRow((await ids())[0]!).oom_killed).toBe(0);
    await t.ok(["rm", "hog", "killed"]);
  }, 60000);

  test("--pids-limit 20: pids.max holds a fork loop and the container survives", async () => {
    const r = await run(["--rm", "--pids-limit", "20", "busybox", "sh", "-c",
      `cat /sys/fs/cgroup/pids.max; sh -c 'for i in $(seq 60); do sleep 30 & done'; read cur < /sys/fs/cgroup/pids.current; echo alive $cur`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("can't fork");
    const [max, alive] = r.stdout.trim().split("\n");
    expect(max).toBe("20");
    const [word, cur] = alive!.split(" ");
    expect(word).toBe("alive");
    expect(Number(cur)).toBeGreaterThanOrEqual(15);
    expect(Number(cur)).toBeLessThanOrEqual(20);
  }, 60000);

  test("--cpus 0.5: cpu.max 50000 100000, a busy loop stays under half a CPU (cpu.stat); stats agrees; update --cpus 0.25", async () => {
    const p = background(["--rm", "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done"]);
    try {
      const id = await runningId();
      const group = `${PARENT}/${id}`;
      expect(cat(group, "cpu.max")).toBe("50000 100000");
      await Bun.sleep(300);
      const half = await cpuShare(group, 3000);
      console.log(`cgroups-v2.test: --cpus 0.5 busy loop used ${(half * 100).toFixed(1)}% of one CPU`);
      // A band, not a timing: the upper bound is the limit (50 ms per 100 ms period); the lower
      // one only shows the loop ran (TCG on a loaded host gives a guest CPU less than a CPU).
      expect(half).toBeGreaterThan(0.1);
      expect(half).toBeLessThan(0.6);
      // The throttling is the kernel's doing: cpu.stat counts the periods it throttled.
      expect(Number(/^nr_throttled (\d+)$/m.exec(cat(group, "cpu.stat"))![1])).toBeGreaterThan(0);
      const stats = JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", id.slice(0, 12)]));
      expect(stats.ID).toBe(id.slice(0, 12));
      expect(Number.parseFloat(stats.CPUPerc)).toBeGreaterThan(5);
      expect(Number.parseFloat(stats.CPUPerc)).toBeLessThan(65);
      expect((await t.ok(["update", "--cpus", "0.25", id])).trim()).toBe(id);
      expect(cat(group, "cpu.max")).toBe("25000 100000");
      await Bun.sleep(200);
      const quarter = await cpuShare(group, 2000);
      console.log(`cgroups-v2.test: after update --cpus 0.25: ${(quarter * 100).toFixed(1)}% of one CPU`);
      expect(quarter).toBeGreaterThan(0.03);
      expect(quarter).toBeLessThan(0.35);
      await t.ok(["rm", "-f", id]);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  }, 60000);

  test("stats --no-stream reads memory.current and pids.current; update rewrites memory.max and pids.max", async () => {
    const p = background(["--name", "mem", "-m", "64m", "--pids-limit", "30", "busybox", "sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/fill; exec sleep 120"]);
    try {
      const id = await runningId();
      const group = `${PARENT}/${id}`;
      await waitFor("the 20 MB fill", () => Number(cat(group, "memory.current")) > 20e6);
      const out = await t.ok(["stats", "--no-stream"]);
      const [header, line] = out.trim().split("\n");
      expect(header).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
      expect(line).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+mem\\s+\\d+\\.\\d\\d%\\s+[\\d.]+MiB / 64MiB\\s+[\\d.]+%\\s+0B / 0B\\s+\\S+ / \\S+\\s+1$`));
      const s = JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", "mem"]));
      const usedMiB = Number.parseFloat(s.MemUsage);
      const fileMiB = Number(cat(group, "memory.current")) / 1048576;
      expect(Math.abs(usedMiB - fileMiB)).toBeLessThan(2);
      expect(usedMiB).toBeGreaterThan(19);
      expect(s.PIDs).toBe(cat(group, "pids.current"));

      await t.ok(["update", "-m", "96m", "--pids-limit", "40", "mem"]);
      expect((await t.ok(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "mem"])).trim()).toBe(`${96 * 1048576} 40`);
      expect(cat(group, "memory.max")).toBe(String(96 * 1048576));
      expect(cat(group, "memory.swap.max")).toBe(String(96 * 1048576));
      expect(cat(group, "pids.max")).toBe("40");
      expect(JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", "mem"])).MemUsage).toMatch(/ \/ 96MiB$/);
      const bad = await t.tsd(["update", "--cpus", "lots", "mem"]);
      expect(bad.code).toBe(125);
      await t.ok(["rm", "-f", "mem"]);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  }, 60000);

  // v1 refuses a limit below the usage (EBUSY); v2's memory.max write reclaims, then calls
  // the OOM killer until the group fits, and succeeds: the container dies as Docker's does.
  test("update -m below what tmpfs pages hold: the kernel OOM-kills the container (exit 137, OOMKilled)", async () => {
    const p = background(["--name", "shrunk", "-m", "64m", "busybox", "sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/fill; exec sleep 120"]);
    try {
      const id = await runningId();
      await waitFor("the 20 MB fill", () => Number(cat(PARENT, id, "memory.current")) > 20e6);
      await t.ok(["update", "-m", "8m", "shrunk"]);
      expect(await p.exited).toBe(137);
      expect((await t.ok(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "shrunk"])).trim()).toBe("true 137");
      await t.ok(["rm", "shrunk"]);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 60000);

  test("--cpuset-cpus 0 pins the container (cpuset.cpus, Cpus_allowed_list)", async () => {
    const r = await run(["--rm", "--cpuset-cpus", "0", "busybox", "sh", "-c", "cat /sys/fs/cgroup/cpuset.cpus; grep Cpus_allowed_list /proc/self/status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0\nCpus_allowed_list:\s+0\n$/);
  }, 60000);
});

describe("the container's view", () => {
  test("cgroup namespace: its own group is /, its limits are at /sys/fs/cgroup, read-only", async () => {
    // No --cgroup-parent: the default tsd/<id>.
    const r = await t.tsd(["run", "--network", "none", "--name", "view", "-m", "48m", "--pids-limit", "33", "--cpus", "0.5", "--cpu-shares", "512", "busybox", "sh", "-c", [
      "cat /proc/self/cgroup",
      "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight",
      "grep -c . /sys/fs/cgroup/cgroup.procs",
      "mkdir /sys/fs/cgroup/sub || echo no-mkdir",
      "echo 1 > /sys/fs/cgroup/cgroup.kill || echo no-kill",
    ].join("; ")], { timeoutMs: 60000 });
    expect(r.code).toBe(0);
    // 512 shares is weight 1 + (510 × 9999) / 262142 = 20 (runc's conversion).
    expect(r.stdout).toBe(`0::/\n${48 * 1048576}\n33\n50000 100000\n20\n2\nno-mkdir\nno-kill\n`);
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(2);
    const [id] = await ids();
    // Exited: the group went at cleanup, the container is still listed.
    expect(existsSync(dir("tsd", id!))).toBe(false);
    await t.ok(["rm", "view"]);
  }, 60000);
});

describe("exec", () => {
  test("an exec'd process joins the container's group: counted in its pids, held by its memory limit", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "ex", "-m", "32m", "busybox", "sleep", "120"], { timeoutMs: 60000 })).trim();
    try {
      const r = await t.tsd(["exec", "ex", "sh", "-c", "read n < /sys/fs/cgroup/pids.current; echo $n; cat /proc/self/cgroup"], { timeoutMs: 60000 });
      expect(r.stdout).toMatch(/^[2-9]\n0::\/\n$/);
      const hog = await t.tsd(["exec", "ex", "sh", "-c", `exec awk 'BEGIN{s="xxxxxxxxxxxxxxxx"; while(1) s=s s}'`], { timeoutMs: 60000 });
      expect(hog.code).toBe(137);
      expect(cat(PARENT, id, "memory.events")).toMatch(/^oom_kill [1-9]/m);
      expect(await t.ok(["ps", "-q", "--no-trunc"])).toContain(id); // the container lives on
    } finally {
      await t.tsd(["rm", "-f", "ex"], { timeoutMs: 60000 });
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 60000);
});

describe("the init is born in its group", () => {
  test("clone3 with CLONE_INTO_CGROUP: the monitor writes no cgroup.procs, the container runs limited", async () => {
    // strace sees the monitor's syscalls: the clone3 with the flag, and no open of the group's
    // cgroup.procs for writing (the move the v1 path and old kernels make after the clone).
    const log = join(t.dir, "clone.strace");
    const p = Bun.spawn(["strace", "-f", "-qq", "-e", "trace=clone,clone3,openat", "-o", log, TSD, "--root", t.dir, "run", "--rm", "--network", "none", "--cgroup-parent", PARENT, "--pids-limit", "20", "busybox", "sh", "-c", "cat /sys/fs/cgroup/pids.max"], { stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out.trim()).toBe("20");
    const trace = readFileSync(log, "utf8");
    expect(trace).toMatch(/clone3\(\{flags=[^}]*CLONE_NEWPID[^}]*CLONE_INTO_CGROUP/);
    expect(trace).not.toMatch(new RegExp(`openat\\([^\\n]*${PARENT}/[0-9a-f]{64}/cgroup\\.procs", O_WRONLY`));
    expect(leftUnder(PARENT)).toEqual([]);
  }, 60000);
});

describe("no group is left behind", () => {
  test("after rm, and after a failed start (command not found)", async () => {
    await t.ok(["run", "--network", "none", "--cgroup-parent", PARENT, "--name", "keep", "-m", "32m", "busybox", "true"], { timeoutMs: 60000 });
    expect(leftUnder(PARENT)).toEqual([]);
    await t.ok(["rm", "keep"]);
    const r = await run(["--rm", "-m", "32m", "busybox", "/nope"]);
    expect(r.code).toBe(127);
    expect(leftUnder(PARENT)).toEqual([]);
    expect(await ids()).toEqual([]);
  }, 60000);

  test("rm -f of a running container kills it through cgroup.kill and removes its group", async () => {
    const p = background(["--name", "victim", "busybox", "sh", "-c", "sleep 120 & sleep 120 & exec sleep 120"]);
    const id = await runningId();
    await waitFor("three sleeps", () => cat(PARENT, id, "pids.current") === "3");
    await t.ok(["rm", "-f", "victim"], { timeoutMs: 60000 });
    expect(await p.exited).toBe(137);
    expect(leftUnder(PARENT)).toEqual([]);
    expect(pidsOf("sleep 120")).toEqual([]);
  }, 60000);

  test("monitor SIGKILLed: the waiting tsd run removes the group and what ran in it", async () => {
    const p = background(["--rm", "busybox", "sleep", "121"]);
    const id = await runningId();
    const [monitor] = pidsOf(`--id ${id}`).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("tsd-monitor"));
    expect(monitor).toBeDefined();
    process.kill(monitor!, "SIGKILL");
    expect(await p.exited).toBe(125);
    expect(leftUnder(PARENT)).toEqual([]);
    expect(pidsOf("sleep 121")).toEqual([]);
  }, 60000);

  test("monitor and tsd run both SIGKILLed: the next command (ps) removes it", async () => {
    const p = background(["--name", "orphan", "busybox", "sleep", "122"]);
    const id = await runningId();
    const [monitor] = pidsOf(`--id ${id}`).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("tsd-monitor"));
    p.kill("SIGKILL");
    await p.exited;
    process.kill(monitor!, "SIGKILL");
    await waitFor("the monitor to go", () => gone(monitor!));
    expect(cat(PARENT, id, "cgroup.procs")).not.toBe("");
    expect(await t.ok(["ps", "-a"])).toContain("orphan");
    expect(leftUnder(PARENT)).toEqual([]);
    expect(pidsOf("sleep 122")).toEqual([]);
    await t.ok(["container", "cleanup", id]); // idempotent
    await t.ok(["rm", "orphan"]);
  }, 60000);
});

describe("a frozen group", () => {
  // The v1 twin (test/e2e/cgroups.test.ts) shows a frozen v1 group cannot be emptied; v2's
  // cgroup.kill reaches frozen tasks too, so the exit cleanup removes the group at once.
  test("cgroup.freeze 1, then the exit cleanup: killed through cgroup.kill, the exit recorded, the group gone", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "frozen", "busybox", "sleep", "123"], { timeoutMs: 60000 })).trim();
    try {
      writeFileSync(dir(PARENT, id, "cgroup.freeze"), "1");
      await waitFor("the freeze", () => cat(PARENT, id, "cgroup.events").includes("frozen 1"));
      const r = await t.tsd(["container", "cleanup", id], { timeoutMs: 60000 });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(existsSync(dir(PARENT, id))).toBe(false);
      expect((await t.ok(["inspect", "-f", "{{.State.Status}}", "frozen"])).trim()).toBe("exited");
      await waitFor("the monitor to end", () => pidsOf(`--id ${id}`).length === 0);
      expect(pidsOf("sleep 123")).toEqual([]);
    } finally {
      await t.tsd(["rm", "-f", "frozen"], { timeoutMs: 60000 });
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 60000);
});

describe("pause and unpause (cgroup.freeze)", () => {
  test("pause freezes the group (cgroup.events frozen 1), unpause thaws it; stop and rm -f of a paused container work", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "pz", "busybox", "sleep", "124"], { timeoutMs: 60000 })).trim();
    try {
      await t.ok(["pause", "pz"]);
      expect(cat(PARENT, id, "cgroup.freeze")).toBe("1");
      expect(cat(PARENT, id, "cgroup.events")).toContain("frozen 1");
      expect((await t.ok(["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "pz"])).trim()).toBe("paused true");
      await t.ok(["unpause", "pz"]);
      expect(cat(PARENT, id, "cgroup.events")).toContain("frozen 0");
      expect((await t.ok(["exec", "pz", "echo", "thawed"])).trim()).toBe("thawed");
      await t.ok(["pause", "pz"]);
      await t.ok(["stop", "-t", "1", "pz"], { timeoutMs: 60000 });
      expect((await t.ok(["inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}", "pz"])).trim()).toBe("exited false 137");
      expect(existsSync(dir(PARENT, id))).toBe(false);
      await t.ok(["start", "pz"], { timeoutMs: 60000 });
      await t.ok(["pause", "pz"]);
      await t.ok(["rm", "-f", "pz"], { timeoutMs: 60000 });
      expect(existsSync(dir(PARENT, id))).toBe(false);
      expect(pidsOf("sleep 124")).toEqual([]);
    } finally {
      await t.tsd(["rm", "-f", "pz"], { timeoutMs: 60000 });
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 90000);
});

describe("a bridge run", () => {
  test("the default bridge (this file's own name and subnet) in a limited container; nothing left after rm", async () => {
    const r = await t.tsd(["run", "--rm", "--cgroup-parent", PARENT, "-m", "32m", "busybox", "sh", "-c", "ip -4 -o addr show eth0; cat /sys/fs/cgroup/memory.max"], { timeoutMs: 60000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\d+: eth0\\s+inet ${SUBNET.replaceAll(".", "\\.")}\\.\\d+/24 .*\n${32 * 1048576}\n$`));
    expect(existsSync(`/sys/class/net/${BRIDGE}`)).toBe(true);
    expect(leftUnder(PARENT)).toEqual([]);
    // The host end of its veth (tv<id>) goes with its namespace, which the kernel ends
    // asynchronously.
    const veths = () => readdirSync("/sys/class/net").filter((n) => /^tv[0-9a-f]{12}/.test(n));
    await waitFor("the veth to go", () => veths().length === 0, 10000).catch(() => {});
    expect(veths()).toEqual([]);
  }, 60000);
});

describe("block I/O limits", () => {
  // The lane gives the guest a scratch virtio disk (test/vm/run.sh): /dev/vda.
  test("--device-read-bps and --device-write-iops are io.max of the device", async () => {
    const st = statSync("/dev/vda", { bigint: true });
    const dev = `${Number((st.rdev >> 8n) & 0xfffn)}:${Number(st.rdev & 0xffn)}`;
    const r = await run(["--rm", "--device-read-bps", "/dev/vda:1mb", "--device-write-iops", "/dev/vda:100", "--blkio-weight", "300", "busybox", "cat", "/sys/fs/cgroup/io.max"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${dev} rbps=1048576 wbps=max riops=max wiops=100\n`);
  }, 60000);
});

describe("devices", () => {
  // cgroup v2 has no devices.allow: the rules are an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE,
  // zig/cgroup/device_filter.zig) the v2 driver attaches to the container's group. Without it a
  // container with the default CAP_MKNOD could make and open any char device.
  test("a node the default rules do not allow cannot be opened (c 1 11, /dev/kmsg); /dev/zero can", async () => {
    const r = await run(["--rm", "busybox", "sh", "-c", "mknod /tmp/kmsg c 1 11 && echo tsd-device-probe > /tmp/kmsg && echo opened; head -c 3 /dev/zero | wc -c"]);
    expect(r.stdout).not.toContain("opened");
    expect(r.stdout).toContain("3");
    expect(r.stderr).toContain("Operation not permitted");
  }, 60000);

  test("--privileged allows every device", async () => {
    const r = await run(["--rm", "--privileged", "busybox", "sh", "-c", "mknod /tmp/kmsg c 1 11 && echo tsd-device-probe > /tmp/kmsg && echo opened"]);
    expect(r.stdout).toBe("opened\n");
  }, 60000);
});

// The bundle is the source of the limits: config.json's linux.resources, edited between create
// and start, is what the v2 group gets, `unified` files included (written verbatim, last).
describe("limits come from config.json", () => {
  const MiB = 1024 * 1024;
  const editSpec = (id: string, edit: (resources: Record<string, unknown>) => void) => {
    const path = join(t.dir, "containers", id, "config.json");
    const spec = JSON.parse(readFileSync(path, "utf8"));
    edit(spec.linux.resources);
    writeFileSync(path, JSON.stringify(spec, null, 2));
  };

  test("memory without swap, pids, cpu period and unified memory.high: the group carries the spec's values", async () => {
    const id = (await t.ok(["create", "--network", "none", "--cgroup-parent", PARENT, "--name", "fromspec", "-m", "64m", "--pids-limit", "30", "busybox", "sleep", "120"], { timeoutMs: 60000 })).trim();
    const group = `${PARENT}/${id}`;
    try {
      expect(existsSync(dir(group))).toBe(false);
      editSpec(id, (r) => {
        r.memory = { limit: 48 * MiB };
        r.pids = { limit: 25 };
        r.cpu = { quota: 30000, period: 60000 };
        r.unified = { "memory.high": String(40 * MiB) };
      });
      await t.ok(["start", "fromspec"], { timeoutMs: 60000 });
      expect(cat(group, "memory.max")).toBe(String(48 * MiB));
      expect(cat(group, "memory.swap.max")).toBe("max"); // no swap in the spec: not the flags' 2×
      expect(cat(group, "memory.high")).toBe(String(40 * MiB));
      expect(cat(group, "pids.max")).toBe("25");
      expect(cat(group, "cpu.max")).toBe("30000 60000");
      expect(await t.ok(["exec", "fromspec", "cat", "/sys/fs/cgroup/memory.high"], { timeoutMs: 60000 })).toBe(`${40 * MiB}\n`);
      // update rewrites linux.resources from the flags and applies it from there; unified stays.
      await t.ok(["update", "--pids-limit", "40", "fromspec"], { timeoutMs: 60000 });
      expect(cat(group, "pids.max")).toBe("40");
      expect(cat(group, "memory.high")).toBe(String(40 * MiB));
    } finally {
      await t.tsd(["rm", "-f", "fromspec"], { timeoutMs: 60000 });
    }
    expect(existsSync(dir(group))).toBe(false);
  }, 120000);

  test("a unified key that is no file of the group is refused at start, naming it; no group is left", async () => {
    const id = (await t.ok(["create", "--network", "none", "--cgroup-parent", PARENT, "--name", "badkey", "busybox", "true"], { timeoutMs: 60000 })).trim();
    try {
      editSpec(id, (r) => {
        r.unified = { "memory.nonesuch": "1" };
      });
      const r = await t.tsd(["start", "-a", "badkey"], { timeoutMs: 60000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("config.json linux.resources.unified: memory.nonesuch is not a file of the group");
      expect(existsSync(dir(PARENT, id))).toBe(false);
    } finally {
      await t.tsd(["rm", "-f", "badkey"], { timeoutMs: 60000 });
    }
  }, 120000);
});
