// A runtime record's cgroup through src/cgroup's driver: the record names the group's
// directories (state-dir.ts), the driver works on a group path under its mountpoints, so the
// path is found back from the directories. One code for freeze, update and removal, tsd's own.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { driverFor, hostLayout, type CgroupDriver, type HostLayout } from "../cgroup";
import type { RuntimeRecord } from "./state-dir";

export interface RecordGroup {
  driver: CgroupDriver;
  group: string;
}

/** The group path of `dir` under one of the layout's mountpoints, if it is under one. */
export function groupOfDir(layout: HostLayout, dir: string): string | undefined {
  const mounts = layout.version === 2 ? [layout.hierarchies.v2!] : layout.hierarchies.v1.map((h) => h.mountpoint);
  for (const m of mounts) {
    const rel = relative(m, dir);
    if (rel !== "" && !rel.startsWith("..") && !rel.startsWith("/")) return rel;
  }
  return undefined;
}

/** The driver and group of a record, or undefined when it has no cgroup on this host. */
export function recordGroup(rec: RuntimeRecord): RecordGroup | undefined {
  const layout = hostLayout();
  for (const dir of rec.cgroup?.paths ?? []) {
    const group = groupOfDir(layout, dir);
    if (group !== undefined) return { driver: driverFor(layout), group };
  }
  return undefined;
}

function procsIn(dir: string, depth: number, out: Set<number>): void {
  let text = "";
  try {
    text = readFileSync(join(dir, "cgroup.procs"), "utf8");
  } catch {
    return;
  }
  for (const l of text.split("\n")) if (/^\d+$/.test(l)) out.add(Number(l));
  if (depth >= 16) return;
  try {
    for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) procsIn(join(dir, d.name), depth + 1, out);
  } catch {
    // Gone meanwhile.
  }
}

/** Every pid in the container's cgroup and its sub-groups (all the record's directories). */
export function cgroupPids(rec: RuntimeRecord): number[] {
  const out = new Set<number>();
  for (const dir of rec.cgroup?.paths ?? []) procsIn(dir, 0, out);
  return [...out].sort((a, b) => a - b);
}
