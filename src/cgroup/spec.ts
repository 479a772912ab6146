// An OCI bundle's cgroup, read from its config.json: linux.cgroupsPath → the group, and
// linux.resources → what the driver writes. Pure, so every field's meaning is unit-tested
// without root. The bundle is the source of a container's limits: tsd's own specs (written by
// container/spec.ts from the flags) and a foreign one (containerd's, issue 12) go the same way.
import { TsdError } from "../errors";
import { DEFAULT_DEVICE_RULES, type DeviceRule } from "./devices";
import type { Resources, Throttle, ThrottleKind } from "./resources";

/** What the driver writes for a spec: the limits in the kernel's meaning (no Docker default
 *  applies: a swap the spec does not set is not written), the device rules, v2's own files. */
export interface SpecLimits {
  resources: Resources;
  devices: DeviceRule[];
}

const where = "config.json linux.resources";
const refuse = (field: string, why: string) => new TsdError(`${where}.${field}: ${why}`);

type Json = Record<string, unknown>;

function obj(v: unknown, field: string): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw refuse(field, "must be an object");
  return v as Json;
}

/** An int64 of the spec; undefined when absent. */
function int(o: Json | undefined, key: string, field: string): number | undefined {
  const v = o?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw refuse(`${field}.${key}`, `must be an integer, not ${JSON.stringify(v)}`);
  return v;
}

/** A limit where 0 means "not set" and any negative value "unlimited" (runc). */
function limitOf(o: Json | undefined, key: string, field: string): number | undefined {
  const v = int(o, key, field);
  if (v === undefined || v === 0) return undefined;
  return v < 0 ? -1 : v;
}

function positive(o: Json | undefined, key: string, field: string): number | undefined {
  const v = int(o, key, field);
  if (v === undefined || v === 0) return undefined;
  if (v < 0) throw refuse(`${field}.${key}`, `must not be negative (${v})`);
  return v;
}

function memoryOf(m: Json | undefined, r: Resources): void {
  const limit = limitOf(m, "limit", "memory");
  const swap = limitOf(m, "swap", "memory");
  const reservation = positive(m, "reservation", "memory");
  if (limit !== undefined) r.memory = limit;
  if (swap !== undefined) {
    // memory+swap, as v1 counts it: without a memory limit only "unlimited" has a meaning
    // (runc's error on v2; the v1 kernel refuses a memsw below the unlimited memory).
    if (swap !== -1 && (limit === undefined || limit === -1)) throw refuse("memory.swap", "a swap limit needs memory.limit as well (swap counts memory plus swap)");
    if (swap !== -1 && limit !== undefined && swap < limit) throw refuse("memory.swap", `must be at least memory.limit (${swap} < ${limit}): swap counts memory plus swap`);
    r.memorySwap = swap;
  }
  if (reservation !== undefined) r.memoryReservation = reservation;
  const swappiness = int(m, "swappiness", "memory");
  if (swappiness !== undefined && swappiness >= 0) {
    if (swappiness > 100) throw refuse("memory.swappiness", `the range is 0 to 100, not ${swappiness}`);
    r.memorySwappiness = swappiness;
  }
  if (m?.disableOOMKiller === true) r.oomKillDisable = true;
  // memory.kernel (kmem.limit_in_bytes) is gone from the kernel (6.x ignores it): not written,
  // as crun; kernelTCP still limits socket buffers on v1.
  const kernelTcp = limitOf(m, "kernelTCP", "memory");
  if (kernelTcp !== undefined) r.kernelTcp = kernelTcp;
  // swapAsGiven: the spec's swap is the whole truth (Docker's 2× default was applied when
  // tsd wrote it, and a foreign spec without one leaves the kernel's default).
  r.swapAsGiven = true;
}

function cpuOf(c: Json | undefined, r: Resources): void {
  const shares = positive(c, "shares", "cpu");
  const quota = limitOf(c, "quota", "cpu");
  const period = positive(c, "period", "cpu");
  if (shares !== undefined) r.cpuShares = shares;
  if (quota !== undefined) r.cpuQuota = quota;
  if (period !== undefined) r.cpuPeriod = period;
  for (const [key, field] of [["cpus", "cpusetCpus"], ["mems", "cpusetMems"]] as const) {
    const v = c?.[key];
    if (v === undefined || v === null || v === "") continue;
    if (typeof v !== "string" || !/^[0-9,\- ]+$/.test(v)) throw refuse(`cpu.${key}`, `must be a list such as "0-2,4", not ${JSON.stringify(v)}`);
    r[field] = v.trim();
  }
  // Real-time scheduling: cgroup v1 with CONFIG_RT_GROUP_SCHED (the files must exist; v2
  // refuses it, files.ts). runtime -1: no limit.
  const rtPeriod = positive(c, "realtimePeriod", "cpu");
  const rtRuntime = int(c, "realtimeRuntime", "cpu");
  if (rtPeriod !== undefined) r.realtimePeriod = rtPeriod;
  if (rtRuntime !== undefined && rtRuntime !== 0) {
    if (rtRuntime < -1) throw refuse("cpu.realtimeRuntime", `must be -1 (no limit) or a number of µs, not ${rtRuntime}`);
    r.realtimeRuntime = rtRuntime;
  }
}

