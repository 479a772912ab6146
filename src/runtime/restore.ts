// `restore [--bundle|-b B] [--image-path P] [--work-path W] [--detach|-d] [--pid-file F]
// [--tcp-established] [--ext-unix-sk] [--shell-job] [--file-locks] [--manage-cgroups-mode M]
// [--empty-ns network] [--no-subreaper] [--no-pivot] [--lsm-profile L] … ID` (runc's flags): a
// new container record from the bundle's config.json, as create makes one (the cgroup from
// linux.resources + cgroupsPath, the same state directory), and `criu restore` of the
// checkpoint into the bundle's rootfs (bound on <state>/criu-root: CRIU's root must be a mount
// point), the external mounts re-supplied from the bundle (criu.ts), the tree put in the new
// cgroup (--cgroup-root), our stdio in place of the dumped init's (--inherit-fd), our
// network namespace file for a spec'd one. --restore-detached --restore-sibling make the
// restored init OUR child, as runc's RPC restore does: with --detach we exit and it is the
// caller's subreaper's (containerd's shim, conmon) to reap; without, we wait for it, pass it our
// signals, delete the container and exit with its status. Any failure leaves nothing: no
// cgroup, state directory, mount or process. A terminal container is refused (CRIU hands a
// restored pty's master only over its RPC).
//
//   restoreCommand(g: RuntimeGlobals, argv: string[]): Promise<number>   0, or the status (no -d)
import { existsSync, lstatSync, mkdirSync, openSync, closeSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TsdError } from "../errors";
import { createSpecCgroup, parseCgroupFile, removeSpecCgroup, type CgroupLine, type SpecGroup } from "../cgroup";
import { bindMount, detachMount, reapChild } from "../native/mount";
import { cgroupsMode, emptyNsArgs, DESCRIPTORS_FILE, EXTERNAL_FDS_FILE, EXTERNAL_NS_KEYS } from "./checkpoint";
import { cgroupsPathOf, readSpec, recordOf, writePidFile } from "./create";
import { criuBinary, externalMounts, hierarchyDir, runCriu, type CriuSpec, type ExtMount } from "./criu";
import { deleteCommand } from "./delete";
import { bool, exactArgs, list, parseFlags, str, type FlagSpec, type Parsed } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { forwardSignals } from "./signals";
import { checkId, containerDir, procStat, STATE_FILE, withLock, writeRecord, type RuntimeRecord } from "./state-dir";

export const RESTORE_FLAGS: FlagSpec = {
  bundle: { kind: "string", aliases: ["b"] },
  "image-path": { kind: "string" },
  "work-path": { kind: "string" },
  detach: { kind: "bool", aliases: ["d"] },
  "pid-file": { kind: "string" },
  "console-socket": { kind: "string" },
  "tcp-established": { kind: "bool" },
  "ext-unix-sk": { kind: "bool" },
  "shell-job": { kind: "bool" },
  "file-locks": { kind: "bool" },
  "manage-cgroups-mode": { kind: "string" },
  "no-subreaper": { kind: "bool" },
  "no-pivot": { kind: "bool" },
  "empty-ns": { kind: "list" },
  "auto-dedup": { kind: "bool" },
  "lazy-pages": { kind: "bool" },
  "lsm-profile": { kind: "string" },
  "lsm-mount-context": { kind: "string" },
};

const CRIU_ROOT = "criu-root";
const CRIU_PID = "criu.pid";

interface RestoreOptions {
  id: string;
  bundle: string;
  image: string;
  work?: string;
  detach: boolean;
  pidFile?: string;
}

/** The CRIU restore options the flags map to. */
export function restoreOptionArgs(p: Parsed): string[] {
  if (bool(p, "lazy-pages")) throw new TsdError("--lazy-pages is not supported by tsd (it needs CRIU's RPC notifications): restore without it", 1);
  const out: string[] = [`--manage-cgroups=${cgroupsMode(str(p, "manage-cgroups-mode"))}`];
  const flags: [string, string][] = [
    ["tcp-established", "--tcp-established"], ["ext-unix-sk", "--ext-unix-sk"], ["shell-job", "--shell-job"],
    ["file-locks", "--file-locks"], ["auto-dedup", "--auto-dedup"],
  ];
  for (const [flag, arg] of flags) if (bool(p, flag)) out.push(arg);
  for (const f of ["lsm-profile", "lsm-mount-context"]) {
    const v = str(p, f);
    if (v) out.push(`--${f}`, v);
  }
  return [...out, ...emptyNsArgs(list(p, "empty-ns"))];
}

/** `--inherit-fd fd[N]:KEY` for our fds 0-2 in place of the dumped init's: its pipes (runc's
 *  rule, by descriptors.json) and its files outside the container (descriptors-external.json). */
