// Starting the v1 attach's grace period early. On cgroup v1 (and v2 without clone3's
// CLONE_INTO_CGROUP) every write to a cgroup.procs takes the kernel's cgroup_threadgroup_rwsem
// for writing, and the first writer after a quiet spell waits for an RCU grace period (5-30 ms
// on these hosts, bench/README.md); writers within about one grace period after it pass at
// once. The monitor's move of the init is such a first write, on the start's critical path.
// So `tsd run` writes "0" (this process) into the cgroup.procs of the group it is in already,
// a move to where it is, from a pool thread while it builds the bundle: the grace period runs
// meanwhile and the monitor's writes a few ms later wait only for what is left of it. It is
// started once the group is made (index.ts createBundleCgroup), a few ms before the monitor's
// write: the waiting write holds the cgroup mutex, so the group's own mkdirs must not come
// after it, and started at the beginning of the create, on a loaded host the grace period had
// passed and lapsed again before the monitor wrote. TSD_NO_ATTACH_WARMUP=1 leaves it out
// (bench/run.sh NOWARM=1 compares).
import { promises, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCgroupFile } from "./delegation";

/**
 * The cgroup.procs of this process's own group in a v1 hierarchy mounted at its root (so the
 * mountpoint plus /proc/self/cgroup's path is that group), or undefined. Pure.
 */
export function ownV1ProcsFile(mountinfo: string, procCgroup: string): string | undefined {
  const lines = parseCgroupFile(procCgroup);
  for (const line of mountinfo.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(" ");
    const [fstype, , superOpts = ""] = line.slice(dash + 3).split(" ");
    if (fstype !== "cgroup" || pre[3] !== "/" || pre[4] === undefined || pre[4].includes("\\")) continue;
    const opts = superOpts.split(",");
    const own = lines.find((l) => l.controllers !== "" && l.controllers.split(",").every((c) => opts.includes(c)));
    if (own === undefined || !own.path.startsWith("/") || own.path.includes("..")) continue;
    return join(pre[4], own.path, "cgroup.procs");
  }
  return undefined;
}

/** Starts the grace period (v1 hosts, as root); never fails, never waits. */
export function warmCgroupAttach(): void {
  let file: string | undefined;
  try {
    file = ownV1ProcsFile(readFileSync("/proc/self/mountinfo", "utf8"), readFileSync("/proc/self/cgroup", "utf8"));
  } catch {
    return;
  }
  if (file !== undefined) promises.writeFile(file, "0").catch(() => {});
}
