// The cgroup side of a container: which driver this host needs, the container's group
// (`tsd/<id>` or `<cgroup-parent>/<id>`), its procs paths for the monitor and for exec, the
// read-only /sys/fs/cgroup the container sees, and the release after it exits.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { availableParallelism } from "node:os";
import { chooseVersion, parseMountinfo, v1WithNamed, type Hierarchies } from "./detect";
import { V1Driver, V2Driver, type CgroupDriver } from "./driver";
import { DEFAULT_PARENT, groupPath, type HostCpus } from "./resources";
import { parseCgroupsPath, resourcesFromSpec, type SpecLimits } from "./spec";
import { TsdError } from "../errors";
import { cgroupFrozen } from "./frozen";
import { delegatedGroup, findDelegation, ownerOf, type Delegation } from "./delegation";
import { rootlessMode } from "../store/rootless";
import { warmCgroupAttach } from "./warm";
export { cgroupFrozen } from "./frozen";
export type { Delegation, CgroupLine } from "./delegation";
export { parseCgroupFile } from "./delegation";
export { v1WithNamed } from "./detect";

export { groupPath } from "./resources";
export type { CgroupDriver, CgroupStats } from "./driver";
import type { CgroupStats } from "./driver";
export type { Resources } from "./resources";

export interface HostLayout {
  hierarchies: Hierarchies;
  version: 1 | 2;
}

let cached: HostLayout | undefined;

export function hostLayout(): HostLayout {
  if (cached) return cached;
  const hierarchies = parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
  let v2Controllers: string[] = [];
  if (hierarchies.v2 !== undefined) {
    try {
      v2Controllers = readFileSync(join(hierarchies.v2, "cgroup.controllers"), "utf8").trim().split(/\s+/);
    } catch {
      // An unreadable unified root offers nothing.
    }
  }
  cached = { hierarchies, version: chooseVersion(hierarchies, v2Controllers) };
  return cached;
}

let delegation: Delegation | undefined;

/** Rootless: the cgroup v2 directory delegated to the user that this process runs in (its
 *  containers' groups go below it), or why there is none (cgroup/delegation.ts). Ownership is
 *  seen from inside the user namespace, where the user is 0. */
export function rootlessDelegation(): Delegation {
  if (delegation) return delegation;
  const layout = hostLayout();
  let self = "";
  try {
    self = readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    // No /proc/self/cgroup: no delegation.
  }
  delegation = findDelegation(self, layout.hierarchies.v2, layout.version, process.geteuid?.() ?? 0, ownerOf);
  return delegation;
}

/** The parent made for containers' groups that goes with its last container: `tsd`, or
 *  rootless, `<delegated>/tsd`. */
function defaultParent(group: string): string | undefined {
  if (group.startsWith(`${DEFAULT_PARENT}/`)) return DEFAULT_PARENT;
  const m = /^(.+\/tsd)\/[0-9a-f]{64}$/.exec(group);
  return m && rootlessMode() ? m[1] : undefined;
}

export function driverFor(layout: HostLayout): CgroupDriver {
  return layout.version === 2 ? new V2Driver(layout.hierarchies.v2!) : new V1Driver(v1WithNamed(layout.hierarchies));
}

export function hostDriver(): CgroupDriver {
  return driverFor(hostLayout());
}

export function hostCpus(): HostCpus {
  const read = (p: string, fallback: string) => {
    try {
      return readFileSync(p, "utf8").trim();
    } catch {
      return fallback;
    }
  };
  return {
    count: availableParallelism(),
    online: read("/sys/devices/system/cpu/online", `0-${availableParallelism() - 1}`),
    mems: read("/sys/devices/system/node/online", "0"),
  };
}

/** What of a container's run options places its group (the limits are config.json's:
 *  createBundleCgroup). */
export interface CgroupOptions {
  cgroupParent?: string;
}

/** The mounts that show the container its own cgroups read-only at /sys/fs/cgroup, as Docker:
 *  v1, a tmpfs with one mount per hierarchy; v2, cgroup2. With the cgroup namespace unshared
 *  first (CONTRACT.md init step 3), each shows the container's group as its root. */
export function cgroupMounts(layout: HostLayout, privileged: boolean) {
  const mode = privileged ? "rw" : "ro";
  const base = ["nosuid", "noexec", "nodev"];
  if (layout.version === 2) {
    return [{ destination: "/sys/fs/cgroup", type: "cgroup2", source: "cgroup", options: [...base, mode] }];
  }
  return [
    { destination: "/sys/fs/cgroup", type: "tmpfs", source: "tmpfs", options: [...base, "mode=755", "size=64k"] },
    ...layout.hierarchies.v1.map((h) => ({
      destination: `/sys/fs/cgroup/${basename(h.mountpoint)}`,
      type: "cgroup",
      source: "cgroup",
      options: [...base, mode, ...h.controllers],
    })),
    // The tmpfs read-only once its mount points exist (runc does the same remount).
    ...(privileged ? [] : [{ destination: "/sys/fs/cgroup", type: "tmpfs", source: "tmpfs", options: ["remount", ...base, "ro"] }]),
  ];
}

