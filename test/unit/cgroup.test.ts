// cgroups, the pure parts: Docker's units and rules, the v1/v2 choice from mountinfo, and the
// translation of each flag into cgroup files (runc's and crun's formulas).
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  checkAgainstHost, groupPath, hostConfigResources, ociResources, parseBytes, parseCgroupParent, parseCpuList, parseNanoCpus, resourcesFromFlags,
} from "../../src/cgroup/resources";
import { keyValues, oomKillCount, sharesToWeight, swapToV2, v1BlkioBytes, v1Files, v2Files, v2IoBytes } from "../../src/cgroup/files";
import { chooseVersion, parseMountinfo } from "../../src/cgroup/detect";
import { cgroupMounts } from "../../src/cgroup";
import { V1Driver, V2Driver } from "../../src/cgroup/driver";
import { UsageError } from "../../src/cli/globals";

const MiB = 1024 * 1024;

describe("units as Docker parses them", () => {
  test("sizes: binary multiples, optional b/ib, decimals, bare bytes", () => {
    expect(parseBytes("512m")).toBe(512 * MiB);
    expect(parseBytes("1g")).toBe(1024 * MiB);
    expect(parseBytes("1.5G")).toBe(1536 * MiB);
    expect(parseBytes("100KiB")).toBe(102400);
    expect(parseBytes("64 mb")).toBe(64 * MiB);
    expect(parseBytes("4096")).toBe(4096);
    expect(parseBytes("12x")).toBeUndefined();
    expect(parseBytes("-1")).toBeUndefined();
    expect(parseBytes("")).toBeUndefined();
  });
  test("--cpus to nano-CPUs, at most 9 decimals", () => {
    expect(parseNanoCpus("1.5")).toBe(1_500_000_000);
    expect(parseNanoCpus("0.5")).toBe(500_000_000);
    expect(parseNanoCpus(".25")).toBe(250_000_000);
    expect(parseNanoCpus("2")).toBe(2_000_000_000);
    expect(parseNanoCpus("0.0000000001")).toBeUndefined();
    expect(parseNanoCpus("1.5000000000")).toBe(1_500_000_000);
    expect(parseNanoCpus("abc")).toBeUndefined();
    expect(parseNanoCpus("-1")).toBeUndefined();
  });
  test("cpuset lists", () => {
    expect([...parseCpuList("0-2,5")!]).toEqual([0, 1, 2, 5]);
    expect([...parseCpuList("1")!]).toEqual([1]);
    expect(parseCpuList("2-1")).toBeUndefined();
    expect(parseCpuList("a")).toBeUndefined();
    expect(parseCpuList("0,,1")).toBeUndefined();
  });
});

