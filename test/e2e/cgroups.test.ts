// Resource limits end to end on the host's real cgroups: OOM kill, pids cap, CPU quota measured
// from cpuacct, cpuset pins, the container's own read-only /sys/fs/cgroup, and no group left
// behind after rm, a failed start or a killed monitor. Every container here lives under this
// file's own --cgroup-parent (or tsd/<id>, checked by id), removed in afterAll.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processes, TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";
import { BackgroundRuns, containerIds, dbRow as rowOf, pidsOf, removeGroupTree, waitFor as waitUntil } from "../lib/cgroups";
import { hostLayout, v1WithNamed } from "../../src/cgroup";
import { V2Driver } from "../../src/cgroup/driver";
import { deviceRules } from "../../src/cgroup/devices";
import { loadCore } from "../../src/native/ffi";

let t: TestRoot;
const PARENT = `tsd-e2e-cgroups-${process.pid}`;
const layout = hostLayout();
const v1 = layout.version === 1;
const mountOf = (controller: string) => layout.hierarchies.v1.find((h) => h.controllers.includes(controller))?.mountpoint;
/** Every directory a group has on this host. */
// On v1 with the name=systemd and unified hierarchies, where tsd places processes too.
const groupDirs = (group: string) => (v1 ? v1WithNamed(layout.hierarchies).map((h) => join(h.mountpoint, group)) : [join(layout.hierarchies.v2!, group)]);
const leftUnder = (group: string) => groupDirs(group).filter((d) => existsSync(d) && readdirSync(d, { withFileTypes: true }).some((e) => e.isDirectory()));

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("cgroups");
  runs = new BackgroundRuns(t, PARENT, (id) => join(groupDirs(`${PARENT}/${id}`)[0]!, "cgroup.procs"), 10000);
  await t.ok(["load", "-i", images.busyboxDocker]);
  if (!v1) console.log(`cgroups.test: this host is cgroup v2 (${layout.hierarchies.v2}); the v1 file checks below adapt`);
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  const groups = leftUnder(PARENT);
  await t.destroy();
  // Remove this file's parent everywhere, killing anything a failed test left in it.
  for (const d of groupDirs(PARENT)) removeGroupTree(d);
  if (layout.hierarchies.v2 !== undefined) removeGroupTree(join(layout.hierarchies.v2, PARENT));
  expect(leaks).toEqual([]);
  expect(groups).toEqual([]);
});

// No network: these containers need none, and the bridge is another file's subject.
const run = (args: string[], o = {}) => t.tsd(["run", "--network", "none", "--cgroup-parent", PARENT, ...args], o);

let runs: BackgroundRuns;
const background = (args: string[]) => runs.start(args);
const runningId = () => runs.runningId();
const ids = () => containerIds(t);
const dbRow = (id: string) => rowOf(t, id);
const waitFor = <T,>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10000) => waitUntil(what, f, ms);

