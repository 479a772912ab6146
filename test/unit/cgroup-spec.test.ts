// config.json → the group and what its driver writes (src/cgroup/spec.ts): the spec is the one
// source of a container's limits, so every flag tsd has must survive flags → linux.resources →
// cgroup files with its kernel meaning, and OCI inputs tsd never writes must mean what runc
// makes of them.
import { describe, expect, test } from "bun:test";
import { ociResources, resourcesFromFlags, type ResourceFlags, type Resources } from "../../src/cgroup/resources";
import { v1Files, v2Files } from "../../src/cgroup/files";
import { DEFAULT_DEVICE_RULES, deviceRules, ociDeviceRules } from "../../src/cgroup/devices";
import { deviceRulesFromSpec, expandSlice, parseCgroupsPath, resourcesFromSpec, unifiedFromSpec } from "../../src/cgroup/spec";

const MiB = 1024 * 1024;
const sda = () => ({ major: 8, minor: 0 });
const flags = (f: ResourceFlags) => resourcesFromFlags(f, {}, sda);
const fromSpec = (lr: unknown) => resourcesFromSpec(lr).resources;
const v1 = (r: Resources) => v1Files(r).map((w) => `${w.controller}/${w.file}=${w.value}`);
const v2 = (r: Resources) => v2Files(r).map((w) => `${w.file}=${w.value}`);

// Every flag tsd's run and update take, alone and together.
const FLAG_SETS: ResourceFlags[] = [
  {},
  { memory: "32m" },
  { memory: "32m", "memory-swap": "64m" },
  { memory: "32m", "memory-swap": "32m" },
  { memory: "32m", "memory-swap": "-1" },
  { memory: "64m", "memory-reservation": "16m" },
  { "memory-reservation": "16m" },
  { memory: "32m", "oom-kill-disable": true },
  { "oom-kill-disable": true },
  { cpus: "0.5" },
  { cpus: "1.5" },
  { cpus: "0.001" },
  { "cpu-shares": "512" },
  { "cpu-quota": "20000" },
  { "cpu-period": "50000" },
  { "cpu-quota": "-1", "cpu-period": "50000" },
  { "cpu-quota": "30000", "cpu-period": "60000" },
  { "cpuset-cpus": "0-1,3", "cpuset-mems": "0" },
  { "pids-limit": "20" },
  { "pids-limit": "-1" },
  { "blkio-weight": "300" },
  { "device-read-bps": ["/dev/sda:1mb"], "device-write-bps": ["/dev/sda:2mb"], "device-read-iops": ["/dev/sda:100"], "device-write-iops": ["/dev/sda:50", "/dev/sdb:7"] },
  { memory: "1g", "memory-swap": "3g", "memory-reservation": "512m", cpus: "2", "cpu-shares": "2048", "cpuset-cpus": "0", "pids-limit": "100", "blkio-weight": "10" },
];

describe("round trip: flags → ociResources → resourcesFromSpec keeps the kernel meaning", () => {
  for (const f of FLAG_SETS) {
    test(JSON.stringify(f), () => {
      const r = flags(f);
      const back = fromSpec(ociResources(r));
      expect(v1(back)).toEqual(v1(r));
      let want: string[] | Error;
      try {
        want = v2(r);
      } catch (e) {
        want = e as Error;
      }
      if (want instanceof Error) expect(() => v2(back)).toThrow(want.message);
      else expect(v2(back)).toEqual(want);
      // The optional flags of the writes (memsw, io.weight skipped without the file) too.
      expect(v1Files(back).map((w) => Boolean(w.optional))).toEqual(v1Files(r).map((w) => Boolean(w.optional)));
    });
  }

  test("--cpus is quota/period in the spec and in the group; memory's swap is written out", () => {
    expect(fromSpec(ociResources(flags({ cpus: "1.5", memory: "32m" })))).toEqual({
      cpuQuota: 150000, cpuPeriod: 100000, memory: 32 * MiB, memorySwap: 64 * MiB, swapAsGiven: true,
    });
  });

  test("device rules: Docker's default list and --privileged's come back as they were", () => {
    for (const privileged of [false, true]) {
      const lr = { ...ociResources({}), devices: ociDeviceRules(deviceRules(privileged)) };
      expect(resourcesFromSpec(lr).devices).toEqual([...deviceRules(privileged)]);
    }
  });
});

