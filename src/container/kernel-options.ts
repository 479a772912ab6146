// The kernel-facing run/create flags (issue 14 item 4): --pid, --ipc, --uts, --sysctl,
// --ulimit, --shm-size, --device, --group-add, --init → the RunOptions fields below, with
// Docker 20.10's checks and words. Pure: the namespaces' targets, the device nodes and the
// groups are looked up at create (kernel-create.ts).
import { UsageError } from "../errors";
import { parseNetworkMode } from "../network/ports";

/** `--ulimit name=soft[:hard]` (Docker's go-units Ulimit); -1 is unlimited. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** A node made in the container for `--device`, found at create from the host path. */
export interface DeviceNode {
  path: string; // in the container
  type: "c" | "b";
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

/** `--device HOST[:CONTAINER[:rwm]]` (Docker's DeviceMapping). */
export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  cgroupPermissions: string;
  /** Filled in at create: the host node (or every node under a host directory). */
  nodes?: DeviceNode[];
}

/** The fields these flags add to RunOptions; all optional (rows made before them lack them). */
export interface KernelOptions {
  /** --pid: "host" or "container:REF"; unset: a private pid namespace. */
  pidMode?: string;
  /** --ipc: "host", "container:REF", "shareable", "private" or "none"; unset: private. */
  ipcMode?: string;
  /** --uts: "host"; unset: a private uts namespace. */
  utsMode?: string;
  sysctls?: Record<string, string>;
  ulimits?: Ulimit[];
  /** --shm-size in bytes; unset: Docker's 64 MiB. */
  shmSize?: number;
  devices?: DeviceMapping[];
  /** --group-add names or gids, resolved against the image's /etc/group at create. */
  groupAdd?: string[];
  /** --init: tsd-init as PID 1 before the command (kernel-spec.ts). */
  init?: boolean;
}

export interface KernelFlags {
  pid?: string;
  ipc?: string;
  uts?: string;
  sysctl?: string[];
  ulimit?: string[];
  "shm-size"?: string;
  device?: string[];
  "group-add"?: string[];
  init?: boolean;
  hostname?: string;
  network?: string;
}

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export function kernelOptionsFromFlags(f: KernelFlags): KernelOptions {
  const pidMode = checkMode("pid", f.pid, ["host"], "PID", "host or container:NAME");
  const ipcMode = checkMode("ipc", f.ipc, ["host", "shareable", "private", "none"], "IPC", "host, container:NAME, shareable, private or none");
  const utsMode = checkMode("uts", f.uts, ["host"], "UTS", "host");
  if (utsMode === "host" && f.hostname !== undefined) {
    throw new UsageError("conflicting options: hostname and the UTS mode: drop -h/--hostname or --uts host");
  }
  const sysctls = parseSysctls(f.sysctl ?? [], { network: f.network, ipcMode, utsMode });
  const ulimits = (f.ulimit ?? []).reduce<Ulimit[]>((all, u) => {
    const parsed = parseUlimit(u);
    return [...all.filter((x) => x.name !== parsed.name), parsed];
  }, []);
  const shmSize = f["shm-size"] === undefined ? undefined : parseShmSize(f["shm-size"]);
  const devices = (f.device ?? []).map(parseDevice);
  const groupAdd = f["group-add"] ?? [];
  for (const g of groupAdd) if (g === "" || g.includes(":")) throw new UsageError(`invalid --group-add "${g}": use a group name or a numeric gid`);
  return {
    ...(pidMode !== undefined ? { pidMode } : {}),
    ...(ipcMode !== undefined ? { ipcMode } : {}),
    ...(utsMode !== undefined ? { utsMode } : {}),
    ...(Object.keys(sysctls).length ? { sysctls } : {}),
    ...(ulimits.length ? { ulimits } : {}),
    ...(shmSize !== undefined && shmSize > 0 ? { shmSize } : {}),
    ...(devices.length ? { devices } : {}),
    ...(groupAdd.length ? { groupAdd } : {}),
    ...(f.init ? { init: true } : {}),
  };
}

/** A namespace mode: one of `plain`, or container:REF. "" is unset, as Docker's. */
function checkMode(flag: string, v: string | undefined, plain: string[], what: string, hint: string): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (plain.includes(v)) return v;
  if (flag !== "uts" && v.startsWith("container:") && v.length > "container:".length) return v;
  throw new UsageError(`--${flag}: invalid ${what} mode "${v}": use ${hint}`);
}

/** The REF of a container:REF mode, else undefined. */
export function joinedContainer(mode: string | undefined): string | undefined {
  return mode?.startsWith("container:") ? mode.slice("container:".length) : undefined;
}

// Docker's ValidateSysctl (cli/opts) and runc's namespace check (libcontainer/configs/validate).
const IPC_SYSCTLS = new Set(["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]);

interface SysctlNamespaces {
  network?: string;
  ipcMode?: string;
  utsMode?: string;
}

export function parseSysctls(list: string[], ns: SysctlNamespaces): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (eq <= 0) throw new UsageError(`invalid argument "${kv}" for "--sysctl" flag: use KEY=VALUE`);
    if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/i.test(key)) throw new UsageError(`invalid argument "${kv}" for "--sysctl" flag: "${key}" is not a sysctl name`);
    checkSysctlNamespace(key, ns);
    out[key] = kv.slice(eq + 1);
  }
  return out;
}