export interface ContainerCgroup {
  group: string;
  procs: string[];
  mounts: { destination: string; type: string; source: string; options: string[] }[];
}

/** Where the container's group goes and what the spec needs of it; creates nothing. Rootless:
 *  below the delegated directory, none without one (limits are refused before: container/rootless.ts). */
export function planContainerCgroup(id: string, o: CgroupOptions, privileged: boolean): ContainerCgroup | undefined {
  const layout = hostLayout();
  let group = groupPath(id, o.cgroupParent);
  if (rootlessMode()) {
    const d = rootlessDelegation();
    if (!("dir" in d)) return undefined;
    group = delegatedGroup(d.dir, id, o.cgroupParent);
  }
  return {
    group,
    procs: driverFor(layout).procsPaths(group),
    mounts: cgroupMounts(layout, privileged),
  };
}

export interface BundleSpec {
  annotations?: Record<string, string>;
  linux?: { cgroupsPath?: string; resources?: unknown };
}

const PROCS_ANNOTATION = "io.tsd.cgroup.procs";

function readBundleSpec(bundle: string): BundleSpec {
  const path = join(bundle, "config.json");
  try {
    return JSON.parse(readFileSync(path, "utf8")) as BundleSpec;
  } catch (e) {
    throw new TsdError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The group a bundle's config.json names (linux.cgroupsPath), if it has a valid one. */
export function bundleGroup(bundle: string): string | undefined {
  try {
    return parseCgroupsPath(readBundleSpec(bundle).linux?.cgroupsPath);
  } catch {
    return undefined;
  }
}

/** The group and the limits config.json gives: the one source of a container's limits. */
function specLimits(spec: BundleSpec): { group: string | undefined; limits: SpecLimits } {
  return { group: parseCgroupsPath(spec.linux?.cgroupsPath), limits: resourcesFromSpec(spec.linux?.resources) };
}

/** Checks config.json's cgroup (the errors a start would meet) and prints Docker's warnings,
 *  creating nothing: `tsd create`, whose group is made by the start. `spec`: the bundle's
 *  config.json as its writer holds it (else read here). */
export function checkBundleCgroup(bundle: string, spec: BundleSpec = readBundleSpec(bundle)): { group: string | undefined; limits: SpecLimits } {
  const { group, limits } = specLimits(spec);
  const r = limits.resources;
  // Docker's warnings, word for word: the container still starts.
  if (r.oomKillDisable && hostLayout().version === 2) console.error("WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.");
  else if (r.oomKillDisable && (r.memory === undefined || r.memory === -1)) console.error("WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  return { group, limits };
}

/** Creates the group config.json names (linux.cgroupsPath) with the limits and device rules
 *  of its linux.resources; undone by itself when a write fails. No cgroupsPath: no group.
 *  The run and the start of a container, so the group always has what the spec says now. */
export function createBundleCgroup(bundle: string, spec: BundleSpec = readBundleSpec(bundle)): void {
  const { group, limits } = checkBundleCgroup(bundle, spec);
  const driver = hostDriver();
  // The monitor joins the paths of io.tsd.cgroup.procs (CONTRACT.md): kept naming this group.
  syncProcsAnnotation(bundle, spec, group === undefined ? [] : driver.procsPaths(group));
  if (group === undefined) return;
  const r = limits.resources;
  try {
    // Rootless: no device program (loading one needs CAP_SYS_ADMIN on the host; the user
    // namespace already keeps device nodes from being made).
    driver.create(group, r, rootlessMode() ? undefined : limits.devices);
  } catch (e) {
    // The driver removed the group; a default parent made for it goes too when unused.
    const parent = defaultParent(group);
    if (parent !== undefined) driver.removeIfEmpty(parent);
    throw e;
  }
  // The monitor's first cgroup.procs write (v1) waits out a grace period: started now, from a
  // pool thread, it runs while the monitor starts (warm.ts). Not before the group is made: the
  // waiting write holds the cgroup mutex, which every mkdir of the group would wait for.
  warmAttachSoon(driver);
}

/**
 * A process is about to be moved into a container's groups (the monitor's init, an exec
 * helper): on v1, as root, the attach's grace period is started now (warm.ts), so the move
 * waits only for what is left of it. TSD_NO_ATTACH_WARMUP=1 leaves it out.
 */
export function warmAttachSoon(driver: CgroupDriver = hostDriver()): void {
  if (driver instanceof V1Driver && !rootlessMode() && process.env.TSD_NO_ATTACH_WARMUP === undefined) warmCgroupAttach();
}

/** Sets config.json's io.tsd.cgroup.procs to `procs` (none: removed) when it says otherwise,
 *  so a cgroupsPath changed in the spec is the group the init joins. */
function syncProcsAnnotation(bundle: string, spec: BundleSpec, procs: string[]): void {
  const path = join(bundle, "config.json");
  const want = procs.join(":");
  if ((spec.annotations?.[PROCS_ANNOTATION] ?? "") === want) return;
  const annotations = { ...spec.annotations };
  if (want === "") delete annotations[PROCS_ANNOTATION];
  else annotations[PROCS_ANNOTATION] = want;
  writeFileSync(`${path}.tmp`, JSON.stringify({ ...spec, annotations }, null, 2));
  renameSync(`${path}.tmp`, path);
}

/** Writes config.json's linux.resources into the existing group it names (tsd update). */
export function updateBundleCgroup(bundle: string): void {
  const { group, limits } = specLimits(readBundleSpec(bundle));
  if (group !== undefined) hostDriver().update(group, limits.resources);
}

/** The `cgroup.procs` files a process writes its pid into to join the bundle's group (exec, cp). */
export function bundleProcsPaths(bundle: string): string[] {
  const group = bundleGroup(bundle);
  return group === undefined ? [] : hostDriver().procsPaths(group);
}

/** After the container exited: whether the OOM killer struck (read before the group goes),
 *  then the group the bundle names is removed (nothing when it names none). Idempotent.
 *  `tolerant` (the exit cleanup): a group that cannot be removed (a process stuck in D state)
 *  is reported on stderr instead of failing, so the exit is still recorded; `rm`, which
 *  deletes the bundle that names the group, keeps the error. */
export function releaseBundleCgroup(bundle: string, o: { tolerant?: boolean } = {}): { oomKilled: boolean } {
  const group = bundleGroup(bundle);
  if (group === undefined) return { oomKilled: false };
  const driver = hostDriver();
  if (!driver.exists(group)) return { oomKilled: false };
  const oomKilled = driver.oomKilled(group);
  try {
    driver.remove(group);
  } catch (e) {
    if (!o.tolerant) throw e;
    console.error(`tsd: ${(e as Error).message} (tsd rm retries)`);
  }
  const parent = defaultParent(group);
  if (parent !== undefined) driver.removeIfEmpty(parent);
  return { oomKilled };
}

/** Thaws a paused container's group at once (its exit cleanup, before the group goes). */
export function thawBundleNow(bundle: string): void {
  const group = bundleGroup(bundle);
  if (group !== undefined) hostDriver().thawNow(group);
}

/** Freezes or thaws the bundle's group (Docker's pause); false without a freezer or a group. */
export async function freezeBundle(bundle: string, frozen: boolean): Promise<boolean> {
  const group = bundleGroup(bundle);
  return group === undefined ? false : hostDriver().freeze(group, frozen);
}

/** The bundle's group's counters, or undefined when it has none (left). */
export function bundleStats(bundle: string): CgroupStats | undefined {
  const group = bundleGroup(bundle);
  const driver = hostDriver();
  return group !== undefined && driver.exists(group) ? driver.stats(group) : undefined;
}

/** A group made for a config.json tsd did not write (the OCI-runtime mode, issue 12): its
 *  directories and the cgroup.procs files the init joins. */
export interface SpecGroup {
  group: string;
  dirs: string[];
  procs: string[];
}

/** The OCI-runtime mode's createBundleCgroup: the group `cgroupsPath` names (a path or
 *  systemd's `slice:prefix:name`), with the limits and device rules of `spec.linux.resources`,
 *  made the same way; nothing is written into the bundle (the monitor is handed the procs
 *  paths). Undone by itself when a write fails. */
export function createSpecCgroup(spec: BundleSpec, cgroupsPath: string): SpecGroup {
  // No Docker warnings here: a runtime's stderr is the container's (the shim's log).
  const limits = resourcesFromSpec(spec.linux?.resources);
  const group = parseCgroupsPath(cgroupsPath);
  if (group === undefined) throw new TsdError(`config.json linux.cgroupsPath "${cgroupsPath}": names no group`);
  const driver = hostDriver();
  // A process joining a frozen group stops there at once: the create would hang (runc refuses too).
  if (cgroupFrozen(driver.dirs(group))) throw new TsdError(`container's cgroup unexpectedly frozen: cgroup ${group} is frozen: thaw it (or name another group in linux.cgroupsPath) before creating a container in it`);
  driver.create(group, limits.resources, limits.devices);
  return { group, dirs: driver.dirs(group), procs: driver.procsPaths(group) };
}

/** Removes a group createSpecCgroup made (anything still in it is killed by the driver). */
export function removeSpecCgroup(group: string): void {
  const driver = hostDriver();
  if (driver.exists(group)) driver.remove(group);
}
