// What checkpoint.ts and restore.ts share: the CRIU binary (runc's --criu, else `criu` on
// PATH), its command line run once per verb (the CLI, not the swrk RPC: every option runc
// sends over RPC has a CLI twin, and the restored init is made our child with
// --restore-detached --restore-sibling, so nothing needs the RPC's notifications), its log read
// back for the one error line, and the container's mounts CRIU must be told are external
// (runc's rules: every bind mount of the spec, the per-hierarchy binds of a v1 cgroup mount,
// the spec's device nodes), keyed by their destination, mapped on restore to the new sources.
import { existsSync, readFileSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import { TsdError } from "../errors";
import type { CgroupLine } from "../cgroup";

/** The parts of a config.json checkpoint and restore read. */
export interface CriuSpec {
  root?: { path?: string };
  process?: { terminal?: boolean };
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  linux?: { namespaces?: { type: string; path?: string }[]; devices?: { path: string }[]; cgroupsPath?: string; resources?: unknown };
  annotations?: Record<string, string>;
  ociVersion?: string;
}

/** One `--external mnt[KEY]:VAL`: KEY the mount's destination in the container, VAL the host
 *  path restore binds there (on dump, VAL is only a name: runc passes the key again). */
export interface ExtMount {
  key: string;
  source: string;
}

/** The binary and the message naming the fix when there is none. */
export function criuBinary(wanted: string | undefined, which: (name: string) => string | null = Bun.which): string {
  const name = wanted ?? "criu";
  const found = name.includes("/") ? (existsSync(name) ? resolve(name) : null) : which(name);
  if (found) return found;
  const what = name.includes("/") ? `--criu ${name}: no such file` : `"${name}" is not on PATH`;
  throw new TsdError(`checkpoint/restore need CRIU: ${what} (install it: apt-get install criu, CRIU 4.1 or later on kernels 6.13+; or name the binary with tsd-runc --criu PATH)`, 1);
}

/** The directory a v1 hierarchy has under a cgroup mount (zig/runtime/cgroup_mount.zig). */
export function hierarchyDir(controllers: string): string {
  return controllers.startsWith("name=") ? controllers.slice(5) : controllers;
}

function isBind(m: { type?: string; options?: string[] }): boolean {
  return m.type === "bind" || (m.options ?? []).some((o) => o === "bind" || o === "rbind");
}

function dest(d: string): string {
  const n = posix.normalize(`/${d}`);
  return n.length > 1 ? n.replace(/\/+$/, "") : n;
}

/**
 * The external mounts of a container made from `spec`: its bind mounts (source resolved
 * against the bundle), on a cgroup v1 host without a cgroup namespace one bind per hierarchy
 * of `cgroups` under each cgroup mount (`groupDirOf` gives the host directory it binds: the
 * container's own group), and its device nodes (binds when the init could not mknod them).
 */
export function externalMounts(spec: CriuSpec, bundle: string, cgroups: readonly CgroupLine[], groupDirOf: (l: CgroupLine) => string): ExtMount[] {
  const out = new Map<string, string>();
  const cgroupns = (spec.linux?.namespaces ?? []).some((n) => n.type === "cgroup");
  for (const m of spec.mounts ?? []) {
    if (isBind(m)) out.set(dest(m.destination), resolve(bundle, m.source ?? ""));
    else if (m.type === "cgroup" && !cgroupns) {
      for (const l of cgroups) if (l.controllers !== "") out.set(dest(`${m.destination}/${hierarchyDir(l.controllers)}`), groupDirOf(l));
    }
  }
  for (const d of spec.linux?.devices ?? []) if (!out.has(dest(d.path))) out.set(dest(d.path), d.path);
  return [...out].map(([key, source]) => ({ key, source }));
}

/** The v1 hierarchies the container's init sits in its own group: what dump takes the
 *  cgroups of (--cgroup-dump-controller), so CRIU walks no host hierarchy it was left in
 *  (name=systemd at "/"). Empty on a v2 host: there the one group is all there is. */
export function dumpControllers(cgroups: readonly CgroupLine[], group: string): string[] {
  const own = `/${group.replace(/^\/+/, "")}`;
  return cgroups.filter((l) => l.controllers !== "" && l.path === own).map((l) => l.controllers);
}

/** CRIU's log: its first error (the cause; later ones are the unwinding), without the
 *  timestamp, plus a hint when it is the known failure of an old CRIU on a new kernel. CRIU
 *  logs a failed raise of its own RLIMIT_NOFILE as an error and goes on: not the cause. */
export function criuLogError(log: string): string | undefined {
  const line = log.split("\n").find((l) => /\bError \(/.test(l) && !/rlimit: Can't setup RLIMIT_NOFILE/.test(l));
  if (!line) return undefined;
  const msg = line.replace(/^\(\s*[\d.]+\)\s*/, "").replace(/^\d+: /, "").trim();
  if (/vDSO area bounds|vdso symtable/.test(log)) return `${msg} (this kernel splits the vDSO's data pages, [vvar_vclock]: it needs CRIU 4.1 or later)`;
  return msg;
}

export function readLog(dir: string, file: string): string {
  try {
    return readFileSync(join(dir, file), "utf8");
  } catch {
    return "";
  }
}

/** Runs CRIU; on failure throws one line: what failed, CRIU's first error, where its log is. */
export async function runCriu(bin: string, args: string[], logDir: string, logFile: string, stdio: (number | "inherit")[] = ["inherit", "inherit", "inherit"]): Promise<void> {
  const proc = Bun.spawn([bin, ...args], { stdio: stdio as ["inherit", "inherit", "inherit"], env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin" } });
  const code = await proc.exited;
  if (code === 0) return;
  const cause = criuLogError(readLog(logDir, logFile)) ?? `exit status ${code}`;
  throw new TsdError(`criu ${args[0]} failed: ${cause} (log: ${join(logDir, logFile)})`, 1);
}

/** The name CRIU gives an open file outside the container's mounts: `file[MNTID:INODE]` in
 *  hex (criu/files-reg.c), what --external marks on dump and --inherit-fd replaces on restore. */
export function externalFileKey(mntId: number, inode: bigint): string {
  return `file[${mntId.toString(16)}:${inode.toString(16)}]`;
}
