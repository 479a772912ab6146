// The kernel-facing flags (kernel-options.ts) in the OCI spec, as Docker 20.10 writes them
// (moby daemon/oci_linux.go): the pid/ipc/uts namespaces (left out for host, joined by path for
// container:), linux.sysctl, process.rlimits, the /dev/shm size, --device nodes (their cgroup
// rules: cgroup/devices.ts grantedDeviceRules) and --init's PID 1. Pure: what create looked up comes in `KernelContext`.
import { DEFAULT_SHM_SIZE, ULIMIT_NAMES, type KernelOptions } from "./kernel-options";
import type { Mount, OciSpec } from "./spec";

/** Where Docker mounts its init (moby daemon/config: DefaultInitBinary's InitPath). */
export const INIT_PATH = "/sbin/docker-init";

export interface KernelContext {
  /** /proc/PID/ns/pid of the --pid container:'s init, found at create. */
  pidPath?: string;
  /** /proc/PID/ns/ipc of the --ipc container:'s init. */
  ipcPath?: string;
  /** The host copy of tsd-init (--init), bound read-only at INIT_PATH. */
  initPath?: string;
}

/** RLIM_INFINITY; config.json carries it as 18446744073709551615 (JSON.stringify rounds it to
 *  18446744073709552000, which the Zig reader takes as the same: zig/CONTRACT.md). */
export const RLIM_INFINITY = 2 ** 64;

export function applyKernelOptions(spec: OciSpec, o: KernelOptions, k: KernelContext): OciSpec {
  const args = o.init && k.initPath ? [INIT_PATH, "--", ...spec.process.args] : spec.process.args;
  const mounts = kernelMounts(spec.mounts, o, k);
  const devices = (o.devices ?? []).flatMap((d) => d.nodes ?? []);
  return {
    ...spec,
    hostname: o.utsMode === "host" ? "" : spec.hostname,
    process: { ...spec.process, args, rlimits: rlimits(spec.process.rlimits, o) },
    mounts,
    linux: {
      ...spec.linux,
      namespaces: namespaces(spec.linux.namespaces, o, k),
      // A --device at a default node's path replaces it (Docker: /dev/null:/dev/null works).
      devices: [...spec.linux.devices.filter((d) => !devices.some((n) => n.path === d.path)), ...devices],
      ...(o.sysctls && Object.keys(o.sysctls).length ? { sysctl: { ...o.sysctls } } : {}),
    },
  };
}

function namespaces(list: OciSpec["linux"]["namespaces"], o: KernelOptions, k: KernelContext): OciSpec["linux"]["namespaces"] {
  const mode = { pid: o.pidMode, ipc: o.ipcMode, uts: o.utsMode } as Record<string, string | undefined>;
  const path = { pid: k.pidPath, ipc: k.ipcPath } as Record<string, string | undefined>;
  return list.flatMap((ns) => {
    const m = mode[ns.type];
    if (m === "host") return [];
    if (m?.startsWith("container:") && path[ns.type]) return [{ type: ns.type, path: path[ns.type]! }];
    return [ns];
  });
}

/** The defaults (nofile), each replaced by a --ulimit of the same kind, then the others. */
function rlimits(defaults: OciSpec["process"]["rlimits"], o: KernelOptions): OciSpec["process"]["rlimits"] {
  const user = (o.ulimits ?? []).map((u) => ({ type: ULIMIT_NAMES[u.name]!, hard: u.hard < 0 ? RLIM_INFINITY : u.hard, soft: u.soft < 0 ? RLIM_INFINITY : u.soft }));
  return [...defaults.filter((d) => !user.some((u) => u.type === d.type)), ...user];
}

/** /dev/shm: the --shm-size tmpfs; the host's /dev/shm with --ipc host; none with --ipc none. */
function kernelMounts(mounts: Mount[], o: KernelOptions, k: KernelContext): Mount[] {
  const out = mounts.flatMap((m): Mount[] => {
    if (m.destination !== "/dev/shm" || m.type !== "tmpfs") return [m];
    if (o.ipcMode === "none") return [];
    if (o.ipcMode === "host") return [{ destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"] }];
    return [{ ...m, options: (m.options ?? []).map((x) => (x.startsWith("size=") ? `size=${o.shmSize ?? DEFAULT_SHM_SIZE}` : x)) }];
  });
  if (o.init && k.initPath) out.push({ destination: INIT_PATH, type: "bind", source: k.initPath, options: ["rbind", "ro"] });
  return out;
}

/** The user's command of a spec's args: without --init's prefix (inspect's Path/Args, ps). */
export function commandArgs(args: string[], o: KernelOptions): string[] {
  return o.init && args[0] === INIT_PATH && args[1] === "--" ? args.slice(2) : args;
}

/** inspect's HostConfig fields of these flags, Docker's names and defaults (20.10: private ipc). */
export function hostConfigKernel(o: KernelOptions): Record<string, unknown> {
  return {
    PidMode: o.pidMode ?? "",
    IpcMode: o.ipcMode ?? "private",
    UTSMode: o.utsMode ?? "",
    ...(o.sysctls && Object.keys(o.sysctls).length ? { Sysctls: o.sysctls } : {}),
    Ulimits: o.ulimits?.length ? o.ulimits.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })) : null,
    ShmSize: o.shmSize ?? DEFAULT_SHM_SIZE,
    Devices: (o.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer, CgroupPermissions: d.cgroupPermissions })),
    GroupAdd: o.groupAdd?.length ? o.groupAdd : null,
    Init: o.init ? true : null,
  };
}
