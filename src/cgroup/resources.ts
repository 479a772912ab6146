// Resource flags (`-m 512m`, `--cpus 1.5` …) → Resources, with Docker's units and checks.
// Pure: host facts (CPU count, online CPUs and memory nodes) come in as arguments, so every
// rule is unit-tested and a bad value is refused before anything is created.
import { statSync } from "node:fs";
import { UsageError } from "../errors";

/** What a container asked for, in kernel units. Absent = not set (the kernel default). */
export interface Resources {
  memory?: number; // bytes
  memorySwap?: number; // bytes, memory + swap as Docker counts it; -1 unlimited
  memoryReservation?: number; // bytes
  nanoCpus?: number; // --cpus × 1e9
  cpuShares?: number;
  cpuQuota?: number; // µs per period; -1 unlimited
  cpuPeriod?: number; // µs
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number; // > 0, or -1 unlimited
  oomKillDisable?: boolean;
  blkioWeight?: number; // 10..1000 (v1 blkio.weight; v2 io.weight scaled)
  /** --device-read-bps and friends: per block device, bytes or operations per second. */
  throttle?: Partial<Record<ThrottleKind, Throttle[]>>;
  // What only a spec sets (cgroup/spec.ts resourcesFromSpec); tsd's flags never do.
  /** v1 memory.swappiness, 0..100 (v2 has no such file: ignored there, as runc does). */
  memorySwappiness?: number;
  /** v1 memory.kmem.tcp.limit_in_bytes (the spec's memory.kernelTCP); -1 unlimited. v2 has no
   *  such limit (socket memory is charged to memory.max): ignored there, as runc and crun do. */
  kernelTcp?: number;
  /** memorySwap is the spec's, absent = not written: no Docker 2× default (effectiveSwap). */
  swapAsGiven?: boolean;
  /** v1 cpu.rt_period_us / cpu.rt_runtime_us (the spec's cpu.realtimePeriod/Runtime, µs): real-time
   *  scheduling needs CONFIG_RT_GROUP_SCHED, which v2 lacks (refused there, as runc). */
  realtimePeriod?: number;
  realtimeRuntime?: number;
  /** cgroup v2 files by name, written verbatim after the others (refused on v1). */
  unified?: Record<string, string>;
}

export type ThrottleKind = "readBps" | "writeBps" | "readIops" | "writeIops";

export interface Throttle {
  path: string; // as given (/dev/sda), for inspect
  major: number;
  minor: number;
  rate: number;
}

/** A block device's numbers, or why it cannot be throttled (the flag's error says it). */
export type BlockDevice = { major: number; minor: number } | { error: string };

export interface ResourceFlags {
  memory?: string;
  "memory-swap"?: string;
  "memory-reservation"?: string;
  cpus?: string;
  "cpu-shares"?: string;
  "cpu-quota"?: string;
  "cpu-period"?: string;
  "cpuset-cpus"?: string;
  "cpuset-mems"?: string;
  "pids-limit"?: string;
  "oom-kill-disable"?: boolean;
  "blkio-weight"?: string;
  "device-read-bps"?: string[];
  "device-write-bps"?: string[];
  "device-read-iops"?: string[];
  "device-write-iops"?: string[];
}

/** Docker's minimum for -m and --memory-reservation. */
export const MIN_MEMORY = 6 * 1024 * 1024;
export const DEFAULT_CPU_PERIOD = 100000;

const SIZE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const UNIT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512m", "1.5g", "100 KiB", a bare number of bytes; binary multiples. */
export function parseBytes(text: string): number | undefined {
  const m = SIZE.exec(text);
  if (!m) return undefined;
  const n = Number.parseFloat(m[1]!);
  if (!Number.isFinite(n)) return undefined;
  const v = Math.trunc(n * (m[2] ? UNIT[m[2].toLowerCase()]! : 1));
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Docker's ParseCPUs: a decimal number of CPUs → nano-CPUs, refused when finer than 1e-9. */
export function parseNanoCpus(text: string): number | undefined {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
  const frac = (m[2] ?? "").replace(/0+$/, "");
  if (frac.length > 9) return undefined;
  const v = Number(m[1] || "0") * 1e9 + Number(frac.padEnd(9, "0") || "0");
  return Number.isSafeInteger(v) ? v : undefined;
}

/** "0-3,5": the CPU or node numbers of a cpuset list, or undefined when malformed. */
export function parseCpuList(text: string): Set<number> | undefined {
  const out = new Set<number>();
  if (text.trim() === "") return out;
  for (const part of text.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > 8191) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

const bad = (flag: string, value: string, why: string) => new UsageError(`invalid argument "${value}" for "--${flag}" flag: ${why}`);

function bytesFlag(flag: string, v: string | undefined, allowUnlimited = false): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (allowUnlimited && v === "-1") return -1;
  const n = parseBytes(v);
  if (n === undefined) throw bad(flag, v, "invalid size (use a number with an optional unit b, k, m, g, t: 512m, 1.5g)");
  return n;
}

function intFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad(flag, v, "not an integer");
  return Number(v);
}