describe("flags → Resources, with Docker's rules", () => {
  const r = resourcesFromFlags;
  test("nothing set is nothing limited", () => expect(r({})).toEqual({}));
  test("memory, swap, reservation", () => {
    expect(r({ memory: "32m" })).toEqual({ memory: 32 * MiB });
    expect(r({ memory: "32m", "memory-swap": "-1" })).toEqual({ memory: 32 * MiB, memorySwap: -1 });
    expect(r({ memory: "32m", "memory-swap": "64m", "memory-reservation": "16m" })).toEqual({ memory: 32 * MiB, memorySwap: 64 * MiB, memoryReservation: 16 * MiB });
  });
  test("refusals: too small, swap without memory, swap below memory, reservation above memory", () => {
    expect(() => r({ memory: "4m" })).toThrow(/minimum memory limit allowed is 6MB/);
    expect(() => r({ "memory-swap": "64m" })).toThrow(/needs a memory limit/);
    expect(() => r({ memory: "64m", "memory-swap": "32m" })).toThrow(/larger than the memory limit/);
    expect(() => r({ memory: "16m", "memory-reservation": "32m" })).toThrow(/less than memory reservation/);
    expect(() => r({ memory: "lots" })).toThrow(UsageError);
    expect(() => r({ memory: "lots" })).toThrow(`invalid argument "lots" for "--memory" flag`);
  });
  test("cpus and CFS values; they conflict", () => {
    expect(r({ cpus: "0.5" })).toEqual({ nanoCpus: 500_000_000 });
    expect(r({ "cpu-quota": "50000", "cpu-period": "100000", "cpu-shares": "512" })).toEqual({ cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512 });
    expect(r({ "cpu-quota": "-1" })).toEqual({ cpuQuota: -1 });
    expect(() => r({ cpus: "1", "cpu-quota": "50000" })).toThrow(/conflicting options/);
    expect(() => r({ "cpu-period": "999" })).toThrow(/CPU cfs period/);
    expect(() => r({ "cpu-quota": "999" })).toThrow(/CPU cfs quota/);
    expect(() => r({ "cpu-shares": "1" })).toThrow(/2 to 262144/);
    expect(() => r({ "cpu-shares": "1.5" })).toThrow(/not an integer/);
  });
  test("pids and cpusets", () => {
    expect(r({ "pids-limit": "20" })).toEqual({ pidsLimit: 20 });
    expect(r({ "pids-limit": "-1" })).toEqual({ pidsLimit: -1 });
    expect(r({ "pids-limit": "0" })).toEqual({});
    expect(r({ "cpuset-cpus": "0", "cpuset-mems": "0" })).toEqual({ cpusetCpus: "0", cpusetMems: "0" });
    expect(() => r({ "cpuset-cpus": "0-" })).toThrow(/cpuset-cpus/);
    expect(() => r({ "pids-limit": "many" })).toThrow(/pids-limit/);
  });
  test("host checks: --cpus within the CPU count, cpusets that exist", () => {
    const host = { count: 2, online: "0-1", mems: "0" };
    expect(() => checkAgainstHost({ nanoCpus: 3e9 }, host)).toThrow(/from 0.01 to 2.00/);
    expect(() => checkAgainstHost({ nanoCpus: 1e6 }, host)).toThrow(/from 0.01/);
    expect(() => checkAgainstHost({ cpusetCpus: "0-3" }, host)).toThrow(/requested 0-3, available: 0-1/);
    expect(() => checkAgainstHost({ cpusetMems: "1" }, host)).toThrow(/memory nodes/);
    checkAgainstHost({ nanoCpus: 2e9, cpusetCpus: "1", cpusetMems: "0" }, host);
  });
  test("--cgroup-parent and the group path", () => {
    expect(parseCgroupParent("/mygroup/")).toBe("mygroup");
    expect(parseCgroupParent("a//b")).toBe("a/b");
    expect(() => parseCgroupParent("../x")).toThrow(/cgroup-parent/);
    expect(() => parseCgroupParent("/")).toThrow(/cgroup-parent/);
    expect(groupPath("abc")).toBe("tsd/abc");
    expect(groupPath("abc", "a/b")).toBe("a/b/abc");
  });
  test("OCI linux.resources", () => {
    expect(ociResources({})).toEqual({});
    expect(ociResources({ memory: 32 * MiB, nanoCpus: 5e8, pidsLimit: 20, cpusetCpus: "0" })).toEqual({
      memory: { limit: 32 * MiB, swap: 64 * MiB },
      cpu: { quota: 50000, period: 100000, cpus: "0" },
      pids: { limit: 20 },
    });
  });
});

