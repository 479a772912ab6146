// Resources → the cgroup files that carry them, for v1 and v2, in the order they must be
// written. Pure; the formulas are runc's (libcontainer/cgroups/fs and fs2) and crun's.
import { cfs, effectiveSwap, type Resources, type ThrottleKind } from "./resources";
import { v1DeviceLine, type DeviceRule } from "./devices";
import { TsdError } from "../errors";

export interface CgroupWrite {
  /** The v1 hierarchy the file lives in ("memory", "cpu" …); v2 has one directory. */
  controller: string;
  file: string;
  value: string;
  /** Skipped when the kernel lacks the file (memsw without swap accounting). */
  optional?: boolean;
  /** From linux.resources.unified: the file must exist in the group (else refused). */
  unified?: boolean;
}

/** runc's ConvertCPUSharesToCgroupV2Value: shares 2..262144 onto weight 1..10000. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's ConvertMemorySwapToCgroupV2Value: v1 counts memory+swap, v2 swap alone. */
export function swapToV2(memorySwap: number, memory: number): number {
  if (memory === -1 && memorySwap === 0) return -1;
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === 0 || memory === -1) throw new Error("unable to set a swap limit without a memory limit");
  if (memorySwap < memory) throw new Error("memory+swap limit should be >= memory limit");
  return memorySwap - memory;
}

const limit = (n: number) => (n === -1 ? "max" : String(n));
const v1Limit = (n: number) => String(n); // v1 takes -1 as unlimited

export function v1Files(r: Resources): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  const w = (controller: string, file: string, value: string, optional = false) => out.push({ controller, file, value, ...(optional ? { optional } : {}) });
  // cpuset first: a task cannot join a cpuset group whose cpus/mems are empty.
  if (r.cpusetCpus !== undefined) w("cpuset", "cpuset.cpus", r.cpusetCpus);
  if (r.cpusetMems !== undefined) w("cpuset", "cpuset.mems", r.cpusetMems);
  // memory before memory+swap: the kernel keeps memsw >= memory at every step (the driver
  // swaps the order on update when lowering would break that).
  if (r.memory !== undefined) w("memory", "memory.limit_in_bytes", v1Limit(r.memory));
  const swap = effectiveSwap(r);
  if (swap !== undefined) w("memory", "memory.memsw.limit_in_bytes", v1Limit(swap), true);
  if (r.memoryReservation !== undefined) w("memory", "memory.soft_limit_in_bytes", String(r.memoryReservation));
  if (r.memorySwappiness !== undefined) w("memory", "memory.swappiness", String(r.memorySwappiness));
  if (r.oomKillDisable) w("memory", "memory.oom_control", "1");
  if (r.kernelTcp !== undefined) w("memory", "memory.kmem.tcp.limit_in_bytes", v1Limit(r.kernelTcp));
  if (r.cpuShares !== undefined) w("cpu", "cpu.shares", String(r.cpuShares));
  const { quota, period } = cfs(r);
  if (period !== undefined) w("cpu", "cpu.cfs_period_us", String(period));
  if (quota !== undefined) w("cpu", "cpu.cfs_quota_us", String(quota));
  if (r.realtimePeriod !== undefined) w("cpu", "cpu.rt_period_us", String(r.realtimePeriod));
  if (r.realtimeRuntime !== undefined) w("cpu", "cpu.rt_runtime_us", String(r.realtimeRuntime));
  if (r.pidsLimit !== undefined) w("pids", "pids.max", limit(r.pidsLimit));
  // Without BFQ the kernel has no weight file: skipped, as Docker warns and goes on.
  if (r.blkioWeight !== undefined) w("blkio", "blkio.weight", String(r.blkioWeight), true);
  const files = { readBps: "read_bps_device", writeBps: "write_bps_device", readIops: "read_iops_device", writeIops: "write_iops_device" } as const;
  for (const [kind, file] of Object.entries(files) as [ThrottleKind, string][]) {
    for (const d of r.throttle?.[kind] ?? []) w("blkio", `blkio.throttle.${file}`, `${d.major}:${d.minor} ${d.rate}`);
  }
  return out;
}