const THROTTLES: [string, ThrottleKind][] = [
  ["throttleReadBpsDevice", "readBps"],
  ["throttleWriteBpsDevice", "writeBps"],
  ["throttleReadIOPSDevice", "readIops"],
  ["throttleWriteIOPSDevice", "writeIops"],
];

function blockIOOf(b: Json | undefined, r: Resources): void {
  const weight = positive(b, "weight", "blockIO");
  if (weight !== undefined) {
    if (weight < 10 || weight > 1000) throw refuse("blockIO.weight", `the range is 10 to 1000, not ${weight}`);
    r.blkioWeight = weight;
  }
  if (Array.isArray(b?.weightDevice) && b.weightDevice.length > 0) throw refuse("blockIO.weightDevice", "per-device weights are not supported by tsd: use blockIO.weight");
  for (const [key, kind] of THROTTLES) {
    const list = b?.[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw refuse(`blockIO.${key}`, "must be a list");
    const devices = list.map((d, i): Throttle => {
      const e = obj(d, `blockIO.${key}[${i}]`);
      const [major, minor, rate] = ["major", "minor", "rate"].map((k) => int(e, k, `blockIO.${key}[${i}]`));
      if (major === undefined || minor === undefined || rate === undefined || major < 0 || minor < 0 || rate < 0) {
        throw refuse(`blockIO.${key}[${i}]`, "needs major, minor and rate, none negative");
      }
      return { path: `${major}:${minor}`, major, minor, rate };
    });
    if (devices.length > 0) (r.throttle ??= {})[kind] = devices;
  }
}

/** A rule's access: its letters of "rwm" in that order. Other letters are dropped, as runc's
 *  rule emulator ignores them (runc's own tests write "rwa"); none of r, w, m is refused. */
export function accessOf(v: unknown): string | undefined {
  if (typeof v !== "string" || !/^[a-z]{1,8}$/.test(v)) return undefined;
  const kept = [..."rwm"].filter((c) => v.includes(c)).join("");
  return kept === "" ? undefined : kept;
}

/** linux.resources.devices → rules, as runc reads them: type absent is "a", access absent
 *  "rwm", major/minor absent or -1 any. Every list starts from "deny all" (runc's emulator),
 *  and the devices every container has stay allowed unless the spec lists them itself. */
export function deviceRulesFromSpec(v: unknown): DeviceRule[] {
  if (v === undefined || v === null) return [...DEFAULT_DEVICE_RULES];
  if (!Array.isArray(v)) throw refuse("devices", "must be a list");
  const rules = v.map((d, i): DeviceRule => {
    const field = `devices[${i}]`;
    const e = obj(d, field)!;
    if (typeof e.allow !== "boolean") throw refuse(`${field}.allow`, "must be true or false");
    const type = e.type ?? "a";
    if (type !== "a" && type !== "b" && type !== "c") throw refuse(`${field}.type`, `must be "a", "b" or "c", not ${JSON.stringify(type)}`);
    const access = accessOf(e.access ?? "rwm");
    if (access === undefined) throw refuse(`${field}.access`, `must be letters of "rwm", not ${JSON.stringify(e.access)}`);
    const num = (k: string) => {
      const n = int(e, k, field);
      if (n !== undefined && n < -1) throw refuse(`${field}.${k}`, `must be -1 (any) or a device number, not ${n}`);
      return n === undefined || n === -1 ? undefined : n;
    };
    const [major, minor] = [num("major"), num("minor")];
    return { allow: e.allow, type, ...(major !== undefined ? { major } : {}), ...(minor !== undefined ? { minor } : {}), access };
  });
  if (rules.length === 0) return [...DEFAULT_DEVICE_RULES];
  const first = rules[0]!;
  const base = first.type === "a" ? [] : [DEFAULT_DEVICE_RULES[0]!];
  const same = (a: DeviceRule, b: DeviceRule) => a.allow === b.allow && a.type === b.type && a.major === b.major && a.minor === b.minor && a.access === b.access;
  const missing = DEFAULT_DEVICE_RULES.slice(1).filter((d) => !rules.some((x) => same(x, d)));
  // Privileged ("allow a") needs nothing more.
  const allowsAll = rules.length === 1 && first.allow && first.type === "a";
  return [...base, ...rules, ...(allowsAll ? [] : missing)];
}

/** `unified`: cgroup v2 files by name, written verbatim. A key is one file name of the group:
 *  no path separator, no "..", not a file that moves or kills processes. Whether the file
 *  exists is the driver's check (it knows the group). */
export function unifiedFromSpec(v: unknown): Record<string, string> | undefined {
  const u = obj(v, "unified");
  if (u === undefined || Object.keys(u).length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(u)) {
    if (!/^[a-z0-9_]+\.[a-z0-9_.]+$/i.test(key) || key.includes("..")) {
      throw refuse(`unified["${key}"]`, "a key is a file name of the group such as memory.high: no path separator, no ..");
    }
    if (["cgroup.procs", "cgroup.threads", "cgroup.kill", "cgroup.subtree_control", "cgroup.type"].includes(key)) {
      throw refuse(`unified["${key}"]`, "not a limit: the runtime manages that file");
    }
    if (typeof value !== "string") throw refuse(`unified["${key}"]`, `the value must be a string, not ${JSON.stringify(value)}`);
    out[key] = value;
  }
  return out;
}

/** OCI runtime-spec LinuxResources → what the cgroup driver writes. Refuses (with the field's
 *  name) what tsd cannot apply rather than starting a container without it. */
export function resourcesFromSpec(linuxResources: unknown): SpecLimits {
  const lr = obj(linuxResources, "") ?? {};
  const r: Resources = {};
  memoryOf(obj(lr.memory, "memory"), r);
  cpuOf(obj(lr.cpu, "cpu"), r);
  const pids = limitOf(obj(lr.pids, "pids"), "limit", "pids");
  if (pids !== undefined) r.pidsLimit = pids;
  blockIOOf(obj(lr.blockIO, "blockIO"), r);
  for (const key of ["hugepageLimits", "network", "rdma"]) {
    const v = lr[key];
    const empty = v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : typeof v === "object" && Object.keys(v).length === 0);
    if (!empty) throw refuse(key, "not supported by tsd: remove the field");
  }
  const unified = unifiedFromSpec(lr.unified);
  if (unified) r.unified = unified;
  return { resources: r, devices: deviceRulesFromSpec(lr.devices) };
}

