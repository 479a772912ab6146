// The cgroup drivers: one interface, a v1 driver (one directory per hierarchy) and a v2 driver
// (one directory in the unified tree). They only touch the filesystem under the mountpoints
// they were given, so the v2 driver can also be exercised on a plain directory tree.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { TsdError } from "../errors";
import type { V1Hierarchy } from "./detect";
import { keyValues, oomKillCount, v1BlkioBytes, v1DeviceFiles, v1Files, v2Files, v2IoBytes, type CgroupWrite } from "./files";
import { encodeDeviceRules, type DeviceRule } from "./devices";
import { cgroupDeviceFilter } from "../native/ffi";
import type { Resources } from "./resources";

export interface CgroupStats {
  cpuNs: number; // CPU time used, all CPUs
  memUsage: number; // bytes, page cache that can be dropped excluded (docker CLI)
  memLimit: number; // bytes, at most the host's memory
  pids: number;
  blkRead: number;
  blkWrite: number;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** The group's directories (one per v1 hierarchy, one for v2). */
  dirs(group: string): string[];
  /** The `cgroup.procs` files a process writes its pid into to join the group. */
  procsPaths(group: string): string[];
  exists(group: string): boolean;
  /** Makes the group (and missing parents) and writes the limits; undone on failure. */
  /** Makes the group with its limits and device rules (v1; v2 has no device files). */
  create(group: string, r: Resources, devices?: readonly DeviceRule[]): void;
  /** Writes the limits `r` names into an existing group. */
  update(group: string, r: Resources): void;
  /** Whether the OOM killer killed a process of the group (the kernel's counter). */
  oomKilled(group: string): boolean;
  stats(group: string): CgroupStats;
  /** Kills what is left in the group and removes it; nothing to do when it is gone. */
  remove(group: string): void;
  /** Removes `group` where it is an empty directory (the default parent once its last
   *  container is gone); a group with children or processes stays. */
  removeIfEmpty(group: string): void;
  /** Freezes (true) or thaws the group's processes, returning once the kernel says it is
   *  done; false when the host has no freezer for it. */
  freeze(group: string, frozen: boolean): Promise<boolean>;
  /** Asks the kernel to thaw the group without waiting (before a paused container's group is
   *  removed: a frozen v1 task takes no SIGKILL); nothing when there is no freezer. */
  thawNow(group: string): void;
}

const FREEZE_TIMEOUT_MS = 5000;

/** Writes `value` to `file`, then polls `state` until `done` says the kernel got there. */
async function settle(file: string, value: string, state: () => string, done: (s: string) => boolean, what: string): Promise<void> {
  const end = Date.now() + FREEZE_TIMEOUT_MS;
  let pause = 1;
  // A v1 freezer can stay FREEZING while a task is in an uninterruptible sleep: rewriting
  // the request retries it, as runc does.
  for (;;) {
    writeFileSync(file, value);
    if (done(state())) return;
    if (Date.now() > end) throw new TsdError(`cannot ${what} the container: its cgroup did not settle within ${FREEZE_TIMEOUT_MS} ms`);
    await Bun.sleep(pause);
    pause = Math.min(pause * 2, 50);
  }
}

const REMOVE_TIMEOUT_MS = 5000;

function writeIfThere(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // No such file (no freezer, the group gone): nothing to thaw.
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const byCode: Record<string, string> = {
    EINVAL: "invalid argument", EBUSY: "device or resource busy", ENOENT: "no such file or directory",
    EACCES: "permission denied", EPERM: "operation not permitted", ENOSPC: "no space left on device",
  };
  return (err.code && byCode[err.code]) ?? err.code ?? String(err.message);
}

function read(path: string): string {
  return readFileSync(path, "utf8");
}

function readOr(path: string, fallback: string): string {
  try {
    return read(path);
  } catch {
    return fallback;
  }
}

function num(path: string): number {
  const v = readOr(path, "0").trim();
  return v === "max" ? Number.POSITIVE_INFINITY : Number(v) || 0;
}

/** A period file and the quota it is checked with. */
const PERIOD_THEN: Record<string, string> = { "cpu.cfs_period_us": "cpu.cfs_quota_us", "cpu.rt_period_us": "cpu.rt_runtime_us" };

