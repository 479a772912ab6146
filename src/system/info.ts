// `tsd info`: what `docker info` users look at first, in Docker's field names (so
// `--format '{{.CgroupVersion}}'` scripts carry over), from the root and the host as they are.
import type { Database } from "bun:sqlite";
import { readFileSync, statfsSync } from "node:fs";
import { arch, cpus, hostname, release, totalmem } from "node:os";
import pkg from "../../package.json";
import { hostLayout, rootlessDelegation } from "../cgroup";
import { listContainers } from "../container/store";
import { shownState } from "../container/state";
import { listImages } from "../image/store";
import { defaultBridgeConfig } from "../network/networks";
import { natDriver } from "../network/nat";
import { rootlessNetworkBackend } from "../network/pasta";
import { idmappedLayers, recordedRanges, usernsPool } from "../container/userns";
import { parseIdMapText, rootlessMode, type RootlessMode } from "../store/rootless";
import { usesFuse } from "../container/fuse-rootfs";

export interface Info {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DriverStatus: [string, string][];
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSVersion: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Name: string;
  ServerVersion: string;
  SecurityOptions: string[];
  IPv4Forwarding: boolean;
  DefaultRuntime: string;
  /** tsd's own: rootful or rootless, and how containers reach the outside. */
  Rootless: boolean;
  NetworkBackend: string;
  DefaultBridge: string;
  /** tsd's own: rootful user namespaces (--userns=auto, --uidmap). */
  UserNamespaces: { IdmappedMounts: boolean; AutoPool: string; AutoRanges: number };
  /** tsd's own, rootless only: the user namespace every command runs in (system/rootless-enter.ts);
   *  Cgroups: "delegated /path" (limits work) or "none (why)" (cgroup/delegation.ts). */
  RootlessNamespace?: { Mapping: string; UidMap: string; GidMap: string; RuntimeDir: string; Cgroups: string };
  Warnings: string[];
}

/** Filesystem magic numbers (statfs f_type) → Docker's "Backing Filesystem" names. */
const FS_NAMES: Record<number, string> = { 0xef53: "extfs", 0x01021994: "tmpfs", 0x58465342: "xfs", 0x9123683e: "btrfs", 0x794c7630: "overlayfs", 0x2fc12fc1: "zfs", 0x65735546: "fuse" };

export function backingFilesystem(type: number): string {
  return FS_NAMES[type] ?? `0x${type.toString(16)}`;
}

/** PRETTY_NAME and VERSION_ID of an os-release file's text. */
export function osRelease(text: string): { name: string; version: string } {
  const field = (k: string) => new RegExp(`^${k}=("?)(.*)\\1$`, "m").exec(text)?.[2] ?? "";
  return { name: field("PRETTY_NAME") || "Linux", version: field("VERSION_ID") };
}