describe("Resources → v1 files", () => {
  const files = (r: Parameters<typeof v1Files>[0]) => v1Files(r).map((w) => `${w.controller}/${w.file}=${w.value}`);
  test("memory: limit, then memory+swap (Docker's default 2×), soft limit, OOM killer off", () => {
    expect(files({ memory: 32 * MiB, memoryReservation: 16 * MiB, oomKillDisable: true })).toEqual([
      `memory/memory.limit_in_bytes=${32 * MiB}`, `memory/memory.memsw.limit_in_bytes=${64 * MiB}`,
      `memory/memory.soft_limit_in_bytes=${16 * MiB}`, "memory/memory.oom_control=1",
    ]);
    expect(files({ memory: 32 * MiB, memorySwap: -1 })).toEqual([`memory/memory.limit_in_bytes=${32 * MiB}`, "memory/memory.memsw.limit_in_bytes=-1"]);
    expect(v1Files({ memory: MiB * 8 }).find((w) => w.file.includes("memsw"))?.optional).toBe(true);
  });
  test("cpu: shares, period before quota; --cpus 0.5 is 50000/100000", () => {
    expect(files({ nanoCpus: 5e8 })).toEqual(["cpu/cpu.cfs_period_us=100000", "cpu/cpu.cfs_quota_us=50000"]);
    expect(files({ nanoCpus: 1.5e9 })).toEqual(["cpu/cpu.cfs_period_us=100000", "cpu/cpu.cfs_quota_us=150000"]);
    expect(files({ cpuShares: 512, cpuQuota: 20000, cpuPeriod: 50000 })).toEqual(["cpu/cpu.shares=512", "cpu/cpu.cfs_period_us=50000", "cpu/cpu.cfs_quota_us=20000"]);
  });
  test("cpuset first, pids", () => {
    expect(files({ pidsLimit: 20, cpusetCpus: "1", cpusetMems: "0" })).toEqual(["cpuset/cpuset.cpus=1", "cpuset/cpuset.mems=0", "pids/pids.max=20"]);
    expect(files({ pidsLimit: -1 })).toEqual(["pids/pids.max=max"]);
  });
});

describe("Resources → v2 files (runc fs2 / crun)", () => {
  const files = (r: Parameters<typeof v2Files>[0]) => v2Files(r).map((w) => `${w.file}=${w.value}`);
  test("cpu.weight from shares", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(512)).toBe(20);
    expect(files({ cpuShares: 1024 })).toEqual(["cpu.weight=39"]);
  });
  test("cpu.max", () => {
    expect(files({ nanoCpus: 5e8 })).toEqual(["cpu.max=50000 100000"]);
    expect(files({ cpuQuota: 20000 })).toEqual(["cpu.max=20000 100000"]);
    expect(files({ cpuPeriod: 50000 })).toEqual(["cpu.max=max 50000"]);
    expect(files({ cpuQuota: -1, cpuPeriod: 50000 })).toEqual(["cpu.max=max 50000"]);
  });
  test("memory.max, memory.swap.max as swap alone, memory.low", () => {
    expect(swapToV2(64 * MiB, 32 * MiB)).toBe(32 * MiB);
    expect(swapToV2(-1, 32 * MiB)).toBe(-1);
    expect(swapToV2(0, -1)).toBe(-1);
    expect(() => swapToV2(64 * MiB, 0)).toThrow(/without a memory limit/);
    expect(() => swapToV2(16 * MiB, 32 * MiB)).toThrow(/>= memory/);
    expect(files({ memory: 32 * MiB })).toEqual([`memory.max=${32 * MiB}`, `memory.swap.max=${32 * MiB}`]);
    expect(files({ memory: 32 * MiB, memorySwap: 32 * MiB })).toEqual([`memory.max=${32 * MiB}`, "memory.swap.max=0"]);
    expect(files({ memory: 32 * MiB, memorySwap: -1, memoryReservation: 8 * MiB })).toEqual([`memory.max=${32 * MiB}`, "memory.swap.max=max", `memory.low=${8 * MiB}`]);
    expect(files({ oomKillDisable: true })).toEqual([]);
  });
  test("pids.max, cpuset", () => {
    expect(files({ pidsLimit: 20, cpusetCpus: "0-1" })).toEqual(["cpuset.cpus=0-1", "pids.max=20"]);
    expect(files({ pidsLimit: -1 })).toEqual(["pids.max=max"]);
  });
});