/** Writes `w`; false when done, true when the kernel said EINVAL (other errors thrown). */
function refusedAsInvalid(dir: string, w: CgroupWrite): boolean {
  try {
    writeFileSync(join(dir, w.file), w.value);
    return false;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EINVAL") return true;
    throw new TsdError(`cannot set ${w.file} to ${w.value} in ${dir}: ${errText(e)}`);
  }
}

function writeFile(dir: string, w: CgroupWrite): void {
  const path = join(dir, w.file);
  if (w.optional && !existsSync(path)) return;
  if (w.unified && !existsSync(path)) {
    throw new TsdError(`config.json linux.resources.unified: ${w.file} is not a file of the group ${dir} (a controller this host or its parent does not enable, or no such file): remove the key`);
  }
  try {
    writeFileSync(path, w.value);
  } catch (e) {
    const busy = (e as NodeJS.ErrnoException).code === "EBUSY" && w.controller === "memory";
    throw new TsdError(`cannot set ${w.file} to ${w.value} in ${dir}: ${errText(e)}${busy ? " (the container uses more memory than that: give a larger limit)" : ""}`);
  }
}

/** Each directory from `base/first` down to `base/group`. */
function levels(base: string, group: string): string[] {
  const parts = group.split("/");
  return parts.map((_, i) => join(base, ...parts.slice(0, i + 1)));
}