describe("OCI inputs tsd never writes (runtime-tools style)", () => {
  test("nothing: no limits, Docker's default devices (runc's allowed list)", () => {
    expect(resourcesFromSpec(undefined)).toEqual({ resources: { swapAsGiven: true }, devices: [...DEFAULT_DEVICE_RULES] });
    expect(v1(fromSpec({}))).toEqual([]);
    expect(v2(fromSpec({}))).toEqual([]);
  });

  test("memory.limit without swap: no swap file (no Docker 2×), the kernel's default stays", () => {
    const r = fromSpec({ memory: { limit: 32 * MiB } });
    expect(v1(r)).toEqual([`memory/memory.limit_in_bytes=${32 * MiB}`]);
    expect(v2(r)).toEqual([`memory.max=${32 * MiB}`]);
  });

  test("memory.swap without a limit: -1 is unlimited, any other is refused with the field's name", () => {
    expect(v1(fromSpec({ memory: { swap: -1 } }))).toEqual(["memory/memory.memsw.limit_in_bytes=-1"]);
    expect(v2(fromSpec({ memory: { swap: -1 } }))).toEqual(["memory.swap.max=max"]);
    expect(() => fromSpec({ memory: { swap: 64 * MiB } })).toThrow("config.json linux.resources.memory.swap: a swap limit needs memory.limit as well");
    expect(() => fromSpec({ memory: { limit: 64 * MiB, swap: 32 * MiB } })).toThrow(/memory.swap: must be at least memory.limit/);
  });

  test("memory: limit -1 unlimited, 0 unset, swappiness (v1 only), reservation, OOM killer", () => {
    expect(v1(fromSpec({ memory: { limit: -1, swap: 0, reservation: 0 } }))).toEqual(["memory/memory.limit_in_bytes=-1"]);
    expect(v2(fromSpec({ memory: { limit: -1 } }))).toEqual(["memory.max=max"]);
    const r = fromSpec({ memory: { limit: 64 * MiB, swap: 96 * MiB, reservation: 8 * MiB, swappiness: 10, disableOOMKiller: true } });
    expect(v1(r)).toEqual([
      `memory/memory.limit_in_bytes=${64 * MiB}`, `memory/memory.memsw.limit_in_bytes=${96 * MiB}`, `memory/memory.soft_limit_in_bytes=${8 * MiB}`,
      "memory/memory.swappiness=10", "memory/memory.oom_control=1",
    ]);
    expect(v2(r)).toEqual([`memory.max=${64 * MiB}`, `memory.swap.max=${32 * MiB}`, `memory.low=${8 * MiB}`]);
    expect(() => fromSpec({ memory: { swappiness: 101 } })).toThrow("memory.swappiness: the range is 0 to 100");
    expect(fromSpec({ memory: { swappiness: -1 } }).memorySwappiness).toBeUndefined();
    expect(() => fromSpec({ memory: { limit: "32m" } })).toThrow('config.json linux.resources.memory.limit: must be an integer, not "32m"');
  });

  test("memory: kernelTCP on v1 only, kernel (kmem) not written (gone from the kernel)", () => {
    const r = fromSpec({ memory: { kernel: 16 * MiB, kernelTCP: 4 * MiB } });
    expect(v1(r)).toEqual([`memory/memory.kmem.tcp.limit_in_bytes=${4 * MiB}`]);
    expect(v2(r)).toEqual([]);
    expect(v1(fromSpec({ memory: { kernelTCP: -1 } }))).toEqual(["memory/memory.kmem.tcp.limit_in_bytes=-1"]);
  });

  test("cpu: cpus alone, mems alone, period alone, quota -1; real-time on v1 only", () => {
    expect(v1(fromSpec({ cpu: { cpus: "1" } }))).toEqual(["cpuset/cpuset.cpus=1"]);
    expect(v2(fromSpec({ cpu: { mems: "0" } }))).toEqual(["cpuset.mems=0"]);
    expect(v2(fromSpec({ cpu: { period: 50000 } }))).toEqual(["cpu.max=max 50000"]);
    expect(v1(fromSpec({ cpu: { quota: -1, shares: 1024 } }))).toEqual(["cpu/cpu.shares=1024", "cpu/cpu.cfs_quota_us=-1"]);
    expect(v2(fromSpec({ cpu: { quota: -1, shares: 1024 } }))).toEqual(["cpu.weight=39", "cpu.max=max 100000"]);
    expect(v1(fromSpec({ cpu: { realtimePeriod: 800001, realtimeRuntime: 500001 } }))).toEqual(["cpu/cpu.rt_period_us=800001", "cpu/cpu.rt_runtime_us=500001"]);
    expect(v1(fromSpec({ cpu: { realtimeRuntime: -1 } }))).toEqual(["cpu/cpu.rt_runtime_us=-1"]);
    expect(() => v2(fromSpec({ cpu: { realtimeRuntime: 950000 } }))).toThrow("real-time CPU limits need cgroup v1");
    expect(() => fromSpec({ cpu: { realtimeRuntime: -2 } })).toThrow("cpu.realtimeRuntime: must be -1");
    expect(fromSpec({ cpu: { realtimeRuntime: 0, realtimePeriod: 0 } })).toEqual({ swapAsGiven: true });
    expect(() => fromSpec({ cpu: { cpus: "0;1" } })).toThrow(/cpu.cpus: must be a list/);
  });

  test("pids: 0 unset, any negative unlimited", () => {
    expect(v2(fromSpec({ pids: { limit: 0 } }))).toEqual([]);
    expect(v2(fromSpec({ pids: { limit: -5 } }))).toEqual(["pids.max=max"]);
  });

  test("blockIO: weight and throttles by major:minor; per-device weights refused", () => {
    const r = fromSpec({ blockIO: { weight: 500, leafWeight: 300, throttleReadBpsDevice: [{ major: 253, minor: 1, rate: 4096 }], throttleWriteIOPSDevice: [{ major: 253, minor: 1, rate: 9 }] } });
    expect(v1(r)).toEqual(["blkio/blkio.weight=500", "blkio/blkio.throttle.read_bps_device=253:1 4096", "blkio/blkio.throttle.write_iops_device=253:1 9"]);
    expect(v2(r)).toEqual(["io.weight=default 4950", "io.max=253:1 rbps=4096 wiops=9"]);
    expect(() => fromSpec({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 100 }] } })).toThrow(/weightDevice: per-device weights are not supported/);
    expect(() => fromSpec({ blockIO: { throttleReadBpsDevice: [{ major: 8, rate: 1 }] } })).toThrow("blockIO.throttleReadBpsDevice[0]: needs major, minor and rate");
    expect(() => fromSpec({ blockIO: { weight: 5 } })).toThrow("blockIO.weight: the range is 10 to 1000, not 5");
  });

  test("hugepages, network, rdma: refused when set, fine when empty", () => {
    expect(() => fromSpec({ hugepageLimits: [{ pageSize: "2MB", limit: 1 }] })).toThrow("config.json linux.resources.hugepageLimits: not supported by tsd");
    expect(() => fromSpec({ network: { classID: 1 } })).toThrow(/network: not supported/);
    expect(fromSpec({ hugepageLimits: [], network: {}, rdma: {} })).toEqual({ swapAsGiven: true });
  });
});