/** runc's ExpandSlice: "a-b.slice" → "a.slice/a-b.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string {
  const bad = () => new TsdError(`config.json linux.cgroupsPath: invalid slice name "${slice}": use a systemd slice such as system.slice or a-b.slice`);
  if (!slice.endsWith(".slice") || slice.length <= ".slice".length || slice.includes("/")) throw bad();
  const name = slice.slice(0, -".slice".length);
  if (name === "-") return "";
  const parts = name.split("-");
  if (parts.some((p) => p === "")) throw bad();
  return parts.map((_, i) => `${parts.slice(0, i + 1).join("-")}.slice`).join("/");
}

/** linux.cgroupsPath → the group below each hierarchy's root. A path ("/tsd/ID", "a/b": both
 *  from the root, as tsd always had them), or systemd's "slice:prefix:name" laid out as
 *  systemd would ("system.slice:tsd:ID" → system.slice/tsd-ID.scope; a name ending in .slice
 *  is that slice), which is where runc's cgroupfs driver puts it too. Undefined: no group. */
export function parseCgroupsPath(path: string | undefined): string | undefined {
  if (path === undefined || path === "") return undefined;
  const bad = (why: string) => new TsdError(`config.json linux.cgroupsPath "${path}": ${why}`);
  if (/[\0\n]/.test(path)) throw bad("control characters are not allowed");
  let parts: string[];
  if (!path.startsWith("/") && path.includes(":")) {
    const fields = path.split(":");
    if (fields.length !== 3) throw bad(`expected "slice:prefix:name" (systemd) or a path`);
    const [slice, prefix, name] = fields as [string, string, string];
    if (name === "" || name.includes("/") || prefix.includes("/")) throw bad("the systemd form needs a name, and no / in prefix or name");
    const unit = name.endsWith(".slice") ? name : prefix === "" ? `${name}.scope` : `${prefix}-${name}.scope`;
    if (unit.endsWith(".slice")) expandSlice(unit); // a slice's name must be one
    const sliceDir = expandSlice(slice === "" ? "system.slice" : slice);
    parts = [...sliceDir.split("/"), unit].filter((p) => p !== "");
  } else {
    parts = path.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) throw bad(`".." is not allowed`);
  }
  return parts.length > 0 ? parts.join("/") : undefined;
}
