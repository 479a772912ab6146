// RunOptions + the image config → an OCI runtime spec (config.json), the one contract with
// the Zig core (zig/CONTRACT.md). Pure: everything it needs comes in as arguments.
import type { ImageConfig } from "../image/store";
import type { RunOptions } from "./options";
import type { ResolvedUser } from "./user";
import { effectiveCaps } from "./caps";
import { UsageError } from "../errors";
import { TsdError } from "../errors";
import { ociResources } from "../cgroup/resources";
import { deviceRules, grantedDeviceRules, ociDeviceRules } from "../cgroup/devices";
import { applyKernelOptions, type KernelContext } from "./kernel-spec";
import type { OciDevice } from "./host-devices";
import { seccompFor, type OciSeccomp } from "./seccomp";
import { rootfsPropagation } from "./mount-flag";
import type { IdMap } from "./userns";
import { additionalGroups, devptsGid, overlayOptions } from "../store/rootless";
import { FUSE_ANNOTATION, usesFuse } from "./fuse-rootfs";

export interface Mount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<"bounding" | "effective" | "permitted" | "inheritable" | "ambient", string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: Mount[];
  annotations: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    devices: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    rootfsPropagation?: string;
    resources?: Record<string, unknown>;
    cgroupsPath?: string;
    seccomp?: OciSeccomp;
    sysctl?: Record<string, string>;
    uidMappings?: IdMap[];
    gidMappings?: IdMap[];
  };
}

export interface SpecContext {
  id: string;
  root: string; // the tsd root dir
  bundle: string; // containers/<id>
  lowerLinks: string[]; // layers/l names, topmost first
  hostname: string;
  user: ResolvedUser;
  /** Files the CLI writes into the bundle and binds into the container. */
  /** The container's cgroup (src/cgroup): group path, procs files, the /sys/fs/cgroup mounts. */
  cgroup?: { group: string; procs: string[]; mounts: Mount[] };
  etcFiles: { hostname: string; hosts: string; resolvConf?: string };
  /** The network namespace: undefined a new one (lo only), null the host's, a path to join. */
  netnsPath?: string | null;
  /** --privileged: the host's device nodes (host-devices.ts), made in the container's /dev. */
  hostDevices?: OciDevice[];
  /** What create found for --pid/--ipc container: and --init (kernel-spec.ts). */
  kernel?: KernelContext;
}

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// moby's oci.DefaultLinuxSpec masked and read-only paths.
export const MASKED_PATHS = [
  "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
  "/sys/devices/virtual/powercap",
];
export const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

const DEVICES: [string, number, number][] = [
  ["/dev/null", 1, 3], ["/dev/zero", 1, 5], ["/dev/full", 1, 7],
  ["/dev/random", 1, 8], ["/dev/urandom", 1, 9], ["/dev/tty", 5, 0],
];

function defaultDevices(): OciDevice[] {
  return DEVICES.map(([path, major, minor]) => ({ path, type: "c", major, minor, fileMode: 0o666, uid: 0, gid: 0 }));
}

/** The host's devices, and the defaults the host lacks (a /dev/tty-less host, say). */
export function withDefaultDevices(host: OciDevice[]): OciDevice[] {
  const paths = new Set(host.map((d) => d.path));
  return [...host, ...defaultDevices().filter((d) => !paths.has(d.path))];
}