describe("device rules from a spec, as runc reads them", () => {
  test("defaults: type a, access rwm, -1 any; deny-all first; the devices every container has stay allowed", () => {
    const rules = deviceRulesFromSpec([{ allow: true, type: "c", major: 10, minor: -1, access: "rw" }]);
    expect(rules[0]).toEqual({ allow: false, type: "a", access: "rwm" });
    expect(rules[1]).toEqual({ allow: true, type: "c", major: 10, access: "rw" });
    expect(rules.slice(2)).toEqual(DEFAULT_DEVICE_RULES.slice(1));
    // containerd's form: deny all, then its own list; what it lists is not added again.
    const containerd = deviceRulesFromSpec([{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }]);
    expect(containerd.slice(0, 2)).toEqual([{ allow: false, type: "a", access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }]);
    expect(containerd.filter((r) => r.major === 1 && r.minor === 3)).toHaveLength(1);
    expect(deviceRulesFromSpec([{ allow: true }])).toEqual([{ allow: true, type: "a", access: "rwm" }]);
    expect(deviceRulesFromSpec([])).toEqual([...DEFAULT_DEVICE_RULES]);
  });
  test("access letters other than r, w, m are dropped (runc's emulator ignores them)", () => {
    expect(deviceRulesFromSpec([{ allow: false, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 11, access: "rwa" }])[1]).toEqual({ allow: false, type: "c", major: 1, minor: 11, access: "rw" });
    expect(deviceRulesFromSpec([{ allow: true, type: "c", major: 1, minor: 3, access: "mwr" }])[1]!.access).toBe("rwm");
  });
  test("bad rules name the field", () => {
    expect(() => deviceRulesFromSpec([{ allow: "yes" }])).toThrow("config.json linux.resources.devices[0].allow: must be true or false");
    expect(() => deviceRulesFromSpec([{ allow: true, type: "x" }])).toThrow(/devices\[0\].type: must be "a", "b" or "c"/);
    expect(() => deviceRulesFromSpec([{ allow: true, access: "xa" }])).toThrow(/devices\[0\].access: must be letters of "rwm"/);
    expect(() => deviceRulesFromSpec([{ allow: true, access: 7 }])).toThrow(/devices\[0\].access/);
    expect(() => deviceRulesFromSpec([{ allow: true, major: -2 }])).toThrow(/devices\[0\].major/);
  });
});

