// `features`: what this runtime implements, in runc's JSON shape (runtime-spec features.md),
// so a caller can check before it asks. Each list is what the Zig side really accepts:
// zig/runtime/mounts.zig (flag_table, propagation, the recursive "r" forms),
// zig/runtime/caps.zig, zig/runtime/seccomp.zig, zig/runtime/spec.zig (namespaces).
import pkg from "../../package.json";
import { parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";

const HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/** mounts.zig flag_table; those with a mount attribute also take runc's recursive "r" form. */
const MOUNT_FLAGS = ["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async", "dirsync", "mand", "nomand", "noatime", "atime", "nodiratime", "diratime", "relatime", "norelatime", "strictatime", "nostrictatime", "nosymfollow", "silent", "loud", "remount", "defaults"];
const RECURSIVE = ["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "noatime", "nodiratime", "diratime", "relatime", "strictatime", "nosymfollow"];
const PROPAGATION = ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"];

const CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
  "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
  "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/** seccomp.zig: every action but SCMP_ACT_NOTIFY (refused: no listener support). */
const SECCOMP_ACTIONS = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"];
const SECCOMP_OPERATORS = ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"];

/** The native architecture and its 32-bit companion (seccomp.zig's filters). */
export function seccompArchs(arch: string = process.arch): string[] {
  if (arch === "x64") return ["SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"];
  if (arch === "arm64") return ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"];
  return [];
}

export function features(arch: string = process.arch): object {
  const mountOptions = [...MOUNT_FLAGS, ...RECURSIVE.map((f) => `r${f}`), ...PROPAGATION, "bind", "rbind"].sort();
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: "1.3.0",
    hooks: HOOKS,
    mountOptions,
    linux: {
      // A new time namespace is refused (spec.zig); joining one by path is not offered either.
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
      capabilities: CAPABILITIES,
      // The systemd form of cgroupsPath is mapped to systemd's layout under cgroupfs: no scope
      // is asked of systemd, so "systemd" is false.
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: SECCOMP_ACTIONS, operators: SECCOMP_OPERATORS, archs: seccompArchs(arch) },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { "io.tsd.version": pkg.version },
  };
}

export async function featuresCommand(_g: RuntimeGlobals, argv: string[]): Promise<number> {
  parseFlags(argv, {});
  process.stdout.write(`${JSON.stringify(features(), null, "    ")}\n`);
  return 0;
}