describe("reading the kernel's files", () => {
  test("OOM kills from v1 oom_control and v2 memory.events", () => {
    expect(oomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")).toBe(1);
    expect(oomKillCount("low 0\nhigh 0\nmax 12\noom 1\noom_kill 2\noom_group_kill 0\n")).toBe(2);
    expect(oomKillCount("oom_kill_disable 0\nunder_oom 0\n")).toBe(0);
  });
  test("stat files and block I/O", () => {
    expect(keyValues("cache 10\ntotal_inactive_file 4096\n").get("total_inactive_file")).toBe(4096);
    expect(v1BlkioBytes("8:0 Read 100\n8:0 Write 20\n8:0 Sync 120\n8:16 Read 1\nTotal 121\n")).toEqual({ read: 101, write: 20 });
    expect(v2IoBytes("8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=1 wbytes=0\n")).toEqual({ read: 101, write: 20 });
  });
});

// A hybrid host as this project's CI has it, and a pure v2 host.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpu\\054cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
90 80 0:32 / /mnt/again rw,relatime - cgroup cgroup rw,memory
`;
const PURE_V2 = `25 20 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n`;

describe("detection from /proc/self/mountinfo", () => {
  test("v1 hierarchies with controllers, once each; named ones skipped; cgroup2 found", () => {
    const h = parseMountinfo(HYBRID);
    expect(h.v1.map((x) => [x.mountpoint, x.controllers.join(",")])).toEqual([
      ["/sys/fs/cgroup/cpu", "cpu"], ["/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct"], ["/sys/fs/cgroup/memory", "memory"], ["/sys/fs/cgroup/pids", "pids"],
    ]);
    expect(h.v2).toBe("/sys/fs/cgroup/unified");
  });
  test("v2 only when the unified hierarchy has the controllers", () => {
    expect(chooseVersion(parseMountinfo(HYBRID), [])).toBe(1);
    expect(chooseVersion(parseMountinfo(HYBRID), ["hugetlb"])).toBe(1);
    expect(chooseVersion(parseMountinfo(HYBRID), ["cpu", "memory", "pids"])).toBe(2);
    expect(chooseVersion(parseMountinfo(PURE_V2), ["cpuset", "cpu", "io", "memory", "pids"])).toBe(2);
    expect(chooseVersion(parseMountinfo(PURE_V2), [])).toBe(2);
    expect(() => chooseVersion(parseMountinfo(""), [])).toThrow(/no cgroup hierarchy/);
  });
  test("the container's /sys/fs/cgroup: v1 tmpfs + one ro mount per hierarchy, v2 cgroup2", () => {
    const v1 = cgroupMounts({ hierarchies: parseMountinfo(HYBRID), version: 1 }, false);
    expect(v1[0]).toMatchObject({ destination: "/sys/fs/cgroup", type: "tmpfs" });
    expect(v1.slice(1).map((m) => [m.destination, m.type, m.options.join(",")])).toContainEqual(["/sys/fs/cgroup/memory", "cgroup", "nosuid,noexec,nodev,ro,memory"]);
    expect(v1.at(-1)).toEqual({ destination: "/sys/fs/cgroup", type: "tmpfs", source: "tmpfs", options: ["remount", "nosuid", "noexec", "nodev", "ro"] });
    expect(cgroupMounts({ hierarchies: parseMountinfo(HYBRID), version: 1 }, true).at(-1)?.options).toContain("rw");
    expect(cgroupMounts({ hierarchies: parseMountinfo(PURE_V2), version: 2 }, true)).toEqual([
      { destination: "/sys/fs/cgroup", type: "cgroup2", source: "cgroup", options: ["nosuid", "noexec", "nodev", "rw"] },
    ]);
  });
});

// The v2 driver on a plain directory tree shaped like a cgroup2 mount: what it writes where.
// Not the kernel (no controller semantics, no rmdir of a populated group): those are covered
// only on a host with v2 controllers (test/e2e/cgroups.test.ts says when it skips).
describe("v2 driver on a directory tree", () => {
  test("create enables controllers down the path and writes the limits; stats and OOM read back", () => {
    const mp = mkdtempSync(join(tmpdir(), "tsd-cg2-"));
    try {
      writeFileSync(join(mp, "cgroup.controllers"), "cpuset cpu io memory pids\n");
      writeFileSync(join(mp, "cgroup.subtree_control"), "");
      // A real cgroup2 gives every new group its controllers file; pre-create them as the kernel would.
      for (const d of ["p", "p/abc"]) {
        mkdirSync(join(mp, d), { recursive: true });
        writeFileSync(join(mp, d, "cgroup.controllers"), "cpuset cpu io memory pids\n");
        writeFileSync(join(mp, d, "cgroup.subtree_control"), "");
      }
      const d = new V2Driver(mp);
      d.create("p/abc", { memory: 32 * MiB, nanoCpus: 5e8, pidsLimit: 20, cpuShares: 1024 });
      const at = (f: string) => readFileSync(join(mp, "p/abc", f), "utf8");
      expect(at("memory.max")).toBe(String(32 * MiB));
      expect(at("cpu.max")).toBe("50000 100000");
      expect(at("pids.max")).toBe("20");
      expect(at("cpu.weight")).toBe("39");
      expect(readFileSync(join(mp, "p/cgroup.subtree_control"), "utf8")).toMatch(/^\+/);
      expect(d.procsPaths("p/abc")).toEqual([join(mp, "p/abc/cgroup.procs")]);
      d.update("p/abc", { pidsLimit: -1 });
      expect(at("pids.max")).toBe("max");
      writeFileSync(join(mp, "p/abc/memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
      writeFileSync(join(mp, "p/abc/memory.current"), "1048576\n");
      writeFileSync(join(mp, "p/abc/memory.stat"), "anon 1000\ninactive_file 4096\n");
      writeFileSync(join(mp, "p/abc/cpu.stat"), "usage_usec 1500\nuser_usec 1000\n");
      writeFileSync(join(mp, "p/abc/pids.current"), "3\n");
      writeFileSync(join(mp, "p/abc/io.stat"), "8:0 rbytes=10 wbytes=20\n");
      expect(d.oomKilled("p/abc")).toBe(true);
      expect(d.stats("p/abc")).toEqual({ cpuNs: 1_500_000, memUsage: 1048576 - 4096, memLimit: 32 * MiB, pids: 3, blkRead: 10, blkWrite: 20 });
      expect(d.exists("p/abc")).toBe(true);
      expect(existsSync(join(mp, "p/abc/memory.swap.max"))).toBe(true);
    } finally {
      rmSync(mp, { recursive: true, force: true });
    }
  });
});

describe("tsd update: new flags over the current limits", () => {
  test("given fields replace, others stay; --cpus and CFS values replace each other", () => {
    const base = { memory: 32 * MiB, pidsLimit: 20, nanoCpus: 5e8 };
    expect(resourcesFromFlags({ "pids-limit": "40" }, base)).toEqual({ memory: 32 * MiB, pidsLimit: 40, nanoCpus: 5e8 });
    expect(resourcesFromFlags({ "cpu-quota": "20000" }, base)).toEqual({ memory: 32 * MiB, pidsLimit: 20, cpuQuota: 20000 });
    expect(resourcesFromFlags({ cpus: "1" }, { cpuQuota: 20000, cpuPeriod: 50000 })).toEqual({ nanoCpus: 1e9 });
  });
  test("--memory-swap alone uses the current memory; memory above an explicit swap is refused", () => {
    expect(resourcesFromFlags({ "memory-swap": "64m" }, { memory: 32 * MiB })).toEqual({ memory: 32 * MiB, memorySwap: 64 * MiB });
    expect(() => resourcesFromFlags({ memory: "128m" }, { memory: 32 * MiB, memorySwap: 64 * MiB })).toThrow(/memory-swap/);
  });
});

import { binarySize, cpuPercent, netDevBytes, statsRow } from "../../src/cgroup/stats";

describe("stats arithmetic and format (docker stats)", () => {
  const cg = { cpuNs: 0, memUsage: 0, memLimit: 64 * MiB, pids: 1, blkRead: 0, blkWrite: 0 };
  test("binary sizes with four digits", () => {
    expect(binarySize(0)).toBe("0B");
    expect(binarySize(1556480)).toBe("1.484MiB");
    expect(binarySize(32 * MiB)).toBe("32MiB");
    expect(binarySize(24105 * MiB)).toBe("23.54GiB");
  });
  test("CPU % is CPU time over wall time, 100% per busy CPU", () => {
    const a = { at: 0, cg, netRx: 0, netTx: 0 };
    expect(cpuPercent(a, { ...a, at: 1000, cg: { ...cg, cpuNs: 5e8 } })).toBeCloseTo(50);
    expect(cpuPercent(a, { ...a, at: 1000, cg: { ...cg, cpuNs: 2e9 } })).toBeCloseTo(200);
    expect(cpuPercent(a, a)).toBe(0);
  });
  test("a row", () => {
    const a = { at: 0, cg, netRx: 0, netTx: 0 };
    const b = { at: 1000, cg: { ...cg, cpuNs: 1e8, memUsage: 16 * MiB, pids: 3, blkRead: 1500, blkWrite: 0 }, netRx: 1234, netTx: 56 };
    expect(statsRow("0123456789abcdef", "web", "web", a, b)).toEqual({
      ID: "0123456789ab", Name: "web", Container: "web", CPUPerc: "10.00%", MemUsage: "16MiB / 64MiB", MemPerc: "25.00%",
      NetIO: "1.23kB / 56B", BlockIO: "1.5kB / 0B", PIDs: "3",
    });
  });
  test("/proc/PID/net/dev without lo", () => {
    const text = "Inter-|   Receive\n face |bytes    packets\n    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  eth0:    2000      10    0    0    0     0          0         0      300       3    0    0    0     0       0          0\n";
    expect(netDevBytes(text)).toEqual({ rx: 2000, tx: 300 });
  });
});

describe("inspect's HostConfig resources", () => {
  test("Docker's zero values, and its 2× memory swap default", () => {
    expect(hostConfigResources({})).toMatchObject({ Memory: 0, MemorySwap: 0, NanoCpus: 0, PidsLimit: null, OomKillDisable: false, CpusetCpus: "" });
    expect(hostConfigResources({ memory: 32 * MiB, nanoCpus: 5e8, pidsLimit: 20 })).toMatchObject({ Memory: 32 * MiB, MemorySwap: 64 * MiB, NanoCpus: 5e8, PidsLimit: 20 });
  });
});

describe("device rules", () => {
  test("Docker's default list as v1 writes, deny first; privileged allows all; OCI form", async () => {
    const { deviceRules, ociDeviceRules } = await import("../../src/cgroup/devices");
    const { v1DeviceFiles } = await import("../../src/cgroup/files");
    const w = v1DeviceFiles(deviceRules(false));
    expect(w[0]).toEqual({ controller: "devices", file: "devices.deny", value: "a" });
    expect(w.map((x) => x.value)).toEqual(["a", "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"]);
    expect(w.slice(1).every((x) => x.file === "devices.allow")).toBe(true);
    expect(v1DeviceFiles(deviceRules(true))).toEqual([{ controller: "devices", file: "devices.allow", value: "a" }]);
    expect(ociDeviceRules(deviceRules(false)).slice(0, 2)).toEqual([{ allow: false, type: "a", access: "rwm" }, { allow: true, type: "c", access: "m" }]);
  });
  test("the words libtsd's v2 device filter takes", async () => {
    const { deviceRules, encodeDeviceRules } = await import("../../src/cgroup/devices");
    const w = encodeDeviceRules(deviceRules(false));
    expect(w.length).toBe(13 * 4);
    expect([...w.slice(0, 12)]).toEqual([0, 0xffffffff, 0xffffffff, 7, 0b101, 0xffffffff, 0xffffffff, 1, 0b011, 0xffffffff, 0xffffffff, 1]);
    expect([...w.slice(12, 16)]).toEqual([0b101, 1, 3, 7]); // allow c 1:3 rwm
    expect([...encodeDeviceRules(deviceRules(true))]).toEqual([1, 0xffffffff, 0xffffffff, 7]);
  });
  test("dev_t decoding of the kernel's huge encoding", async () => {
    const { splitDev } = await import("../../src/container/host-devices");
    expect(splitDev(0x0801n)).toEqual({ major: 8, minor: 1 });
    expect(splitDev((259n << 8n) | 3n)).toEqual({ major: 259, minor: 3 });
    // glibc's makedev(0x1001, 0x1234): both numbers past their low parts.
    expect(splitDev((0x1000n << 32n) | (0x1n << 8n) | (0x1200n << 12n) | 0x34n)).toEqual({ major: 0x1001, minor: 0x1234 });
  });
});

describe("freeze (commit's pause) on a plain directory tree", () => {
  test("v2 writes cgroup.freeze and waits for cgroup.events; v1 writes freezer.state; no freezer: false", async () => {
    const mp = mkdtempSync(join(tmpdir(), "tsd-freeze-"));
    try {
      const dir = join(mp, "tsd", "c1");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "cgroup.freeze"), "0");
      writeFileSync(join(dir, "cgroup.events"), "populated 1\nfrozen 1\n");
      const v2 = new V2Driver(mp);
      expect(await v2.freeze("tsd/c1", true)).toBe(true);
      expect(readFileSync(join(dir, "cgroup.freeze"), "utf8")).toBe("1");
      writeFileSync(join(dir, "cgroup.events"), "populated 1\nfrozen 0\n");
      expect(await v2.freeze("tsd/c1", false)).toBe(true);
      expect(readFileSync(join(dir, "cgroup.freeze"), "utf8")).toBe("0");
      expect(await v2.freeze("tsd/none", true)).toBe(false);
      const v1dir = join(mp, "freezer", "tsd", "c1");
      mkdirSync(v1dir, { recursive: true });
      writeFileSync(join(v1dir, "freezer.state"), "THAWED");
      const v1 = new V1Driver([{ mountpoint: join(mp, "freezer"), controllers: ["freezer"] }]);
      expect(await v1.freeze("tsd/c1", true)).toBe(true);
      expect(readFileSync(join(v1dir, "freezer.state"), "utf8")).toBe("FROZEN");
      expect(await new V1Driver([{ mountpoint: join(mp, "mem"), controllers: ["memory"] }]).freeze("tsd/c1", true)).toBe(false);
    } finally {
      rmSync(mp, { recursive: true, force: true });
    }
  });
});

describe("block I/O limits", () => {
  test("flags → throttles with the device's numbers, v1 files, v2 io.max lines, io.weight, OCI blockIO", async () => {
    const { resourcesFromFlags, ociResources } = await import("../../src/cgroup/resources");
    const { v1Files, v2Files, ioMaxLines, blkioToIoWeight } = await import("../../src/cgroup/files");
    const dev = (p: string) => (p === "/dev/sda" ? { major: 8, minor: 0 } : p === "/dev/null" ? { error: "/dev/null is not a block device" } : { error: `no such device ${p}` });
    const r = resourcesFromFlags({ "blkio-weight": "300", "device-read-bps": ["/dev/sda:1mb"], "device-write-iops": ["/dev/sda:100"] }, {}, dev);
    expect(r.throttle).toEqual({ readBps: [{ path: "/dev/sda", major: 8, minor: 0, rate: 1048576 }], writeIops: [{ path: "/dev/sda", major: 8, minor: 0, rate: 100 }] });
    expect(v1Files(r).filter((w) => w.controller === "blkio")).toEqual([
      { controller: "blkio", file: "blkio.weight", value: "300", optional: true },
      { controller: "blkio", file: "blkio.throttle.read_bps_device", value: "8:0 1048576" },
      { controller: "blkio", file: "blkio.throttle.write_iops_device", value: "8:0 100" },
    ]);
    expect(ioMaxLines(r.throttle)).toEqual(["8:0 rbps=1048576 wiops=100"]);
    expect(v2Files(r).filter((w) => w.controller === "io").map((w) => `${w.file}=${w.value}`)).toEqual(["io.weight=default 2930", "io.max=8:0 rbps=1048576 wiops=100"]);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10000);
    expect(ociResources(r).blockIO).toEqual({ weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] });
    expect(() => resourcesFromFlags({ "device-read-bps": ["/dev/null:1mb"] }, {}, dev)).toThrow(/is not a block device/);
    expect(() => resourcesFromFlags({ "device-read-bps": ["/dev/nope:1mb"] }, {}, dev)).toThrow(/no such device/);
    expect(() => resourcesFromFlags({ "device-read-bps": ["sda:1mb"] }, {}, dev)).toThrow(/device under \/dev/);
    expect(() => resourcesFromFlags({ "device-read-iops": ["/dev/sda:1k"] }, {}, dev)).toThrow(/whole number/);
    expect(() => resourcesFromFlags({ "blkio-weight": "5" }, {}, dev)).toThrow(/10 to 1000/);
  });
});
