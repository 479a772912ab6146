// Which cgroup hierarchies this host has, from /proc/self/mountinfo (never a hard-coded path),
// and the v1/v2 choice: v2 when the unified hierarchy has the controllers, else v1. Pure.

/** Controllers a v1 mount can carry; anything else in its options is a mount flag. */
const V1_CONTROLLERS = new Set([
  "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio",
  "perf_event", "hugetlb", "pids", "rdma", "misc",
]);

export interface V1Hierarchy {
  mountpoint: string;
  controllers: string[];
}

export interface Hierarchies {
  /** v1 hierarchies with at least one controller, in mountinfo order, one per mountpoint. */
  v1: V1Hierarchy[];
  /** The cgroup2 mountpoint, if any. */
  v2?: string;
  /** v1's controller-less `name=systemd` hierarchy, if mounted (a hybrid host's). */
  systemd?: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseMountinfo(text: string): Hierarchies {
  const out: Hierarchies = { v1: [] };
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const dash = line.indexOf(" - ");
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(" ");
    const [fstype, , superOpts = ""] = line.slice(dash + 3).split(" ");
    const mountpoint = unescape(pre[4] ?? "");
    if (fstype === "cgroup2") {
      out.v2 ??= mountpoint;
    } else if (fstype === "cgroup") {
      if (superOpts.split(",").includes("name=systemd")) out.systemd ??= mountpoint;
      const controllers = superOpts.split(",").filter((o) => V1_CONTROLLERS.has(o));
      // The same hierarchy mounted twice (a bind elsewhere) is used once, where first seen.
      const key = controllers.join(",");
      if (controllers.length === 0 || seen.has(key)) continue;
      seen.add(key);
      out.v1.push({ mountpoint, controllers });
    }
  }
  return out;
}

/** The v1 driver's hierarchies: the controllers', then (runc's, on a v1 or hybrid host) the
 *  `name=systemd` one and the unified one, which carry no limit but where a container's
 *  processes are placed too (its /proc/self/cgroup names its group in every line). */
export function v1WithNamed(h: Hierarchies): V1Hierarchy[] {
  const named = [h.systemd, h.v2].filter((m): m is string => m !== undefined).map((mountpoint) => ({ mountpoint, controllers: [] }));
  return [...h.v1, ...named];
}

/** The controllers the limits need; v2 is chosen when the unified hierarchy offers them. */
export const NEEDED = ["memory", "cpu", "pids"];

export function chooseVersion(h: Hierarchies, v2Controllers: string[]): 1 | 2 {
  if (h.v2 !== undefined && NEEDED.some((c) => v2Controllers.includes(c))) return 2;
  if (h.v1.some((x) => x.controllers.includes("memory"))) return 1;
  if (h.v2 !== undefined) return 2;
  throw new Error("no cgroup hierarchy is mounted (neither cgroup2 nor a v1 memory hierarchy in /proc/self/mountinfo)");
}