/** The flags' syntax and their rules among themselves (Docker's verifyPlatformContainerResources).
 *  `base`: the limits a running container has (`tsd update`); flags given replace them. */
export function resourcesFromFlags(f: ResourceFlags, base: Resources = {}, blockDevice: (path: string) => BlockDevice = hostBlockDevice): Resources {
  const given = parseEach(f, blockDevice);
  const r: Resources = { ...base, ...given };
  if (given.nanoCpus !== undefined) {
    delete r.cpuQuota;
    delete r.cpuPeriod;
  } else if (given.cpuQuota !== undefined || given.cpuPeriod !== undefined) {
    delete r.nanoCpus;
  }
  if (given.memorySwap !== undefined) {
    if (r.memory === undefined) throw new UsageError(`--memory-swap needs a memory limit: set -m/--memory as well`);
    if (given.memorySwap !== -1 && given.memorySwap < r.memory) throw new UsageError(`minimum memory-swap limit should be larger than the memory limit: --memory-swap counts memory plus swap`);
  } else if (given.memory !== undefined && r.memorySwap !== undefined && r.memorySwap !== -1 && r.memorySwap < given.memory) {
    throw new UsageError(`memory limit should be smaller than the already set memory-swap limit: update --memory-swap as well`);
  }
  if (r.memoryReservation !== undefined && r.memory !== undefined && r.memory < r.memoryReservation) {
    throw new UsageError(`minimum memory limit can not be less than memory reservation limit: lower --memory-reservation or raise -m`);
  }
  if (given.nanoCpus !== undefined && (given.cpuPeriod !== undefined || given.cpuQuota !== undefined)) {
    throw new UsageError(`conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set: use one or the other`);
  }
  return r;
}

const THROTTLE_FLAGS = [
  ["device-read-bps", "readBps", true],
  ["device-write-bps", "writeBps", true],
  ["device-read-iops", "readIops", false],
  ["device-write-iops", "writeIops", false],
] as const;

/** "/dev/sda:1mb" (bps: a size; iops: a count) → the device's numbers and the rate. */
export function parseThrottle(flag: string, v: string, bytes: boolean, blockDevice: (path: string) => BlockDevice): Throttle {
  const colon = v.lastIndexOf(":");
  const path = v.slice(0, colon);
  const rateText = v.slice(colon + 1);
  if (colon <= 0 || !path.startsWith("/dev/")) throw bad(flag, v, "use DEVICE:RATE with a device under /dev, such as /dev/sda:1mb");
  const rate = bytes ? parseBytes(rateText) : /^\d+$/.test(rateText) ? Number(rateText) : undefined;
  if (rate === undefined || !Number.isSafeInteger(rate)) throw bad(flag, v, bytes ? "the rate is a size, such as 1mb or 512k" : "the rate is a whole number of operations per second");
  const dev = blockDevice(path);
  if ("error" in dev) throw bad(flag, v, dev.error);
  return { path, major: dev.major, minor: dev.minor, rate };
}

/** stat(2) of a /dev path: it must be a block device (Docker's rule). */
export function hostBlockDevice(path: string): BlockDevice {
  try {
    const st = statSync(path, { bigint: true });
    if (!st.isBlockDevice()) return { error: `${path} is not a block device` };
    const rdev = st.rdev;
    return { major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)) };
  } catch {
    return { error: `no such device ${path}` };
  }
}