function procsOf(dir: string): number[] {
  return readOr(join(dir, "cgroup.procs"), "")
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** Removes `dir` and its sub-groups, killing what still runs in them, bounded in time. */
function removeTree(dir: string, useKillFile: boolean, deadline: number): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  for (const d of entries) if (d.isDirectory()) removeTree(join(dir, d.name), useKillFile, deadline);
  for (;;) {
    if (useKillFile && existsSync(join(dir, "cgroup.kill"))) {
      try {
        writeFileSync(join(dir, "cgroup.kill"), "1");
      } catch {
        // Gone meanwhile, or empty: the rmdir below decides.
      }
    } else {
      for (const pid of procsOf(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" && code !== "ENOTEMPTY") throw new TsdError(`cannot remove cgroup ${dir}: ${errText(e)}`);
      if (Date.now() > deadline) throw new TsdError(`cannot remove cgroup ${dir}: processes are still in it after ${REMOVE_TIMEOUT_MS / 1000}s`);
      Bun.sleepSync(5);
    }
  }
}

function hostMemLimit(limit: number): number {
  return Math.min(limit, totalmem());
}

export class V1Driver implements CgroupDriver {
  readonly version = 1 as const;
  constructor(readonly hierarchies: V1Hierarchy[]) {}

  private mountOf(controller: string): string | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller))?.mountpoint;
  }

  private dirOf(controller: string, group: string): string | undefined {
    const mp = this.mountOf(controller);
    return mp === undefined ? undefined : join(mp, group);
  }

  dirs(group: string): string[] {
    return this.hierarchies.map((h) => join(h.mountpoint, group));
  }

  procsPaths(group: string): string[] {
    return this.dirs(group).map((d) => join(d, "cgroup.procs"));
  }

  exists(group: string): boolean {
    return this.dirs(group).some((d) => existsSync(d));
  }

  create(group: string, r: Resources, devices?: readonly DeviceRule[]): void {
    refuseUnified(r);
    try {
      withLevels(() => {
        for (const h of this.hierarchies) {
          for (const dir of levels(h.mountpoint, group)) {
            makeLevel(dir);
            if (h.controllers.includes("cpuset")) inheritCpuset(dir);
          }
        }
      });
      // Before any process joins: the rules hold from the init's first instruction.
      if (devices && this.mountOf("devices") !== undefined) this.write(group, v1DeviceFiles(devices));
      this.write(group, v1Files(r));
    } catch (e) {
      this.remove(group);
      if (e instanceof TsdError) throw e;
      throw new TsdError(`cannot create cgroup ${group}: ${errText(e)}`);
    }
  }

  update(group: string, r: Resources): void {
    refuseUnified(r);
    const writes = v1Files(r);
    const mem = writes.findIndex((w) => w.file === "memory.limit_in_bytes");
    const swap = writes.findIndex((w) => w.file === "memory.memsw.limit_in_bytes");
    // The kernel keeps memory <= memory+swap at every step: memsw first when it grows past the
    // current memory limit (or goes unlimited), else memory first (runc's setMemoryAndSwap).
    if (mem >= 0 && swap > mem) {
      const dir = this.dirOf("memory", group)!;
      const newSwap = Number(writes[swap]!.value);
      if (newSwap === -1 || num(join(dir, "memory.limit_in_bytes")) < newSwap) {
        writes.splice(mem, 0, writes.splice(swap, 1)[0]!);
      }
    }
    this.write(group, writes);
  }

  private write(group: string, writes: CgroupWrite[]): void {
    const later = new Map<string, { dir: string; w: CgroupWrite }>();
    for (const w of writes) {
      const dir = this.dirOf(w.controller, group);
      if (dir === undefined) throw new TsdError(`the ${w.controller} cgroup controller is not mounted on this host: drop the flag that needs it`);
      // runc: a period can be refused (EINVAL) while the old quota (runtime) over it breaks the
      // parent's limit; with a new quota to come it is written again after that.
      const pair = PERIOD_THEN[w.file];
      if (pair && writes.some((x) => x.file === pair) && refusedAsInvalid(dir, w)) {
        later.set(pair, { dir, w });
        continue;
      }
      writeFile(dir, w);
      const period = later.get(w.file);
      if (period) writeFile(period.dir, period.w);
    }
  }

  oomKilled(group: string): boolean {
    const dir = this.dirOf("memory", group);
    return dir !== undefined && oomKillCount(readOr(join(dir, "memory.oom_control"), "")) > 0;
  }

  stats(group: string): CgroupStats {
    const mem = this.dirOf("memory", group) ?? "/nonexistent";
    const usage = num(join(mem, "memory.usage_in_bytes"));
    const inactive = keyValues(readOr(join(mem, "memory.stat"), "")).get("total_inactive_file") ?? 0;
    const blkio = this.dirOf("blkio", group) ?? "/nonexistent";
    const io = v1BlkioBytes(readOr(join(blkio, "blkio.throttle.io_service_bytes_recursive"), readOr(join(blkio, "blkio.throttle.io_service_bytes"), "")));
    return {
      cpuNs: num(join(this.dirOf("cpuacct", group) ?? "/nonexistent", "cpuacct.usage")),
      memUsage: inactive < usage ? usage - inactive : usage,
      memLimit: hostMemLimit(num(join(mem, "memory.limit_in_bytes"))),
      pids: num(join(this.dirOf("pids", group) ?? "/nonexistent", "pids.current")),
      blkRead: io.read,
      blkWrite: io.write,
    };
  }

  thawNow(group: string): void {
    const dir = this.dirOf("freezer", group);
    if (dir !== undefined) writeIfThere(join(dir, "freezer.state"), "THAWED");
  }

  async freeze(group: string, frozen: boolean): Promise<boolean> {
    const dir = this.dirOf("freezer", group);
    if (dir === undefined || !existsSync(join(dir, "freezer.state"))) return false;
    const file = join(dir, "freezer.state");
    const want = frozen ? "FROZEN" : "THAWED";
    await settle(file, want, () => read(file).trim(), (s) => s === want, frozen ? "pause" : "unpause");
    return true;
  }

  remove(group: string): void {
    const deadline = Date.now() + REMOVE_TIMEOUT_MS;

    // The memory hierarchy first: killing its processes empties every other one too.
    const dirs = this.dirs(group).sort((a, b) => Number(b.startsWith(this.mountOf("memory") ?? "\0")) - Number(a.startsWith(this.mountOf("memory") ?? "\0")));
    for (const d of dirs) removeTree(d, false, deadline);
  }

  removeIfEmpty(group: string): void {
    for (const d of this.dirs(group)) rmdirIfEmpty(d);
  }
}

/** runc's ErrV1NoUnified, with the way out. */
function refuseUnified(r: Resources): void {
  if (r.unified && Object.keys(r.unified).length > 0) {
    throw new TsdError(`invalid configuration: config.json linux.resources.unified needs cgroup v2, and this host uses cgroup v1: remove unified (or use the v1 fields)`);
  }
}

/**
 * One level of a group's path, made only under a parent that exists (never mkdir -p: a parent
 * made that way would miss its cpuset values or subtree_control). The default parent goes with
 * its last container (removeIfEmpty), so a concurrent removal can take it between two levels:
 * withLevels then makes every level again, a bounded number of times.
 */
function makeLevel(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
}

function withLevels(make: () => void): void {
  for (let attempt = 1; ; attempt++) {
    try {
      return make();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt === 5) throw e;
    }
  }
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // In use (EBUSY: a child group or a process), or gone already: it stays as it is.
  }
}