describe("unified: cgroup v2 files by name", () => {
  test("written verbatim, after the others, marked for the driver's existence check", () => {
    const r = fromSpec({ pids: { limit: 10 }, unified: { "memory.high": "50000000", "pids.max": "12" } });
    expect(v2Files(r).slice(-2)).toEqual([
      { controller: "unified", file: "memory.high", value: "50000000", unified: true },
      { controller: "unified", file: "pids.max", value: "12", unified: true },
    ]);
    expect(v2(r)[0]).toBe("pids.max=10");
    expect(unifiedFromSpec({})).toBeUndefined();
  });
  test("keys: one file name, no path, no .., not the files that move or kill processes", () => {
    for (const key of ["../memory.max", "a/memory.max", "/memory.max", "memory..max", "..", "memory", ""]) {
      expect(() => unifiedFromSpec({ [key]: "1" })).toThrow("a key is a file name of the group such as memory.high");
    }
    expect(() => unifiedFromSpec({ "cgroup.procs": "1" })).toThrow('unified["cgroup.procs"]: not a limit');
    expect(() => unifiedFromSpec({ "cgroup.kill": "1" })).toThrow(/not a limit/);
    expect(() => unifiedFromSpec({ "memory.high": 5 })).toThrow("the value must be a string, not 5");
  });
});

describe("linux.cgroupsPath", () => {
  test("paths: absolute and relative both from the root, as tsd has them; .. refused", () => {
    expect(parseCgroupsPath("/tsd/abc")).toBe("tsd/abc");
    expect(parseCgroupsPath("batch/x/abc")).toBe("batch/x/abc");
    expect(parseCgroupsPath("//a//./b/")).toBe("a/b");
    expect(parseCgroupsPath(undefined)).toBeUndefined();
    expect(parseCgroupsPath("")).toBeUndefined();
    expect(parseCgroupsPath("/")).toBeUndefined();
    expect(() => parseCgroupsPath("/tsd/../../etc")).toThrow(`config.json linux.cgroupsPath "/tsd/../../etc": ".." is not allowed`);
  });
  test("systemd's slice:prefix:name, laid out as systemd (and runc's cgroupfs driver) would", () => {
    expect(parseCgroupsPath("system.slice:tsd:abc")).toBe("system.slice/tsd-abc.scope");
    expect(parseCgroupsPath("machine-tsd.slice:docker:abc")).toBe("machine.slice/machine-tsd.slice/docker-abc.scope");
    expect(parseCgroupsPath(":tsd:abc")).toBe("system.slice/tsd-abc.scope");
    expect(parseCgroupsPath("-.slice:tsd:abc")).toBe("tsd-abc.scope");
    expect(parseCgroupsPath("user.slice::abc")).toBe("user.slice/abc.scope");
    expect(parseCgroupsPath("system.slice:tsd:my-jobs.slice")).toBe("system.slice/my-jobs.slice");
    expect(() => parseCgroupsPath("system.slice:abc")).toThrow(`expected "slice:prefix:name" (systemd) or a path`);
    expect(() => parseCgroupsPath("system:tsd:abc")).toThrow(`invalid slice name "system"`);
    expect(() => parseCgroupsPath("a--b.slice:tsd:abc")).toThrow(/invalid slice name/);
    expect(() => parseCgroupsPath("system.slice:tsd:")).toThrow(/needs a name/);
    expect(() => parseCgroupsPath("system.slice:tsd:../x")).toThrow(/no \/ in prefix or name/);
  });
  test("expandSlice (runc's)", () => {
    expect(expandSlice("system.slice")).toBe("system.slice");
    expect(expandSlice("a-b-c.slice")).toBe("a.slice/a-b.slice/a-b-c.slice");
    expect(expandSlice("-.slice")).toBe("");
    for (const bad of [".slice", "-a.slice", "a-.slice", "a/b.slice", "a.scope"]) expect(() => expandSlice(bad)).toThrow(/invalid slice name/);
  });
});