function parseEach(f: ResourceFlags, blockDevice: (path: string) => BlockDevice): Resources {
  const r: Resources = {};
  const weight = intFlag("blkio-weight", f["blkio-weight"]);
  if (weight !== undefined && weight !== 0) {
    if (weight < 10 || weight > 1000) throw bad("blkio-weight", f["blkio-weight"]!, "the range is 10 to 1000");
    r.blkioWeight = weight;
  }
  for (const [flag, kind, bytes] of THROTTLE_FLAGS) {
    const values = f[flag] ?? [];
    if (values.length > 0) (r.throttle ??= {})[kind] = values.map((v) => parseThrottle(flag, v, bytes, blockDevice));
  }
  const memory = bytesFlag("memory", f.memory);
  const swap = bytesFlag("memory-swap", f["memory-swap"], true);
  const reservation = bytesFlag("memory-reservation", f["memory-reservation"]);
  if (memory !== undefined && memory > 0) {
    if (memory < MIN_MEMORY) throw new UsageError(`minimum memory limit allowed is 6MB: give -m 6m or more`);
    r.memory = memory;
  }
  if (swap !== undefined && swap !== 0) r.memorySwap = swap;
  if (reservation !== undefined && reservation > 0) {
    if (reservation < MIN_MEMORY) throw new UsageError(`minimum memory reservation allowed is 6MB: give --memory-reservation 6m or more`);
    r.memoryReservation = reservation;
  }
  if (f.cpus !== undefined && f.cpus !== "") {
    const nano = parseNanoCpus(f.cpus);
    if (nano === undefined) throw bad("cpus", f.cpus, "use a decimal number of CPUs such as 1.5 (at most 9 decimals)");
    if (nano > 0) r.nanoCpus = nano;
  }
  const shares = intFlag("cpu-shares", f["cpu-shares"]);
  if (shares !== undefined && shares !== 0) {
    if (shares < 2 || shares > 262144) throw bad("cpu-shares", f["cpu-shares"]!, "the range is 2 to 262144 (1024 is the default weight)");
    r.cpuShares = shares;
  }
  const period = intFlag("cpu-period", f["cpu-period"]);
  if (period !== undefined && period !== 0) {
    if (period < 1000 || period > 1000000) throw new UsageError(`CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000): fix --cpu-period`);
    r.cpuPeriod = period;
  }
  const quota = intFlag("cpu-quota", f["cpu-quota"]);
  if (quota !== undefined && quota !== 0) {
    if (quota !== -1 && quota < 1000) throw new UsageError(`CPU cfs quota can not be less than 1ms (i.e. 1000): fix --cpu-quota (-1 is unlimited)`);
    r.cpuQuota = quota;
  }
  for (const [flag, key] of [["cpuset-cpus", "cpusetCpus"], ["cpuset-mems", "cpusetMems"]] as const) {
    const v = f[flag];
    if (v === undefined || v === "") continue;
    if (!parseCpuList(v)) throw bad(flag, v, `use a list such as 0-2,4`);
    r[key] = v.trim();
  }
  const pids = intFlag("pids-limit", f["pids-limit"]);
  if (pids !== undefined && pids !== 0) r.pidsLimit = pids < 0 ? -1 : pids;
  if (f["oom-kill-disable"]) r.oomKillDisable = true;
  return r;
}

export interface HostCpus {
  /** CPUs this process may run on (Docker's NumCPU). */
  count: number;
  online: string; // /sys/devices/system/cpu/online
  mems: string; // /sys/devices/system/node/online, "0" without NUMA
}

/** The checks that need the host: --cpus within the CPU count, cpusets that exist. */
export function checkAgainstHost(r: Resources, host: HostCpus): void {
  if (r.nanoCpus !== undefined && (r.nanoCpus < 1e7 || r.nanoCpus > host.count * 1e9)) {
    throw new UsageError(`range of CPUs is from 0.01 to ${host.count}.00, as there are only ${host.count} CPUs available: lower --cpus`);
  }
  const check = (want: string | undefined, have: string, what: string, flag: string) => {
    if (want === undefined) return;
    const avail = parseCpuList(have) ?? new Set();
    const missing = [...parseCpuList(want)!].filter((c) => !avail.has(c));
    if (missing.length > 0) throw new UsageError(`requested ${what} are not available - requested ${want}, available: ${have}: fix --${flag}`);
  };
  check(r.cpusetCpus, host.online, "CPUs", "cpuset-cpus");
  check(r.cpusetMems, host.mems, "memory nodes", "cpuset-mems");
}

/** `--cgroup-parent`: a path of plain names below which `<id>` is created. */
export function parseCgroupParent(v: string | undefined): string | undefined {
  if (v === undefined || v === "") return undefined;
  const parts = v.split("/").filter((p) => p !== "");
  if (parts.length === 0 || parts.some((p) => p === "." || p === ".." || /[\0\n]/.test(p))) {
    throw bad("cgroup-parent", v, "use a cgroup path such as /mygroup or a/b, without . or ..");
  }
  return parts.join("/");
}

