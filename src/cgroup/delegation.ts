// Rootless limits (issue 13): a cgroup v2 subtree delegated to the user, as systemd's
// user@.service gives one (the service's directory and its cgroup.procs, cgroup.subtree_control
// and cgroup.threads owned by the user). Rootless tsd's containers get their groups below it
// (`<delegated>/tsd/<id>`, or `<delegated>/<cgroup-parent>/<id>`): moving a process between two
// groups needs write access to their common ancestor's cgroup.procs, so the tsd command itself
// (whose monitor moves the init) must run inside the delegated subtree too. Found from
// /proc/self/cgroup: the topmost ancestor of this process's own group, in an unbroken chain of
// groups owned by the user. Pure but for `hostDelegation`'s reads.
import { statSync } from "node:fs";
import { join } from "node:path";

export type Delegation = { dir: string } | { none: string };

/** A line of /proc/PID/cgroup: "4:cpu,cpuacct:/tsd/x" (v2: controllers ""). */
export interface CgroupLine {
  controllers: string;
  path: string;
}

export function parseCgroupFile(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = line.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    out.push({ controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

/** The cgroup v2 path of /proc/PID/cgroup's "0::/path" line, without the leading /. */
export function unifiedPath(procCgroup: string): string | undefined {
  const line = parseCgroupFile(procCgroup).find((l) => l.controllers === "");
  return line === undefined ? undefined : line.path.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** A group is the user's when the directory and the files delegation hands over are. */
function owned(dir: string, uid: number, owner: (p: string) => number | undefined): boolean {
  return ["", "cgroup.procs", "cgroup.subtree_control"].every((f) => owner(f === "" ? dir : join(dir, f)) === uid);
}

/**
 * The delegated directory (relative to the cgroup2 mount) for a process whose /proc/self/cgroup
 * is `procCgroup`, as user `uid` sees ownership (`owner`: a path's owner, undefined if absent);
 * or one sentence saying why there is none.
 */
export function findDelegation(procCgroup: string, mount: string | undefined, version: 1 | 2, uid: number, owner: (p: string) => number | undefined): Delegation {
  if (version === 1 || mount === undefined) return { none: "this host has cgroup v1, which cannot be delegated to a user" };
  const path = unifiedPath(procCgroup);
  if (path === undefined) return { none: "this process has no cgroup v2 group (/proc/self/cgroup)" };
  const parts = path === "" ? [] : path.split("/");
  let top: number | undefined;
  for (let n = parts.length; n > 0; n--) {
    if (!owned(join(mount, ...parts.slice(0, n)), uid, owner)) break;
    top = n;
  }
  if (top === undefined) {
    return { none: `your cgroup /${path} is not delegated to you: run tsd inside a delegated one (systemd: systemd-run --user --scope tsd …, or a shell of your user@.service)` };
  }
  return { dir: parts.slice(0, top).join("/") };
}

export function ownerOf(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}

/** The group a rootless container goes to: `<delegated>/<parent or tsd>/<id>`. */
export function delegatedGroup(dir: string, id: string, parent?: string): string {
  return [dir, parent ?? "tsd", id].filter((p) => p !== "").join("/");
}