/** The device rules in v1's devices hierarchy: each line is one write, in order (deny all first). */
export function v1DeviceFiles(rules: readonly DeviceRule[]): CgroupWrite[] {
  return rules.map((r) => ({ controller: "devices", file: r.allow ? "devices.allow" : "devices.deny", value: v1DeviceLine(r) }));
}

/** runc's ConvertBlkIOToIOWeightValue: blkio weight 10..1000 onto io.weight 1..10000. */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** v2's io.max: one line per device with every limit it has ("8:0 rbps=1048576 wiops=100"). */
export function ioMaxLines(t: Resources["throttle"]): string[] {
  const keys = { readBps: "rbps", writeBps: "wbps", readIops: "riops", writeIops: "wiops" } as const;
  const byDevice = new Map<string, string[]>();
  for (const [kind, key] of Object.entries(keys) as [ThrottleKind, string][]) {
    for (const d of t?.[kind] ?? []) {
      const dev = `${d.major}:${d.minor}`;
      byDevice.set(dev, [...(byDevice.get(dev) ?? []), `${key}=${d.rate}`]);
    }
  }
  return [...byDevice].map(([dev, limits]) => `${dev} ${limits.join(" ")}`);
}

export function v2Files(r: Resources): CgroupWrite[] {
  if (r.realtimePeriod !== undefined || r.realtimeRuntime !== undefined) {
    throw new TsdError("config.json linux.resources.cpu.realtimePeriod/realtimeRuntime: real-time CPU limits need cgroup v1 (CONFIG_RT_GROUP_SCHED): remove them");
  }
  const out: CgroupWrite[] = [];
  const w = (controller: string, file: string, value: string) => out.push({ controller, file, value });
  if (r.cpusetCpus !== undefined) w("cpuset", "cpuset.cpus", r.cpusetCpus);
  if (r.cpusetMems !== undefined) w("cpuset", "cpuset.mems", r.cpusetMems);
  if (r.memory !== undefined) w("memory", "memory.max", limit(r.memory));
  const swap = effectiveSwap(r);
  if (swap !== undefined) {
    const v2 = swapToV2(swap, r.memory ?? 0);
    if (v2 !== 0 || r.memorySwap !== undefined) w("memory", "memory.swap.max", limit(v2));
  }
  if (r.memoryReservation !== undefined) w("memory", "memory.low", String(r.memoryReservation));
  // memory.oom_control has no v2 counterpart (runc ignores disableOOMKiller there too).
  if (r.cpuShares !== undefined) w("cpu", "cpu.weight", String(sharesToWeight(r.cpuShares)));
  const { quota, period } = cfs(r);
  if (quota !== undefined || period !== undefined) {
    w("cpu", "cpu.max", `${quota === undefined || quota <= 0 ? "max" : quota} ${period ?? 100000}`);
  }
  if (r.pidsLimit !== undefined) w("pids", "pids.max", limit(r.pidsLimit));
  if (r.blkioWeight !== undefined) out.push({ controller: "io", file: "io.weight", value: `default ${blkioToIoWeight(r.blkioWeight)}`, optional: true });
  for (const line of ioMaxLines(r.throttle)) w("io", "io.max", line);
  // Last, so they override (runc): the driver checks each names a file of the group.
  for (const [file, value] of Object.entries(r.unified ?? {})) out.push({ controller: "unified", file, value, unified: true });
  return out;
}

/** "oom_kill N" in v1 memory.oom_control or v2 memory.events; 0 when absent. */
export function oomKillCount(text: string): number {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as numbers. */
export function keyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** Bytes read and written from v1 blkio.throttle.io_service_bytes(_recursive). */
export function v1BlkioBytes(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split("\n")) {
    const [, op, v] = line.trim().split(/\s+/);
    if (op === "Read") read += Number(v);
    else if (op === "Write") write += Number(v);
  }
  return { read, write };
}

/** Bytes read and written from v2 io.stat ("8:0 rbytes=… wbytes=…"). */
export function v2IoBytes(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of text.matchAll(/\b(rbytes|wbytes)=(\d+)/g)) {
    if (m[1] === "rbytes") read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}