describe("limits hold", () => {
  test("-m 32m: a memory hog is OOM-killed, exit 137, OOMKilled recorded from the kernel's counter", async () => {
    const r = await run(["--name", "hog", "-m", "32m", "busybox", "sh", "-c", `exec awk 'BEGIN{s="xxxxxxxxxxxxxxxx"; while(1) s=s s}'`]);
    expect(r.code).toBe(137);
    const [id] = await ids();
    expect(dbRow(id!)).toEqual({ exit_code: 137, oom_killed: 1 });
    expect((await t.ok(["inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", "hog"])).trim()).toBe(
      `true 137 ${32 * 1048576} ${64 * 1048576}`,
    );
    expect((await t.ok(["ps", "-a"])).split("\n").find((l) => l.includes("hog"))).toContain("Exited (137)");
    // The flag is the kernel's counter, not a guess from the status.
    const k = await run(["--name", "killed", "-m", "32m", "busybox", "sh", "-c", "exit 137"]);
    expect(k.code).toBe(137);
    expect(dbRow((await ids())[0]!).oom_killed).toBe(0);
    expect((await t.ok(["inspect", "-f", "{{.State.OOMKilled}}", "killed"])).trim()).toBe("false");
    await t.ok(["rm", "hog", "killed"]);
  }, 30000);

  test("--pids-limit 20: a fork loop stops at the limit and the container survives", async () => {
    const r = await run(["--rm", "--pids-limit", "20", "busybox", "sh", "-c",
      `sh -c 'for i in $(seq 60); do sleep 30 & done'; read cur < /sys/fs/cgroup/pids/pids.current; echo alive $cur`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("can't fork");
    const [word, cur] = r.stdout.trim().split(" ");
    expect(word).toBe("alive");
    expect(Number(cur)).toBeGreaterThanOrEqual(15);
    expect(Number(cur)).toBeLessThanOrEqual(20);
  }, 30000);

  test("--cpus 0.5: a busy loop gets about half a CPU (cpuacct over ~3 s); stats agrees; update --cpus 0.25 halves it", async () => {
    const p = background(["--rm", "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done"]);
    try {
      const id = await runningId();
      const usage = join(mountOf("cpuacct") ?? "/nonexistent", PARENT, id, "cpuacct.usage");
      const read = () => Number(readFileSync(usage, "utf8"));
      const share = async (ms: number) => {
        const [u0, t0] = [read(), performance.now()];
        await Bun.sleep(ms);
        return (read() - u0) / ((performance.now() - t0) * 1e6);
      };
      await Bun.sleep(300); // past the start-up
      const half = await share(3000);
      console.log(`cgroups.test: --cpus 0.5 busy loop used ${(half * 100).toFixed(1)}% of one CPU`);
      // A band, not a timing: CFS gives at most 50 ms per 100 ms (the upper bound is the
      // limit); the lower bound only shows the loop ran, low because a loaded VM gives less.
      expect(half).toBeGreaterThan(0.2);
      expect(half).toBeLessThan(0.6);
      const stats = JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", id.slice(0, 12)]));
      expect(stats.ID).toBe(id.slice(0, 12));
      expect(Number.parseFloat(stats.CPUPerc)).toBeGreaterThan(15);
      expect(Number.parseFloat(stats.CPUPerc)).toBeLessThan(65);
      expect((await t.ok(["update", "--cpus", "0.25", id])).trim()).toBe(id);
      expect(readFileSync(join(mountOf("cpu")!, PARENT, id, "cpu.cfs_quota_us"), "utf8").trim()).toBe("25000");
      await Bun.sleep(200);
      const quarter = await share(2000);
      console.log(`cgroups.test: after update --cpus 0.25: ${(quarter * 100).toFixed(1)}% of one CPU`);
      expect(quarter).toBeGreaterThan(0.05);
      expect(quarter).toBeLessThan(0.35);
      await t.ok(["rm", "-f", id]);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  }, 30000);

  test("stats --no-stream matches the cgroup files; update changes memory and pids of a running container", async () => {
    const p = background(["--name", "mem", "-m", "64m", "--pids-limit", "30", "busybox", "sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/fill; exec sleep 60"]);
    try {
      const id = await runningId();
      const memDir = join(mountOf("memory")!, PARENT, id);
      await waitFor("the 20 MB fill", () => Number(readFileSync(join(memDir, "memory.usage_in_bytes"), "utf8")) > 20e6);
      const out = await t.ok(["stats", "--no-stream"]);
      const [header, line] = out.trim().split("\n");
      expect(header).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
      expect(line).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+mem\\s+\\d+\\.\\d\\d%\\s+[\\d.]+MiB / 64MiB\\s+[\\d.]+%\\s+0B / 0B\\s+\\S+ / \\S+\\s+1$`));
      const s = JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", "mem"]));
      const usedMiB = Number.parseFloat(s.MemUsage);
      const fileMiB = Number(readFileSync(join(memDir, "memory.usage_in_bytes"), "utf8")) / 1048576;
      expect(Math.abs(usedMiB - fileMiB)).toBeLessThan(2);
      expect(Number.parseFloat(s.MemPerc)).toBeCloseTo((usedMiB / 64) * 100, 0);
      expect(s.PIDs).toBe(readFileSync(join(mountOf("pids")!, PARENT, id, "pids.current"), "utf8").trim());
      expect(s.Container).toBe("mem");

      await t.ok(["update", "-m", "96m", "--pids-limit", "40", "mem"]);
      expect((await t.ok(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "mem"])).trim()).toBe(`${96 * 1048576} 40`);
      expect(readFileSync(join(memDir, "memory.limit_in_bytes"), "utf8").trim()).toBe(String(96 * 1048576));
      expect(readFileSync(join(mountOf("pids")!, PARENT, id, "pids.max"), "utf8").trim()).toBe("40");
      expect(JSON.parse(await t.ok(["stats", "--no-stream", "--format", "json", "mem"])).MemUsage).toMatch(/ \/ 96MiB$/);
      // The bundle stays self-sufficient: its config.json carries the new limits, its device rules kept.
      const spec = JSON.parse(readFileSync(join(t.dir, "containers", id, "config.json"), "utf8"));
      expect(spec.linux.resources.memory.limit).toBe(96 * 1048576);
      expect(spec.linux.resources.pids).toEqual({ limit: 40 });
      expect(spec.linux.resources.devices[0]).toEqual({ allow: false, type: "a", access: "rwm" });
      // Below what it uses: refused by the kernel, said on one line, the old limit kept.
      const low = await t.tsd(["update", "-m", "8m", "mem"]);
      expect(low.code).toBe(1); // an engine error outside run: 1, as docker update
      expect(low.stderr).toMatch(/uses more memory than that/);
      expect(readFileSync(join(memDir, "memory.limit_in_bytes"), "utf8").trim()).toBe(String(96 * 1048576));
      const bad = await t.tsd(["update", "--cpus", "lots", "mem"]);
      expect(bad.code).toBe(125);
      await t.ok(["rm", "-f", "mem"]);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  }, 30000);

  test("--device-read-bps / --device-write-iops: the blkio throttle files of the container's group (v1; v2 in test/vm)", async () => {
    const disk = readdirSync("/sys/block").find((n) => !/^(loop|ram|zram)/.test(n) && existsSync(`/dev/${n}`));
    if (!v1 || disk === undefined) {
      console.log(`cgroups.test: SKIP the v1 blkio throttle: ${v1 ? "no block device under /sys/block with a /dev node" : "not a v1 host (the VM lane covers v2's io.max)"}`);
      return;
    }
    const [major, minor] = readFileSync(`/sys/block/${disk}/dev`, "utf8").trim().split(":");
    const r = await run(["--rm", "--device-read-bps", `/dev/${disk}:1mb`, "--device-write-iops", `/dev/${disk}:100`, "busybox", "cat",
      "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${major}:${minor} 1048576\n${major}:${minor} 100\n`);
    const bad = await run(["--rm", "--device-read-bps", "/dev/null:1mb", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toBe(`tsd: invalid argument "/dev/null:1mb" for "--device-read-bps" flag: /dev/null is not a block device\n`);
  });

  test("--cpuset-cpus pins the container (Cpus_allowed_list)", async () => {
    const r = await run(["--rm", "--cpuset-cpus", "0", "busybox", "grep", "Cpus_allowed_list", "/proc/self/status"]);
    expect(r.stdout).toMatch(/^Cpus_allowed_list:\s+0\n$/);
  });
});

describe("stats streams", () => {
  test("without --no-stream a table each second until SIGINT; an exited container leaves it", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "streamed", "busybox", "sleep", "60"])).trim();
    const s = Bun.spawn([TSD, "--root", t.dir, "stats"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    try {
      const reader = s.stdout.getReader();
      let text = "";
      const decoder = new TextDecoder();
      while ((text.match(/CONTAINER ID/g) ?? []).length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      expect(text.match(new RegExp(`${id.slice(0, 12)}\\s+streamed\\s`, "g"))?.length).toBeGreaterThanOrEqual(2);
      await t.ok(["rm", "-f", "streamed"]);
      // The next refresh no longer lists it.
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stats ended: ${await new Response(s.stderr).text()}`);
        const tables = decoder.decode(value).split("CONTAINER ID");
        if (tables.at(-1)!.trim().split("\n").length === 1) break;
      }
      reader.releaseLock();
      s.kill("SIGINT");
      expect(await s.exited).toBe(0);
    } finally {
      s.kill("SIGKILL");
      await t.tsd(["rm", "-f", "streamed"]);
    }
  }, 20000);
});

describe("the container's view", () => {
  test("its own group is /, its limits are readable at /sys/fs/cgroup, read-only", async () => {
    if (!v1) {
      console.log("cgroups.test: skipping the v1 /sys/fs/cgroup layout check: this host is cgroup v2");
      return;
    }
    // No --cgroup-parent: the default tsd/<id>.
    const r = await t.tsd(["run", "--network", "none", "--name", "view", "-m", "48m", "--pids-limit", "33", "--cpus", "0.5", "--cpu-shares", "512", "busybox", "sh", "-c", [
      "grep -E ':(memory|pids|cpu):' /proc/self/cgroup",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares",
      "mkdir /sys/fs/cgroup/memory/sub || echo no-mkdir",
      "touch /sys/fs/cgroup/x || echo no-touch",
    ].join("; ")]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3).map((l) => l.replace(/^\d+:/, "")).sort()).toEqual(["cpu:/", "memory:/", "pids:/"]);
    expect(r.stdout).toContain(`${48 * 1024 * 1024}\n33\n50000\n512\nno-mkdir\nno-touch\n`);
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(2);
    const [id] = await ids();
    // Exited: the group went at cleanup, the container is still listed.
    expect(groupDirs(`tsd/${id}`).filter(existsSync)).toEqual([]);
    await t.ok(["rm", "view"]);
  });
});

describe("exec", () => {
  test("an exec'd process joins the container's group: counted in its pids, held by its memory limit", async () => {
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "ex", "-m", "32m", "busybox", "sleep", "60"])).trim();
    try {
      const r = await t.tsd(["exec", "ex", "sh", "-c", "read n < /sys/fs/cgroup/pids/pids.current; echo $n; grep -E ':memory:' /proc/self/cgroup"]);
      expect(r.stdout).toMatch(/^[2-9]\n\d+:memory:\/\n$/);
      const hog = await t.tsd(["exec", "ex", "sh", "-c", `exec awk 'BEGIN{s="xxxxxxxxxxxxxxxx"; while(1) s=s s}'`]);
      expect(hog.code).toBe(137);
      expect(readFileSync(join(mountOf("memory")!, PARENT, id, "memory.oom_control"), "utf8")).toMatch(/^oom_kill [1-9]/m);
      expect(await t.ok(["ps", "-q", "--no-trunc"])).toContain(id); // the container lives on
    } finally {
      await t.tsd(["rm", "-f", "ex"]);
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 30000);
});

// The bundle is the source of a container's limits (an OCI runtime reads them from config.json,
// and tsd's own start goes the same way): edited there, they are what the group gets.
describe("limits come from config.json", () => {
  const MiB = 1024 * 1024;
  const editSpec = (id: string, edit: (resources: Record<string, unknown>) => void) => {
    const path = join(t.dir, "containers", id, "config.json");
    const spec = JSON.parse(readFileSync(path, "utf8"));
    edit(spec.linux.resources);
    writeFileSync(path, JSON.stringify(spec, null, 2));
  };
  const file = (controller: string, id: string, v1Name: string, v2Name: string) =>
    readFileSync(v1 ? join(mountOf(controller)!, PARENT, id, v1Name) : join(layout.hierarchies.v2!, PARENT, id, v2Name), "utf8").trim();

  test("linux.resources edited between create and start: the group carries the spec's memory, pids and cpu, not the flags'", async () => {
    const id = (await t.ok(["create", "--network", "none", "--cgroup-parent", PARENT, "--name", "fromspec", "-m", "64m", "--pids-limit", "30", "--cpus", "0.5", "busybox", "sleep", "60"])).trim();
    try {
      // As Docker's: the group comes with the start, from the spec as it is then.
      expect(groupDirs(`${PARENT}/${id}`).filter(existsSync)).toEqual([]);
      editSpec(id, (r) => {
        expect(r.memory).toEqual({ limit: 64 * MiB, swap: 128 * MiB });
        expect(r.pids).toEqual({ limit: 30 });
        // As containerd would write them: a memory limit without swap, a period of its own.
        r.memory = { limit: 48 * MiB };
        r.pids = { limit: 25 };
        r.cpu = { quota: 30000, period: 60000 };
      });
      await t.ok(["start", "fromspec"]);
      expect(file("memory", id, "memory.limit_in_bytes", "memory.max")).toBe(String(48 * MiB));
      expect(file("pids", id, "pids.max", "pids.max")).toBe("25");
      if (v1) {
        expect([file("cpu", id, "cpu.cfs_quota_us", ""), file("cpu", id, "cpu.cfs_period_us", "")]).toEqual(["30000", "60000"]);
      } else {
        expect(file("cpu", id, "", "cpu.max")).toBe("30000 60000");
      }
      // No swap in the spec: nothing written (not the flags' 2× memory), the kernel's default stays.
      const memsw = join(mountOf("memory") ?? "/nonexistent", PARENT, id, "memory.memsw.limit_in_bytes");
      if (v1 && existsSync(memsw)) expect(Number(readFileSync(memsw, "utf8"))).toBeGreaterThan(1e15);
      // The container sees the same in its own /sys/fs/cgroup.
      const inside = await t.ok(["exec", "fromspec", "cat", v1 ? "/sys/fs/cgroup/pids/pids.max" : "/sys/fs/cgroup/pids.max"]);
      expect(inside).toBe("25\n");
      // update rewrites config.json and applies from it: the new pids limit holds.
      await t.ok(["update", "--pids-limit", "40", "fromspec"]);
      expect(file("pids", id, "pids.max", "pids.max")).toBe("40");
      expect(JSON.parse(readFileSync(join(t.dir, "containers", id, "config.json"), "utf8")).linux.resources.pids).toEqual({ limit: 40 });
    } finally {
      await t.tsd(["rm", "-f", "fromspec"]);
    }
    expect(leftUnder(PARENT)).toEqual([]);
  }, 30000);

  test("a spec tsd cannot apply is refused at start, naming the field; no group is left", async () => {
    const id = (await t.ok(["create", "--network", "none", "--cgroup-parent", PARENT, "--name", "badspec", "busybox", "true"])).trim();
    try {
      editSpec(id, (r) => {
        r.hugepageLimits = [{ pageSize: "2MB", limit: 4194304 }];
      });
      const rt = await t.tsd(["start", "badspec"]);
      expect(rt.code).not.toBe(0);
      expect(rt.stderr).toBe("tsd: config.json linux.resources.hugepageLimits: not supported by tsd: remove the field\n");
      editSpec(id, (r) => {
        delete r.hugepageLimits;
        r.unified = { "pids.max": "7" };
      });
      const u = await t.tsd(["start", "-a", "badspec"]);
      if (v1) {
        expect(u.code).not.toBe(0);
        expect(u.stderr).toBe("tsd: invalid configuration: config.json linux.resources.unified needs cgroup v2, and this host uses cgroup v1: remove unified (or use the v1 fields)\n");
      } else {
        expect(u.code).toBe(0);
      }
      expect(groupDirs(`${PARENT}/${id}`).filter(existsSync)).toEqual([]);
    } finally {
      await t.tsd(["rm", "-f", "badspec"]);
    }
  }, 30000);

  test("linux.cgroupsPath in systemd's form (slice:prefix:name): the container runs in slice/prefix-name.scope, which rm removes", async () => {
    const slice = `tsde2e${process.pid}.slice`;
    const id = (await t.ok(["create", "--network", "none", "--name", "sliced", "--pids-limit", "21", "busybox", "sleep", "60"])).trim();
    const group = `${slice}/tsd-${id}.scope`;
    try {
      const path = join(t.dir, "containers", id, "config.json");
      const spec = JSON.parse(readFileSync(path, "utf8"));
      spec.linux.cgroupsPath = `${slice}:tsd:${id}`;
      writeFileSync(path, JSON.stringify(spec, null, 2));
      await t.ok(["start", "sliced"]);
      const pid = (await t.ok(["inspect", "-f", "{{.State.Pid}}", "sliced"])).trim();
      expect(readFileSync(`/proc/${pid}/cgroup`, "utf8")).toContain(v1 ? `:pids:/${group}\n` : `0::/${group}\n`);
      expect(readFileSync(join(v1 ? mountOf("pids")! : layout.hierarchies.v2!, group, "pids.max"), "utf8").trim()).toBe("21");
      expect(groupDirs(`tsd/${id}`).filter(existsSync)).toEqual([]);
      await t.ok(["rm", "-f", "sliced"]);
      expect(groupDirs(group).filter(existsSync)).toEqual([]);
    } finally {
      await t.tsd(["rm", "-f", "sliced"]);
      for (const d of groupDirs(slice)) removeGroupTree(d);
    }
  }, 30000);
});

describe("bad values are refused before anything is created", () => {
  const cases: [string[], RegExp][] = [
    [["-m", "12x"], /invalid argument "12x" for "--memory" flag/],
    [["-m", "1m"], /minimum memory limit allowed is 6MB/],
    [["--memory-swap", "1g"], /needs a memory limit/],
    [["--cpus", "64"], /range of CPUs is from 0.01 to/],
    [["--cpus", "1", "--cpu-quota", "5000"], /conflicting options/],
    [["--cpuset-cpus", "63"], /requested CPUs are not available/],
    [["--pids-limit", "x"], /pids-limit/],
    [["--cgroup-parent", "../up"], /cgroup-parent/],
  ];
  for (const [flags, message] of cases) {
    test(flags.join(" "), async () => {
      const r = await run([...flags, "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(await ids()).toEqual([]);
      expect(leftUnder(PARENT)).toEqual([]);
    });
  }
});

describe("no group is left behind", () => {
  test("after rm, and after a failed start (command not found)", async () => {
    await t.ok(["run", "--network", "none", "--cgroup-parent", PARENT, "--name", "keep", "-m", "32m", "busybox", "true"]);
    expect(leftUnder(PARENT)).toEqual([]);
    await t.ok(["rm", "keep"]);
    const r = await run(["--rm", "-m", "32m", "busybox", "/nope"]);
    expect(r.code).toBe(127);
    expect(leftUnder(PARENT)).toEqual([]);
    expect(await ids()).toEqual([]);
  });

  test("rm -f of a running container removes its group", async () => {
    const p = background(["--name", "victim", "busybox", "sleep", "60"]);
    const id = await runningId();
    expect(groupDirs(`${PARENT}/${id}`).every(existsSync)).toBe(true);
    await t.ok(["rm", "-f", "victim"]);
    expect(await p.exited).toBe(137);
    expect(leftUnder(PARENT)).toEqual([]);
  }, 20000);

  test("monitor SIGKILLed: the waiting tsd run removes the group and what ran in it", async () => {
    const p = background(["--rm", "busybox", "sleep", "60"]);
    const id = await runningId();
    const [monitor] = pidsOf(`--id ${id}`).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("tsd-monitor"));
    expect(monitor).toBeDefined();
    process.kill(monitor!, "SIGKILL");
    expect(await p.exited).toBe(125);
    expect(leftUnder(PARENT)).toEqual([]);
    expect(pidsOf("sleep 60").filter((pid) => readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(id))).toEqual([]);
  }, 20000);

  test("monitor and tsd run both SIGKILLed: the next command (ps) removes it; cleanup stays idempotent", async () => {
    const p = background(["--name", "orphan", "busybox", "sleep", "60"]);
    const id = await runningId();
    const [monitor] = pidsOf(`--id ${id}`).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("tsd-monitor"));
    p.kill("SIGKILL");
    await p.exited;
    process.kill(monitor!, "SIGKILL");
    // The monitor may vanish between looking and reading: ESRCH/ENOENT mean it is gone.
    await waitFor("the monitor to go", () => {
      try {
        return readFileSync(`/proc/${monitor}/stat`, "utf8").split(" ")[2] === "Z";
      } catch {
        return true;
      }
    });
    // The container's init outlived both and is still in its group.
    expect(readFileSync(join(groupDirs(`${PARENT}/${id}`)[0]!, "cgroup.procs"), "utf8").trim()).not.toBe("");
    // The next command that reads state (ps) finds the monitor gone and releases the group.
    expect(await t.ok(["ps", "-a"])).toContain("orphan");
    expect(leftUnder(PARENT)).toEqual([]);
    await t.ok(["container", "cleanup", id]); // idempotent
    await t.ok(["rm", "orphan"]);
  }, 20000);
});

describe("a group that cannot be emptied", () => {
  test("the exit cleanup records the exit and says so; the group goes once its processes can die", async () => {
    if (!v1 || !mountOf("freezer")) {
      console.log("cgroups.test: SKIP the frozen-group case: needs the v1 freezer hierarchy");
      return;
    }
    const id = (await t.ok(["run", "-d", "--network", "none", "--cgroup-parent", PARENT, "--name", "frozen", "busybox", "sleep", "60"])).trim();
    const state = join(mountOf("freezer")!, PARENT, id, "freezer.state");
    try {
      // A frozen task cannot die: SIGKILL stays pending and rmdir stays EBUSY.
      writeFileSync(state, "FROZEN");
      await waitFor("the freeze", () => readFileSync(state, "utf8").trim() === "FROZEN");
      const r = await t.tsd(["container", "cleanup", id]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^tsd: cannot remove cgroup .*processes are still in it after 5s \(tsd rm retries\)\n$/);
      expect((await t.ok(["inspect", "-f", "{{.State.Status}}", "frozen"])).trim()).toBe("exited");
      expect(groupDirs(`${PARENT}/${id}`).some(existsSync)).toBe(true);
    } finally {
      writeFileSync(state, "THAWED");
    }
    // Thawed, the pending SIGKILL lands; the monitor's own cleanup removes the group.
    await waitFor("the monitor and its cleanup to end", () => pidsOf(`container cleanup ${id}`).length === 0 && pidsOf(`--id ${id}`).length === 0);
    expect(groupDirs(`${PARENT}/${id}`).filter(existsSync)).toEqual([]);
    await t.ok(["rm", "frozen"]);
  }, 30000);
});

describe("cgroup v2 on this host", () => {
  test("the v2 driver with the limits, on the kernel", () => {
    if (layout.version === 1) {
      const v2 = layout.hierarchies.v2;
      const ctrl = v2 ? readFileSync(join(v2, "cgroup.controllers"), "utf8").trim() : "";
      console.log(`cgroups.test: SKIP the v2 driver's limits on the kernel: the unified hierarchy ${v2 ?? "(none)"} offers "${ctrl}", ` +
        "and memory/cpu/pids are bound to v1 hierarchies, so no private cgroup2 can get them; the v2 files are covered by test/unit/cgroup.test.ts");
      return;
    }
    expect(layout.hierarchies.v2).toBeDefined();
  });

  // cgroup v2's device cgroup is an eBPF program; the unified hierarchy of a hybrid host runs
  // it too (the kernel asks both the v1 controller and the v2 programs).
  test("the v2 driver's device program on the kernel: Docker's rules hold, --privileged's allow all", async () => {
    const mp = layout.hierarchies.v2;
    if (mp === undefined) {
      console.log("cgroups.test: SKIP the v2 device program: no cgroup2 mount on this host");
      return;
    }
    loadCore(t.dir);
    const d = new V2Driver(mp);
    const probe = async (g: string) => {
      // Joins the group first, then opens: /dev/zero (allowed) and /dev/kmsg (1:11, not).
      const p = Bun.spawn(["sh", "-c", `echo $$ > ${join(mp, g, "cgroup.procs")}; head -c 3 /dev/zero | wc -c; : < /dev/kmsg && echo kmsg-opened`], { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { out, err };
    };
    const plain = `${PARENT}/dev-${process.pid}`;
    const priv = `${PARENT}/devpriv-${process.pid}`;
    try {
      d.create(plain, {}, deviceRules(false));
      d.create(priv, {}, deviceRules(true));
      const denied = await probe(plain);
      expect(denied.out).toBe("3\n");
      expect(denied.err).toMatch(/\/dev\/kmsg: Operation not permitted\n$/);
      expect(await probe(priv)).toEqual({ out: "3\nkmsg-opened\n", err: "" });
    } finally {
      d.remove(plain);
      d.remove(priv);
    }
  });

  // What the unified hierarchy of a hybrid host does allow: the v2 driver's group life cycle on
  // the real kernel (mkdir, join through cgroup.procs, cgroup.kill, rmdir), without controllers.
  test("the v2 driver's group life cycle on the kernel's unified hierarchy", async () => {
    const mp = layout.hierarchies.v2;
    if (mp === undefined || !existsSync(join(mp, "cgroup.kill")) && !existsSync(join(mp, "cgroup.procs"))) {
      console.log("cgroups.test: SKIP the v2 group life cycle: no cgroup2 mount on this host");
      return;
    }
    const d = new V2Driver(mp);
    const g = `${PARENT}/v2-${process.pid}`;
    d.create(g, {});
    expect(d.exists(g)).toBe(true);
    const sleeper = Bun.spawn(["sh", "-c", "while :; do :; done"], { stdio: ["ignore", "ignore", "ignore"] });
    try {
      writeFileSync(d.procsPaths(g)[0]!, String(sleeper.pid));
      expect(readFileSync(join(mp, g, "cgroup.procs"), "utf8").trim()).toBe(String(sleeper.pid));
      expect(readFileSync(`/proc/${sleeper.pid}/cgroup`, "utf8")).toContain(`0::/${g}\n`);
      expect(d.oomKilled(g)).toBe(false);
      // cpu.stat is core in v2 (no controller needed): the driver's CPU figure is the kernel's.
      await Bun.sleep(300);
      expect(d.stats(g).cpuNs).toBeGreaterThan(1e7);
      // No pids controller in this unified hierarchy: the write fails, naming the file.
      const controllers = readFileSync(join(mp, "cgroup.controllers"), "utf8");
      if (!controllers.includes("pids")) expect(() => d.update(g, { pidsLimit: 5 })).toThrow(/cannot set pids.max to 5/);
      d.remove(g); // kills what is inside (cgroup.kill), then rmdir
      await sleeper.exited;
      expect(sleeper.signalCode).toBe("SIGKILL");
      expect(d.exists(g)).toBe(false);
      d.remove(g); // idempotent
    } finally {
      sleeper.kill("SIGKILL");
    }
  });
});
