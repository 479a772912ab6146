// `spec [--bundle B] [--rootless]`: runc's starting config.json for a bundle (a rootfs/ beside
// it), written to B/config.json and refused when one exists. --rootless: runc's variant (a user
// namespace mapping the caller to root, no network namespace, /sys bound, no device cgroup).
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TsdError } from "../errors";
import { bool, parseFlags, str } from "./flags";
import type { RuntimeGlobals } from "./globals";

const CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
const OPTS = ["nosuid", "noexec", "nodev"];

function mounts(rootless: boolean): object[] {
  return [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", ...(rootless ? [] : ["gid=5"])] },
    { destination: "/dev/shm", type: "tmpfs", source: "shm", options: [...OPTS, "mode=1777", "size=65536k"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: OPTS },
    rootless
      ? { destination: "/sys", type: "none", source: "/sys", options: ["rbind", ...OPTS, "ro"] }
      : { destination: "/sys", type: "sysfs", source: "sysfs", options: [...OPTS, "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: [...OPTS, "relatime", "ro"] },
  ];
}

/** runc's default spec (`runc spec`), as an object; `rootless`: runc's --rootless variant. */
export function defaultSpec(rootless: boolean, uid = 0, gid = 0): Record<string, unknown> {
  const namespaces = rootless ? ["pid", "ipc", "uts", "mount", "user"] : ["pid", "network", "ipc", "uts", "mount"];
  const linux: Record<string, unknown> = {
    ...(rootless
      ? { uidMappings: [{ containerID: 0, hostID: uid, size: 1 }], gidMappings: [{ containerID: 0, hostID: gid, size: 1 }] }
      : { resources: { devices: [{ allow: false, access: "rwm" }] } }),
    namespaces: namespaces.map((type) => ({ type })),
    maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
  };
  return {
    ociVersion: "1.2.0",
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "tsd",
    mounts: mounts(rootless),
    linux,
  };
}

export async function specCommand(_g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { bundle: { kind: "string", aliases: ["b"] }, rootless: { kind: "bool" } });
  const path = join(resolve(str(p, "bundle") ?? "."), "config.json");
  if (existsSync(path)) throw new TsdError(`File ${path} exists. Remove it first`, 1);
  const spec = defaultSpec(bool(p, "rootless"), process.getuid?.() ?? 0, process.getgid?.() ?? 0);
  writeFileSync(path, `${JSON.stringify(spec, null, "\t")}\n`, { mode: 0o666 });
  return 0;
}