/** The process arguments as Docker composes them from --entrypoint, the command and the image. */
export function processArgs(opts: Pick<RunOptions, "entrypoint" | "command">, image: ImageConfig["config"]): string[] {
  const entrypoint = opts.entrypoint ?? image?.Entrypoint ?? [];
  // An --entrypoint override discards the image's Cmd, as in Docker.
  const cmd = opts.command.length > 0 ? opts.command : opts.entrypoint !== undefined ? [] : (image?.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new TsdError("no command specified: the image has no Entrypoint or Cmd; give one after the image name");
  return args;
}

/** Image Env, then ours; a later KEY wins in place. PATH, HOSTNAME, HOME and TERM as Docker. */
export function processEnv(imageEnv: string[], userEnv: string[], hostname: string, home: string, tty: boolean): string[] {
  const out = new Map<string, string>();
  const put = (e: string) => {
    const eq = e.indexOf("=");
    out.set(eq < 0 ? e : e.slice(0, eq), e);
  };
  put(`PATH=${DEFAULT_PATH}`);
  put(`HOSTNAME=${hostname}`);
  imageEnv.forEach(put);
  if (tty) put("TERM=xterm");
  userEnv.forEach(put);
  if (!out.has("HOME")) put(`HOME=${home}`);
  return [...out.values()];
}

export function buildSpec(opts: RunOptions, image: ImageConfig, ctx: SpecContext): OciSpec {
  return applyKernelOptions(baseSpec(opts, image, ctx), opts, ctx.kernel ?? {});
}

function baseSpec(opts: RunOptions, image: ImageConfig, ctx: SpecContext): OciSpec {
  const cfg = image.config ?? {};
  const caps = capsOrUsage(opts);
  const args = processArgs(opts, cfg);
  const env = processEnv(cfg.Env ?? [], opts.env, ctx.hostname, ctx.user.home, opts.tty);
  const processCaps = ctx.user.uid === 0 ? caps : [];
  return {
    ociVersion: "1.2.0",
    process: {
      terminal: opts.tty,
      user: { uid: ctx.user.uid, gid: ctx.user.gid, additionalGids: additionalGroups(ctx.user.additionalGids) },
      args,
      env,
      cwd: opts.workdir ?? (cfg.WorkingDir || "/"),
      capabilities: { bounding: caps, effective: processCaps, permitted: processCaps, inheritable: [], ambient: [] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1048576, soft: 1048576 }],
      // tsd's default is stricter than Docker's (issue 2): no_new_privs on unless --privileged.
      noNewPrivileges: opts.noNewPrivileges ?? !opts.privileged,
      oomScoreAdj: 0,
    },
    root: { path: `${ctx.bundle}/merged`, readonly: opts.readOnly },
    hostname: ctx.hostname,
    mounts: mounts(opts, ctx),
    annotations: {
      "io.tsd.rootfs.dir": ctx.root,
      // Rootless on fuse-overlayfs: mounted before the start, not by the init (fuse-rootfs.ts).
      [usesFuse() ? FUSE_ANNOTATION : "io.tsd.rootfs.overlay"]: overlayData(ctx),
      ...(ctx.cgroup ? { "io.tsd.cgroup.procs": ctx.cgroup.procs.join(":") } : {}),
    },
    linux: {
      namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"]
        .filter((type) => type !== "network" || ctx.netnsPath !== null)
        .map((type) => (type === "network" && ctx.netnsPath ? { type, path: ctx.netnsPath } : { type })),
      devices: opts.privileged && ctx.hostDevices ? withDefaultDevices(ctx.hostDevices) : defaultDevices(),
      maskedPaths: opts.privileged ? [] : MASKED_PATHS,
      readonlyPaths: opts.privileged ? [] : READONLY_PATHS,
      rootfsPropagation: rootfsPropagation(opts.volumes),
      resources: { ...ociResources(opts.resources ?? {}), devices: ociDeviceRules(deviceRules(opts.privileged, grantedDeviceRules(opts.devices))) },
      ...(ctx.cgroup ? { cgroupsPath: `/${ctx.cgroup.group}` } : {}),
      ...seccompField(opts, caps),
    },
  };
}

/** Docker renders the profile for the bounding set (moby setupSeccomp). */
function seccompField(opts: RunOptions, bounding: string[]): { seccomp?: OciSeccomp } {
  try {
    const seccomp = seccompFor(opts.seccomp ?? { kind: "default" }, opts.privileged, bounding);
    return seccomp ? { seccomp } : {};
  } catch (e) {
    throw new UsageError(`seccomp profile: ${(e as Error).message}`);
  }
}

function capsOrUsage(opts: RunOptions): string[] {
  try {
    return effectiveCaps(opts.capAdd, opts.capDrop, opts.privileged);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** lowerdir/upperdir/workdir relative to the root dir (the init chdirs there first). */
export function overlayData(ctx: Pick<SpecContext, "root" | "bundle" | "lowerLinks">): string {
  if (!ctx.bundle.startsWith(`${ctx.root}/`)) throw new Error("the bundle must live under the root dir");
  const rel = ctx.bundle.slice(ctx.root.length + 1);
  const lower = ctx.lowerLinks.map((l) => `layers/l/${l}`).join(":");
  const data = `lowerdir=${lower},upperdir=${rel}/upper,workdir=${rel}/work${overlayOptions()}`;
  if (data.length >= 4000) throw new TsdError(`the image has too many layers for one overlay mount (${ctx.lowerLinks.length})`);
  return data;
}

function mounts(opts: RunOptions, ctx: SpecContext): Mount[] {
  const sysOpts = ["nosuid", "noexec", "nodev", opts.privileged ? "rw" : "ro"];
  const base: Mount[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", ...devptsGid()] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: sysOpts },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
  ];
  // /sys/fs/cgroup after /sys: the cgroup namespace is unshared before any mount (CONTRACT.md).
  base.push(...(ctx.cgroup?.mounts ?? []));
  const etc: Mount[] = [
    { destination: "/etc/hostname", type: "bind", source: ctx.etcFiles.hostname, options: ["rbind", "rprivate"] },
    { destination: "/etc/hosts", type: "bind", source: ctx.etcFiles.hosts, options: ["rbind", "rprivate"] },
    ...(ctx.etcFiles.resolvConf
      ? [{ destination: "/etc/resolv.conf", type: "bind", source: ctx.etcFiles.resolvConf, options: ["rbind", "rprivate"] }]
      : []),
  ];
  const tmpfs = opts.tmpfs.map((t): Mount => ({ destination: t.destination, type: "tmpfs", source: "tmpfs", options: t.options }));
  const binds = opts.volumes.map(
    (v): Mount => ({ destination: v.destination, type: "bind", source: v.source, options: ["rbind", v.propagation ?? "rprivate", v.readonly ? "ro" : "rw"] }),
  );
  // A user's mount over a default one replaces it (Docker: user mounts win).
  const userDest = new Set([...tmpfs, ...binds].map((m) => m.destination));
  return [...base, ...etc].filter((m) => !userDest.has(m.destination)).concat(tmpfs, binds);
}