export function stdioInherit(names: readonly string[], external: readonly (string | null)[]): string[] {
  const out: string[] = [];
  for (let fd = 0; fd < 3; fd++) {
    const key = external[fd] ?? (names[fd]?.includes("pipe:") ? names[fd] : undefined);
    if (key) out.push("--inherit-fd", `fd[${fd}]:${key}`);
  }
  return out;
}

function readJsonList(path: string): (string | null)[] {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return Array.isArray(v) ? (v as (string | null)[]) : [];
  } catch {
    return [];
  }
}

/** The host directory a v1 cgroup mount binds for hierarchy `l`: the new group where we made
 *  one, else the group we (and so CRIU and the restored tree) sit in. */
function groupDirFor(cg: SpecGroup, own: readonly CgroupLine[]): (l: CgroupLine) => string {
  return (l) => {
    const base = `/sys/fs/cgroup/${hierarchyDir(l.controllers)}`;
    const mine = cg.dirs.find((d) => d.startsWith(`${base}/`));
    return mine ?? base + (own.find((o) => o.controllers === l.controllers)?.path ?? "");
  };
}

/** Mount points the bundle's bind mounts need, made in the rootfs as create makes them (a
 *  fresh rootfs has none; CRIU mounts onto existing ones). A path through a symlink is left
 *  alone, as is one on a tmpfs of the spec (CRIU restores the tmpfs with its content). */