/** The container's group, relative to each hierarchy's root: `tsd/<id>` or `<parent>/<id>`. */
export function groupPath(id: string, parent?: string): string {
  return `${parent ?? DEFAULT_PARENT}/${id}`;
}

/** The parent tsd makes for its containers' groups when no --cgroup-parent is given (and
 *  removes once empty: a parent the user names is theirs to keep). */
export const DEFAULT_PARENT = "tsd";

/** cpu quota/period after Docker turns --cpus into CFS values. */
export function cfs(r: Resources): { quota?: number; period?: number } {
  if (r.nanoCpus !== undefined) return { quota: Math.round((r.nanoCpus * DEFAULT_CPU_PERIOD) / 1e9), period: DEFAULT_CPU_PERIOD };
  return { quota: r.cpuQuota, period: r.cpuPeriod };
}

/** Docker's daemon default: with -m and no --memory-swap, swap may equal the memory (2×m in all). */
export function effectiveSwap(r: Resources): number | undefined {
  if (r.memorySwap !== undefined || r.swapAsGiven) return r.memorySwap;
  return r.memory !== undefined ? r.memory * 2 : undefined;
}

/** The OCI spec's linux.resources for these resources (runtime-spec, v1 units). */
export function ociResources(r: Resources): Record<string, unknown> {
  const { quota, period } = cfs(r);
  const memory = {
    ...(r.memory !== undefined ? { limit: r.memory } : {}),
    ...(r.memoryReservation !== undefined ? { reservation: r.memoryReservation } : {}),
    ...(effectiveSwap(r) !== undefined ? { swap: effectiveSwap(r) } : {}),
    ...(r.oomKillDisable ? { disableOOMKiller: true } : {}),
  };
  const cpu = {
    ...(r.cpuShares !== undefined ? { shares: r.cpuShares } : {}),
    ...(quota !== undefined ? { quota } : {}),
    ...(period !== undefined ? { period } : {}),
    ...(r.cpusetCpus !== undefined ? { cpus: r.cpusetCpus } : {}),
    ...(r.cpusetMems !== undefined ? { mems: r.cpusetMems } : {}),
  };
  const oci = (t: Throttle[] | undefined) => (t ?? []).map((d) => ({ major: d.major, minor: d.minor, rate: d.rate }));
  const blockIO = {
    ...(r.blkioWeight !== undefined ? { weight: r.blkioWeight } : {}),
    ...(r.throttle?.readBps ? { throttleReadBpsDevice: oci(r.throttle.readBps) } : {}),
    ...(r.throttle?.writeBps ? { throttleWriteBpsDevice: oci(r.throttle.writeBps) } : {}),
    ...(r.throttle?.readIops ? { throttleReadIOPSDevice: oci(r.throttle.readIops) } : {}),
    ...(r.throttle?.writeIops ? { throttleWriteIOPSDevice: oci(r.throttle.writeIops) } : {}),
  };
  return {
    ...(Object.keys(memory).length ? { memory } : {}),
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(r.pidsLimit !== undefined ? { pids: { limit: r.pidsLimit } } : {}),
    ...(Object.keys(blockIO).length ? { blockIO } : {}),
  };
}

function throttleInspect(t: Throttle[] | undefined): { Path: string; Rate: number }[] | null {
  return t && t.length > 0 ? t.map((d) => ({ Path: d.path, Rate: d.rate })) : null;
}

/** docker inspect's HostConfig resource fields (0 / "" / null where unset, as Docker shows). */
export function hostConfigResources(r: Resources): Record<string, unknown> {
  return {
    Memory: r.memory ?? 0,
    MemoryReservation: r.memoryReservation ?? 0,
    MemorySwap: effectiveSwap(r) ?? 0,
    NanoCpus: r.nanoCpus ?? 0,
    CpuShares: r.cpuShares ?? 0,
    CpuPeriod: r.cpuPeriod ?? 0,
    CpuQuota: r.cpuQuota ?? 0,
    CpusetCpus: r.cpusetCpus ?? "",
    CpusetMems: r.cpusetMems ?? "",
    PidsLimit: r.pidsLimit ?? null,
    OomKillDisable: r.oomKillDisable ?? false,
    BlkioWeight: r.blkioWeight ?? 0,
    BlkioDeviceReadBps: throttleInspect(r.throttle?.readBps),
    BlkioDeviceWriteBps: throttleInspect(r.throttle?.writeBps),
    BlkioDeviceReadIOps: throttleInspect(r.throttle?.readIops),
    BlkioDeviceWriteIOps: throttleInspect(r.throttle?.writeIops),
  };
}