/** v1 cpuset groups start with empty cpus and mems, and no task may join them so: inherit. */
function inheritCpuset(dir: string): void {
  for (const f of ["cpuset.cpus", "cpuset.mems"]) {
    const path = join(dir, f);
    if (readOr(path, "x").trim() !== "") continue;
    writeFileSync(path, read(join(dir, "..", f)).trim() || "\n");
  }
}

export class V2Driver implements CgroupDriver {
  readonly version = 2 as const;
  constructor(readonly mountpoint: string) {}

  dirs(group: string): string[] {
    return [join(this.mountpoint, group)];
  }

  procsPaths(group: string): string[] {
    return [join(this.mountpoint, group, "cgroup.procs")];
  }

  exists(group: string): boolean {
    return existsSync(join(this.mountpoint, group));
  }

  create(group: string, r: Resources, devices?: readonly DeviceRule[]): void {
    try {
      // Each ancestor hands its controllers down (subtree_control), then the group exists.
      const dirs = [this.mountpoint, ...levels(this.mountpoint, group)];
      withLevels(() => {
        for (let i = 0; i < dirs.length; i++) {
          if (i > 0) makeLevel(dirs[i]!);
          if (i < dirs.length - 1) enableControllers(dirs[i]!);
        }
      });
      // Before any process joins: v2's device cgroup is an eBPF program on the group.
      if (devices) cgroupDeviceFilter(join(this.mountpoint, group), encodeDeviceRules(devices));
      this.update(group, r);
    } catch (e) {
      this.remove(group);
      if (e instanceof TsdError) throw e;
      throw new TsdError(`cannot create cgroup ${group}: ${errText(e)}`);
    }
  }

  update(group: string, r: Resources): void {
    const dir = join(this.mountpoint, group);
    for (const w of v2Files(r)) writeFile(dir, w);
  }

  oomKilled(group: string): boolean {
    return oomKillCount(readOr(join(this.mountpoint, group, "memory.events"), "")) > 0;
  }

  stats(group: string): CgroupStats {
    const dir = join(this.mountpoint, group);
    const usage = num(join(dir, "memory.current"));
    const inactive = keyValues(readOr(join(dir, "memory.stat"), "")).get("inactive_file") ?? 0;
    const io = v2IoBytes(readOr(join(dir, "io.stat"), ""));
    return {
      cpuNs: (keyValues(readOr(join(dir, "cpu.stat"), "")).get("usage_usec") ?? 0) * 1000,
      memUsage: inactive < usage ? usage - inactive : usage,
      memLimit: hostMemLimit(num(join(dir, "memory.max"))),
      pids: num(join(dir, "pids.current")),
      blkRead: io.read,
      blkWrite: io.write,
    };
  }

  thawNow(group: string): void {
    writeIfThere(join(this.mountpoint, group, "cgroup.freeze"), "0");
  }

  async freeze(group: string, frozen: boolean): Promise<boolean> {
    const file = join(this.mountpoint, group, "cgroup.freeze");
    if (!existsSync(file)) return false;
    const want = frozen ? "frozen 1" : "frozen 0";
    const events = join(this.mountpoint, group, "cgroup.events");
    await settle(file, frozen ? "1" : "0", () => readOr(events, ""), (s) => s.split("\n").includes(want), frozen ? "pause" : "unpause");
    return true;
  }

  remove(group: string): void {
    removeTree(join(this.mountpoint, group), true, Date.now() + REMOVE_TIMEOUT_MS);
  }

  removeIfEmpty(group: string): void {
    rmdirIfEmpty(join(this.mountpoint, group));
  }
}

const V2_WANTED = ["cpuset", "cpu", "io", "memory", "pids"];

function enableControllers(dir: string): void {
  const available = readOr(join(dir, "cgroup.controllers"), "").trim().split(/\s+/);
  const enabled = readOr(join(dir, "cgroup.subtree_control"), "").trim().split(/\s+/);
  for (const c of V2_WANTED) {
    if (!available.includes(c) || enabled.includes(c)) continue;
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), `+${c}`);
    } catch (e) {
      // A controller the group cannot take (e.g. threaded mode) only fails the limits that need
      // it; so does one above a rootless user's delegated directory (EACCES: not the user's).
      if (!["EINVAL", "ENOTSUP", "EACCES", "EPERM"].includes((e as NodeJS.ErrnoException).code ?? "")) throw e;
    }
  }
}