/** Node's arch names → the kernel's (uname -m), as Docker shows them. */
export function machine(nodeArch: string): string {
  return ({ x64: "x86_64", arm64: "aarch64", arm: "armv7l", ia32: "i686", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" } as Record<string, string>)[nodeArch] ?? nodeArch;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function systemInfo(db: Database, root: string): Info {
  const rows = listContainers(db);
  const states = rows.map((r) => shownState(r, root));
  const running = states.filter((s) => s === "running" || s === "restarting").length;
  const paused = states.filter((s) => s === "paused").length;
  const layout = hostLayout();
  const os = osRelease(readText("/etc/os-release"));
  const nat = natDriver(defaultBridgeConfig(root).nat);
  const bridge = defaultBridgeConfig(root);
  const rootless = rootlessMode();
  const delegation = rootless ? rootlessDelegation() : undefined;
  const forwarding = readText("/proc/sys/net/ipv4/ip_forward").trim() === "1";
  return {
    ID: new Bun.CryptoHasher("sha256").update(root).digest("hex").slice(0, 32),
    Containers: rows.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: rows.length - running - paused,
    Images: listImages(db).length,
    Driver: usesFuse() ? "fuse-overlayfs" : "overlay2",
    DriverStatus: [["Backing Filesystem", backingFilesystem(statfsSync(root).type)], ["Supports d_type", "true"], ["Native Overlay Diff", "true"], ["userxattr", rootless ? "true" : "false"]],
    LoggingDriver: "json-file",
    CgroupDriver: delegation && "none" in delegation ? "none" : "cgroupfs",
    CgroupVersion: String(layout.version),
    KernelVersion: release(),
    OperatingSystem: os.name,
    OSVersion: os.version,
    OSType: "linux",
    Architecture: machine(arch()),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: root,
    Name: hostname(),
    ServerVersion: pkg.version,
    SecurityOptions: ["name=seccomp,profile=default", ...(layout.version === 2 ? ["name=cgroupns"] : [])],
    IPv4Forwarding: forwarding,
    DefaultRuntime: "tsd",
    Rootless: rootless !== undefined,
    NetworkBackend: rootless ? rootlessNetworkBackend() : nat ? `bridge, veth pairs, ${nat.name} NAT` : "bridge, veth pairs, no NAT (neither nft nor iptables found)",
    DefaultBridge: `${bridge.bridge} ${bridge.subnet}`,
    UserNamespaces: usernsInfo(db),
    ...(rootless ? { RootlessNamespace: { ...rootlessNamespace(rootless), Cgroups: delegation && "dir" in delegation ? `delegated /${delegation.dir}` : "none" } } : {}),
    Warnings: delegation && "none" in delegation ? [rootlessCgroupWarning(delegation.none)] : rootless ? [] : forwarding ? [] : ["WARNING: IPv4 forwarding is disabled (tsd enables it when a container on a bridge starts)"],
  };
}


/** Rootless without a delegated cgroup: containers run outside any group of their own. */
export function rootlessCgroupWarning(why: string): string {
  return `WARNING: rootless: containers run without cgroups (${why}); -m, --cpus, --pids-limit and other limits are refused`;
}

function rootlessNamespace(mode: RootlessMode): Omit<NonNullable<Info["RootlessNamespace"]>, "Cgroups"> {
  const show = (path: string) =>
    parseIdMapText(readText(path))
      .map((m) => `${m.inside}-${m.inside + m.size - 1} → ${m.outside}-${m.outside + m.size - 1}`)
      .join(", ");
  const mapping = mode.singleId ? "single id (unshare --map-root-user: no /etc/subuid range or no newuidmap)" : "newuidmap/newgidmap";
  // On the rootless fast path this process is on the host: the namespace is the pause process's.
  const proc = `/proc/${mode.pause?.pid ?? "self"}`;
  return { Mapping: mapping, UidMap: show(`${proc}/uid_map`), GidMap: show(`${proc}/gid_map`), RuntimeDir: mode.paths.run };
}

function usernsInfo(db: Database): Info["UserNamespaces"] {
  const pool = usernsPool();
  const range = (r: { start: number; size: number }) => `${r.start}-${r.start + r.size - 1}`;
  return {
    IdmappedMounts: idmappedLayers(release()),
    AutoPool: `uids ${range(pool.uid)}, gids ${range(pool.gid)} (${pool.source})`,
    AutoRanges: recordedRanges(db).length,
  };
}

function usernsLines(i: Info): string[] {
  const ns = i.RootlessNamespace;
  if (ns) return [` User Namespace: rootless (${ns.Mapping}, a pause process per user)`, `  UID Map: ${ns.UidMap}`, `  GID Map: ${ns.GidMap}`, `  Runtime Dir: ${ns.RuntimeDir}`, `  Cgroups: ${ns.Cgroups}`];
  return [
    " User Namespaces: rootful (--userns=auto, --uidmap; default host)",
    `  Idmapped Mounts: ${i.UserNamespaces.IdmappedMounts ? "supported" : "not supported (Linux 6.15 needed)"}`,
    `  Auto Pool: ${i.UserNamespaces.AutoPool}`,
    `  Auto Ranges In Use: ${i.UserNamespaces.AutoRanges}`,
  ];
}

/** Docker's text layout of the facts (its "Server:" section, the lines scripts grep). */
export function infoText(i: Info): string {
  const mib = (n: number) => `${(n / 1024 ** 3).toFixed(2)}GiB`;
  return [
    "Client:",
    ` Version:    ${i.ServerVersion}`,
    " Context:    default",
    " Debug Mode: false",
    "",
    "Server:",
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ...i.DriverStatus.map(([k, v]) => `  ${k}: ${v}`),
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Network: ${i.NetworkBackend}`,
    ...(i.Rootless ? [] : [`  Default Bridge: ${i.DefaultBridge}`]),
    ` Rootless: ${i.Rootless}`,
    ...usernsLines(i),
    " Security Options:",
    ...i.SecurityOptions.map((o) => `  ${o.replace(/^name=/, "").replace(/,profile=/, "\n   Profile: ")}`),
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${mib(i.MemTotal)}`,
    ` Name: ${i.Name}`,
    ` ID: ${i.ID}`,
    ` Docker Root Dir: ${i.DockerRootDir}`,
    " Debug Mode: false",
    "",
    ...i.Warnings,
  ].join("\n");
}