function checkSysctlNamespace(key: string, ns: SysctlNamespaces): void {
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) {
    if (ns.ipcMode === "host") throw new UsageError(`sysctl "${key}" is not allowed in the host's ipc namespace: drop --ipc host or the sysctl`);
    return;
  }
  if (key.startsWith("net.")) {
    if (parseNetworkMode(ns.network).kind === "host") throw new UsageError(`sysctl "${key}" is not allowed in the host's network namespace: drop --network host or the sysctl`);
    return;
  }
  if (key === "kernel.domainname") {
    if (ns.utsMode === "host") throw new UsageError(`sysctl "${key}" is not allowed in the host's uts namespace: drop --uts host or the sysctl`);
    return;
  }
  if (key === "kernel.hostname") throw new UsageError(`sysctl "kernel.hostname" is not allowed as it conflicts with the hostname: use -h/--hostname`);
  throw new UsageError(`sysctl '${key}' is not whitelisted: only net.*, fs.mqueue.*, kernel.msg*/sem/shm* and kernel.domainname are namespaced`);
}

// go-units' ulimit names → the kernel's (OCI process.rlimits types).
export const ULIMIT_NAMES: Record<string, string> = {
  core: "RLIMIT_CORE", cpu: "RLIMIT_CPU", data: "RLIMIT_DATA", fsize: "RLIMIT_FSIZE", locks: "RLIMIT_LOCKS",
  memlock: "RLIMIT_MEMLOCK", msgqueue: "RLIMIT_MSGQUEUE", nice: "RLIMIT_NICE", nofile: "RLIMIT_NOFILE",
  nproc: "RLIMIT_NPROC", rss: "RLIMIT_RSS", rtprio: "RLIMIT_RTPRIO", rttime: "RLIMIT_RTTIME",
  sigpending: "RLIMIT_SIGPENDING", stack: "RLIMIT_STACK", as: "RLIMIT_AS",
};

export function parseUlimit(text: string): Ulimit {
  const bad = (why: string) => new UsageError(`invalid argument "${text}" for "--ulimit" flag: ${why}`);
  const eq = text.indexOf("=");
  if (eq < 0) throw bad(`invalid ulimit argument: ${text} (use NAME=SOFT[:HARD])`);
  const name = text.slice(0, eq);
  if (!(name in ULIMIT_NAMES)) throw bad(`invalid ulimit type: ${name} (one of ${Object.keys(ULIMIT_NAMES).join(", ")})`);
  const values = text.slice(eq + 1).split(":");
  if (values.length > 2) throw bad(`too many limit value arguments - ${text.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const num = (s: string) => {
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < -1) throw bad(`invalid limit "${s}": use a number, or -1 for unlimited`);
    return Number(s);
  };
  const soft = num(values[0]!);
  const hard = values.length === 2 ? num(values[1]!) : soft;
  if (hard !== -1 && (soft === -1 || soft > hard)) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

/** Docker's RAMInBytes: a number with an optional b/k/m/g/t/p unit (binary), optional "b" after. */
export function parseShmSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid argument "${text}" for "--shm-size" flag: invalid size: '${text}' (use e.g. 64m, 1g)`);
  const unit = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40, p: 2 ** 50 }[m[2]!.toLowerCase() as "" | "k"]!;
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`invalid argument "${text}" for "--shm-size" flag: too large`);
  return bytes;
}

function validDeviceMode(mode: string): boolean {
  return mode !== "" && [...mode].every((c, i) => "rwm".includes(c) && mode.indexOf(c) === i);
}

/** Docker's parseDevice: HOST, HOST:CONTAINER, HOST:MODE, HOST:CONTAINER:MODE. */
export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(":");
  let src = "";
  let dst = "";
  let mode = "rwm";
  if (parts.length > 3) throw new UsageError(`invalid device specification: ${spec} (use HOST[:CONTAINER[:rwm]])`);
  if (parts.length === 3) {
    if (!validDeviceMode(parts[2]!)) throw new UsageError(`invalid device mode: ${parts[2]} (use a combination of r, w and m)`);
    mode = parts[2]!;
  }
  if (parts.length >= 2) {
    if (parts.length === 2 && validDeviceMode(parts[1]!)) mode = parts[1]!;
    else dst = parts[1]!;
  }
  src = parts[0]!;
  if (dst === "") dst = src;
  if (!src.startsWith("/")) throw new UsageError(`invalid device "${spec}": ${src} is not an absolute path`);
  if (!dst.startsWith("/")) throw new UsageError(`bad format for path: ${dst} (the container path of --device must be absolute)`);
  return { pathOnHost: src, pathInContainer: dst, cgroupPermissions: mode };
}