export function prepareMountpoints(rootfs: string, mounts: readonly ExtMount[], tmpfs: readonly string[]): void {
  for (const m of mounts) {
    if (tmpfs.some((t) => m.key.startsWith(`${t}/`))) continue;
    const parts = m.key.split("/").filter(Boolean);
    let at = rootfs;
    let ok = true;
    for (const [i, part] of parts.entries()) {
      at = join(at, part);
      let st;
      try {
        st = lstatSync(at);
      } catch {
        const file = i === parts.length - 1 && existsSync(m.source) && !statSync(m.source).isDirectory();
        if (file) writeFileSync(at, "", { flag: "a", mode: 0o644 });
        else mkdirSync(at, { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink()) ok = false;
      if (!ok) break;
    }
  }
}

/** The file of each namespace the spec names by path, opened for CRIU (fds 3…). */
function externalNs(spec: CriuSpec): { fds: number[]; args: string[] } {
  const fds: number[] = [];
  const args: string[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const key = EXTERNAL_NS_KEYS[ns.type];
    if (!key || !ns.path) continue;
    const fd = openSync(ns.path, "r");
    args.push("--inherit-fd", `fd[${3 + fds.length}]:${key}`);
    fds.push(fd);
  }
  return { fds, args };
}

function restoreArgs(o: RestoreOptions, p: Parsed, spec: CriuSpec, cg: SpecGroup, dir: string): { args: string[]; mounts: ExtMount[] } {
  const own = parseCgroupFile(readFileSync("/proc/self/cgroup", "utf8"));
  const mounts = externalMounts(spec, o.bundle, own, groupDirFor(cg, own));
  const stdio = stdioInherit(readJsonList(join(o.image, DESCRIPTORS_FILE)) as string[], readJsonList(join(o.image, EXTERNAL_FDS_FILE)));
  const args = [
    "restore",
    "--images-dir", o.image,
    ...(o.work ? ["--work-dir", o.work] : []),
    "--log-file", "restore.log", "-v4",
    "--root", join(dir, CRIU_ROOT),
    "--cgroup-root", `/${cg.group.replace(/^\/+/, "")}`,
    "--restore-detached", "--restore-sibling",
    "--pidfile", join(dir, CRIU_PID),
    "--evasive-devices",
    ...restoreOptionArgs(p),
    ...mounts.flatMap((m) => ["--external", `mnt[${m.key}]:${m.source}`]),
    ...stdio,
  ];
  return { args, mounts };
}

/** Binds the rootfs on <dir>/criu-root for `fn`, and takes it off again (before anything
 *  under <dir> may be removed: a recursive removal through the bind would empty the rootfs). */
async function withCriuRoot<T>(dir: string, rootfs: string, fn: () => Promise<T>): Promise<T> {
  const at = join(dir, CRIU_ROOT);
  mkdirSync(at, { mode: 0o700 });
  try {
    bindMount(rootfs, at);
    try {
      return await fn();
    } finally {
      detachMount(at);
    }
  } finally {
    rmdirSync(at); // Throws while still mounted (not empty): the caller's cleanup stops there.
  }
}

async function restoreLocked(g: RuntimeGlobals, o: RestoreOptions, p: Parsed, bin: string, spec: CriuSpec): Promise<RuntimeRecord> {
  const dir = containerDir(g.root, o.id);
  const rootfs = resolve(o.bundle, spec.root?.path ?? "rootfs");
  if (existsSync(join(dir, STATE_FILE))) throw new TsdError(`container with id exists: ${o.id}`, 1);
  let cg: SpecGroup | undefined;
  let pid = 0;
  try {
    cg = createSpecCgroup(spec as Parameters<typeof createSpecCgroup>[0], cgroupsPathOf(spec, o.id, g.systemdCgroup));
    const group = cg;
    pid = await withCriuRoot(dir, rootfs, async () => {
      const { args, mounts } = restoreArgs(o, p, spec, group, dir);
      prepareMountpoints(rootfs, mounts, (spec.mounts ?? []).filter((m) => m.type === "tmpfs").map((m) => m.destination));
      const ns = externalNs(spec);
      try {
        await runCriu(bin, [...args, ...ns.args], o.work ?? o.image, "restore.log", ["inherit", "inherit", "inherit", ...ns.fds]);
      } finally {
        for (const fd of ns.fds) closeSync(fd);
      }
      return Number(readFileSync(join(dir, CRIU_PID), "utf8").trim());
    });
    rmSync(join(dir, CRIU_PID), { force: true });
    // spec.process.terminal is false here: terminal containers were refused.
    const record = recordOf(g, o, spec, pid, group, "the restored init PID is gone already");
    writeRecord(g.root, record);
    if (o.pidFile) writePidFile(o.pidFile, pid);
    return record;
  } catch (e) {
    // Never remove the directory while the rootfs may still be bound under it.
    undo(dir, pid, cg, !existsSync(join(dir, CRIU_ROOT)));
    throw e;
  }
}

function undo(dir: string, pid: number, cg: SpecGroup | undefined, removeDir: boolean): void {
  if (pid > 0) {
    try {
      process.kill(pid, 9);
      const end = Date.now() + 10_000; // Our child (--restore-sibling): reaped, not left a zombie.
      while (reapChild(pid) === undefined && Date.now() < end) Bun.sleepSync(2);
    } catch {
      // Gone already.
    }
  }
  try {
    if (cg) removeSpecCgroup(cg.group);
  } finally {
    if (removeDir) rmSync(dir, { recursive: true, force: true });
  }
}

function restoreOptions(p: Parsed): RestoreOptions {
  const id = p.args[0]!;
  checkId(id);
  const o: RestoreOptions = {
    id,
    bundle: resolve(str(p, "bundle") ?? "."),
    image: resolve(str(p, "image-path") || "checkpoint"),
    detach: bool(p, "detach"),
  };
  const work = str(p, "work-path");
  const pidFile = str(p, "pid-file");
  if (work) o.work = resolve(work);
  if (pidFile) o.pidFile = resolve(pidFile);
  return o;
}

export async function restoreCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, RESTORE_FLAGS);
  exactArgs("restore", p.args, 1, "[--bundle B] [--image-path P] [--detach] <container-id>");
  const o = restoreOptions(p);
  const bin = criuBinary(g.criu);
  const spec = readSpec(o.bundle) as CriuSpec;
  if (str(p, "console-socket") || spec.process?.terminal) {
    throw new TsdError("restoring a terminal container is not supported by tsd (CRIU hands the new pty's master over its RPC only): use runc for terminal containers", 1);
  }
  restoreOptionArgs(p);
  if (!existsSync(join(o.image, "inventory.img"))) throw new TsdError(`--image-path ${o.image}: no checkpoint there (no inventory.img): name the directory checkpoint wrote`, 1);
  if (o.work) mkdirSync(o.work, { recursive: true, mode: 0o700 });
  const record = await withLock(g.root, o.id, async () => await restoreLocked(g, o, p, bin, spec)).catch((e: unknown) => {
    // withLock made the directory (for its lock) before the check that failed; never removed
    // while the rootfs may still be bound under it (a recursive removal would empty it).
    const dir = containerDir(g.root, o.id);
    if (!existsSync(join(dir, STATE_FILE)) && !existsSync(join(dir, CRIU_ROOT))) rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  if (o.detach) return 0;
  return await waitRestored(g, record);
}

/** Without --detach: the restored init is our child; we forward signals, reap it, delete. */
async function waitRestored(g: RuntimeGlobals, rec: RuntimeRecord): Promise<number> {
  const stopForwarding = forwardSignals(rec.pid);
  try {
    for (;;) {
      const r = reapChild(rec.pid);
      if (r !== undefined) {
        await deleteCommand(g, ["--force", rec.id]);
        return r === "gone" ? 0 : r;
      }
      await Bun.sleep(50);
    }
  } finally {
    stopForwarding();
  }
}
