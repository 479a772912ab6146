// `checkpoint [--image-path P] [--work-path W] [--leave-running] [--pre-dump] [--parent-path R]
// [--tcp-established] [--ext-unix-sk] [--shell-job] [--file-locks] [--manage-cgroups-mode M]
// [--page-server A:P] [--empty-ns network] [--auto-dedup] … ID` (runc's flags): `criu dump` of
// the container's init tree into P, as runc asks it over RPC: the rootfs as it is (CRIU dumps
// no filesystem: the caller keeps the rootfs), every bind mount, v1 cgroup bind and device
// node declared external (criu.ts), the init's stdio files external too, named in
// descriptors.json (runc's file) and descriptors-external.json so restore hands the new stdio
// in their place, the cgroup frozen for the dump (--freeze-cgroup). Without --leave-running
// CRIU kills the tree: the container is then stopped, and `delete` removes its cgroup and
// state as for any stopped container. --pre-dump: memory only, the container runs on.
//
//   checkpointCommand(g: RuntimeGlobals, argv: string[]): Promise<number>   runc's checkpoint → 0
import { fstatSync, mkdirSync, openSync, closeSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { readSpec } from "./create";
import { recordGroup } from "./cgroup";
import { criuBinary, dumpControllers, externalFileKey, externalMounts, runCriu, type CriuSpec } from "./criu";
import { parseCgroupFile } from "../cgroup";
import { bool, exactArgs, list, parseFlags, str, type FlagSpec, type Parsed } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { statusOf, withRecord, type RuntimeRecord } from "./state-dir";

export const CHECKPOINT_FLAGS: FlagSpec = {
  "image-path": { kind: "string" },
  "work-path": { kind: "string" },
  "parent-path": { kind: "string" },
  "leave-running": { kind: "bool" },
  "tcp-established": { kind: "bool" },
  "tcp-skip-in-flight": { kind: "bool" },
  "link-remap": { kind: "bool" },
  "ext-unix-sk": { kind: "bool" },
  "shell-job": { kind: "bool" },
  "lazy-pages": { kind: "bool" },
  "status-fd": { kind: "string" },
  "page-server": { kind: "string" },
  "file-locks": { kind: "bool" },
  "pre-dump": { kind: "bool" },
  "manage-cgroups-mode": { kind: "string" },
  "empty-ns": { kind: "list" },
  "auto-dedup": { kind: "bool" },
};

/** runc's file: the init's fds 0-2 as /proc/PID/fd links them (restore inherits pipes by it). */
export const DESCRIPTORS_FILE = "descriptors.json";
/** tsd's: per fd 0-2 the CRIU name of a file outside the container (`file[M:I]`), or null. */
export const EXTERNAL_FDS_FILE = "descriptors-external.json";
/** What CRIU calls a namespace it was told is external (runc's keys). */
export const EXTERNAL_NS_KEYS: Record<string, string> = { network: "extRootNetNS", pid: "extRootPidNS" };
const CRIU_NS: Record<string, string> = { network: "net", pid: "pid" };

/** runc's --manage-cgroups-mode values (CRIU's own names). */
export function cgroupsMode(v: string | undefined): string {
  const mode = v || "soft";
  if (!["soft", "full", "strict", "ignore"].includes(mode)) throw new TsdError(`invalid --manage-cgroups-mode value "${mode}" (use soft, full, strict or ignore)`, 1);
  return mode;
}

/** runc's --empty-ns: only the network namespace may be left empty. */
export function emptyNsArgs(values: readonly string[]): string[] {
  for (const v of values) if (v !== "network") throw new TsdError(`--empty-ns ${v}: only "network" is supported`, 1);
  return values.length > 0 ? ["--empty-ns", "net"] : [];
}

/** The CRIU options every flag maps to, checked (no container needed: pure but for the
 *  parent path's existence, which runc checks too). */
export function dumpOptionArgs(p: Parsed, imagePath: string): string[] {
  if (bool(p, "lazy-pages")) throw new TsdError("--lazy-pages is not supported by tsd (it needs CRIU's RPC notifications): checkpoint without it", 1);
  const out: string[] = [];
  const parent = str(p, "parent-path");
  if (parent) {
    if (isAbsolute(parent)) throw new TsdError("--parent-path must be relative (to --image-path)", 1);
    let dir = false;
    try {
      dir = statSync(join(imagePath, parent)).isDirectory();
    } catch {
      // Reported below.
    }
    if (!dir) throw new TsdError(`invalid --parent-path: ${join(imagePath, parent)} is no directory`, 1);
    out.push("--prev-images-dir", parent, "--track-mem");
  }
  const ps = str(p, "page-server");
  if (ps) {
    const m = /^(.+):(\d+)$/.exec(ps);
    if (!m) throw new TsdError("Use --page-server ADDRESS:PORT to specify page server", 1);
    out.push("--page-server", "--address", m[1]!.replace(/^\[(.*)\]$/, "$1"), "--port", m[2]!);
  }
  const flags: [string, string][] = [
    ["leave-running", "--leave-running"], ["tcp-established", "--tcp-established"], ["tcp-skip-in-flight", "--skip-in-flight"],
    ["link-remap", "--link-remap"], ["ext-unix-sk", "--ext-unix-sk"], ["shell-job", "--shell-job"], ["file-locks", "--file-locks"],
    ["auto-dedup", "--auto-dedup"],
  ];
  for (const [flag, arg] of flags) if (bool(p, flag)) out.push(arg);
  return [...out, ...emptyNsArgs(list(p, "empty-ns"))];
}

/** The init's stdio: runc's descriptors (link names) and, for a file outside the container
 *  (a path, not a pipe or socket), CRIU's external name for it. */
export function stdioOf(pid: number): { names: string[]; external: (string | null)[] } {
  const names: string[] = [];
  const external: (string | null)[] = [];
  for (let fd = 0; fd < 3; fd++) {
    let name = "";
    try {
      name = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // Closed.
    }
    names.push(name);
    external.push(name.startsWith("/") ? fileKey(pid, fd) : null);
  }
  return { names, external };
}

function fileKey(pid: number, fd: number): string | null {
  const m = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8"));
  if (!m) return null;
  const f = openSync(`/proc/${pid}/fd/${fd}`, "r");
  try {
    return externalFileKey(Number(m[1]), fstatSync(f, { bigint: true }).ino);
  } finally {
    closeSync(f);
  }
}

/** The container's namespaces given by path (containerd's CRI: the pod's netns): external. */
function externalNsArgs(spec: CriuSpec): string[] {
  const out: string[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const key = EXTERNAL_NS_KEYS[ns.type];
    if (!key || !ns.path) continue;
    out.push("--external", `${CRIU_NS[ns.type]}[${statSync(ns.path, { bigint: true }).ino}]:${key}`);
  }
  return out;
}

/** The freezer CRIU stops the tree with: v1's freezer directory, v2's one directory. */
function freezerDir(rec: RuntimeRecord): string | undefined {
  const paths = rec.cgroup?.paths ?? [];
  return paths.length === 1 ? paths[0] : paths.find((d) => /\/freezer\//.test(d));
}

function dumpArgs(rec: RuntimeRecord, spec: CriuSpec, p: Parsed, options: string[], externalFds: (string | null)[]): string[] {
  const cgroups = parseCgroupFile(readFileSync(`/proc/${rec.pid}/cgroup`, "utf8"));
  const group = recordGroup(rec)?.group ?? "";
  const mounts = externalMounts(spec, rec.bundle, cgroups, () => "");
  const freezer = freezerDir(rec);
  return [
    "--tree", String(rec.pid),
    "--root", rec.rootfs,
    `--manage-cgroups=${cgroupsMode(str(p, "manage-cgroups-mode"))}`,
    ...dumpControllers(cgroups, group).flatMap((c) => ["--cgroup-dump-controller", c]),
    ...(freezer ? ["--freeze-cgroup", freezer] : []),
    ...mounts.flatMap((m) => ["--external", `mnt[${m.key}]:${m.key}`]),
    ...externalFds.flatMap((k) => (k ? ["--external", k] : [])),
    ...externalNsArgs(spec),
    ...options,
  ];
}

export async function checkpointCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, CHECKPOINT_FLAGS);
  exactArgs("checkpoint", p.args, 1, "[--image-path P] [--leave-running] <container-id>");
  const id = p.args[0]!;
  const image = resolve(str(p, "image-path") || "checkpoint");
  const workPath = str(p, "work-path");
  const work = workPath ? resolve(workPath) : undefined;
  await withRecord(g.root, id, async (rec) => {
    const status = statusOf(g.root, rec);
    if (status === "created" || status === "stopped") throw new TsdError(`container ${id} cannot be checkpointed in ${status} state`, 1);
    const bin = criuBinary(g.criu);
    mkdirSync(image, { recursive: true, mode: 0o700 });
    const options = dumpOptionArgs(p, image);
    if (work) mkdirSync(work, { recursive: true, mode: 0o700 });
    const common = ["--images-dir", image, ...(work ? ["--work-dir", work] : []), "--log-file", "dump.log", "-v4"];
    if (bool(p, "pre-dump")) {
      // Memory only: the container runs on, its files (a terminal too) are not looked at.
      await runCriu(bin, ["pre-dump", ...common, "--tree", String(rec.pid), ...options.filter((a) => a !== "--leave-running"), ...(options.includes("--track-mem") ? [] : ["--track-mem"])], work ?? image, "dump.log");
      return;
    }
    if (rec.terminal) throw new TsdError(`container ${id} has a terminal: tsd cannot checkpoint it (restoring it needs CRIU's RPC to hand the new pty over); use runc for terminal containers`, 1);
    const spec = readSpec(rec.bundle) as CriuSpec;
    const stdio = stdioOf(rec.pid);
    writeFileSync(join(image, DESCRIPTORS_FILE), JSON.stringify(stdio.names), { mode: 0o600 });
    writeFileSync(join(image, EXTERNAL_FDS_FILE), JSON.stringify(stdio.external), { mode: 0o600 });
    await runCriu(bin, ["dump", ...common, ...dumpArgs(rec, spec, p, options, stdio.external)], work ?? image, "dump.log");
  });
  return 0;
}
