// The cgroup side of a container: which driver this host needs, the container's group
// (`tsd/<id>` or `<cgroup-parent>/<id>`), its procs paths for the monitor and for exec, the
// read-only /sys/fs/cgroup the container sees, and the release after it exits.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { availableParallelism } from "node:os";
import { chooseVersion, parseMountinfo, type Hierarchies } from "./detect";
import { V1Driver, V2Driver, type CgroupDriver } from "./driver";
import { DEFAULT_PARENT, groupPath, type HostCpus, type Resources } from "./resources";
import { deviceRules, grantedDeviceRules, type GrantedDevices } from "./devices";

export { groupPath } from "./resources";
export type { CgroupDriver, CgroupStats } from "./driver";
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

export function driverFor(layout: HostLayout): CgroupDriver {
  return layout.version === 2 ? new V2Driver(layout.hierarchies.v2!) : new V1Driver(layout.hierarchies.v1);
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

/** What the container's cgroup settings are stored as in its run options. */
export interface CgroupOptions {
  resources?: Resources;
  cgroupParent?: string;
  /** Every device allowed (--privileged); else Docker's default device rules. */
  privileged?: boolean;
  /** --device: their nodes are allowed too. */
  devices?: readonly GrantedDevices[];
}

/** The container's group, from its id and its run options (decodeOptions of its row). */
export function containerGroup(id: string, options: CgroupOptions): string {
  return groupPath(id, options.cgroupParent);
}

/** The `cgroup.procs` files a process writes its pid into to join the container's cgroups (exec). */
export function containerProcsPaths(id: string, options: CgroupOptions): string[] {
  return hostDriver().procsPaths(containerGroup(id, options));
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

/** Where the container's group goes and what the spec needs of it; creates nothing. */
export function planContainerCgroup(id: string, o: CgroupOptions, privileged: boolean): ContainerCgroup {
  const layout = hostLayout();
  const group = groupPath(id, o.cgroupParent);
  return {
    group,
    procs: driverFor(layout).procsPaths(group),
    mounts: cgroupMounts(layout, privileged),
  };
}

/** Creates the container's group with its limits (undone by itself when a write fails). */
export function createContainerCgroup(id: string, o: CgroupOptions): void {
  const driver = hostDriver();
  const r = o.resources ?? {};
  // Docker's warnings, word for word: the container still starts.
  if (r.oomKillDisable && driver.version === 2) console.error("WARNING: Your kernel does not support OomKillDisable. OomKillDisable discarded.");
  else if (r.oomKillDisable && r.memory === undefined) console.error("WARNING: Disabling the OOM killer on containers without setting a '-m/--memory' limit may be dangerous.");
  try {
    driver.create(groupPath(id, o.cgroupParent), r, deviceRules(Boolean(o.privileged), grantedDeviceRules(o.devices)));
  } catch (e) {
    // The driver removed the group; a default parent made for it goes too when unused.
    if (o.cgroupParent === undefined) driver.removeIfEmpty(DEFAULT_PARENT);
    throw e;
  }
}

/** The group a bundle's config.json names (linux.cgroupsPath), if it has one. */
export function bundleGroup(bundle: string): string | undefined {
  try {
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { linux?: { cgroupsPath?: string } };
    const p = spec.linux?.cgroupsPath?.replace(/^\/+/, "");
    return p ? p : undefined;
  } catch {
    return undefined;
  }
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
  if (group.startsWith(`${DEFAULT_PARENT}/`)) driver.removeIfEmpty(DEFAULT_PARENT);
  return { oomKilled };
}

/** Freezes or thaws the container's processes (Docker's pause); false without a freezer. */
export function freezeContainer(id: string, options: CgroupOptions, frozen: boolean): Promise<boolean> {
  return hostDriver().freeze(containerGroup(id, options), frozen);
}
