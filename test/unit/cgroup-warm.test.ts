// cgroup/warm.ts: which cgroup.procs `tsd run` writes "0" into to start the v1 attach's grace
// period early. It must be this process's own group (a move to where it is), or nothing.
import { describe, expect, test } from "bun:test";
import { ownV1ProcsFile } from "../../src/cgroup/warm";

const HYBRID = [
  "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
  "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
  "33 31 0:30 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "34 31 0:31 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
  "35 31 0:32 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

describe("ownV1ProcsFile", () => {
  test("the first v1 hierarchy mounted at its root: mountpoint + this process's path there", () => {
    const self = "12:pids:/user.slice/s1\n11:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/s1.scope\n0::/user.slice/s1.scope\n";
    expect(ownV1ProcsFile(HYBRID, self)).toBe("/sys/fs/cgroup/cpu,cpuacct/user.slice/cgroup.procs");
  });

  test("the root group", () => {
    expect(ownV1ProcsFile(HYBRID, "2:cpu,cpuacct:/\n0::/\n")).toBe("/sys/fs/cgroup/cpu,cpuacct/cgroup.procs");
  });

  test("a named hierarchy counts (name=systemd)", () => {
    expect(ownV1ProcsFile(HYBRID, "1:name=systemd:/a\n0::/a\n")).toBe("/sys/fs/cgroup/systemd/a/cgroup.procs");
  });

  test("a hierarchy mounted at a group below its root is skipped (mountpoint + path would be another group)", () => {
    const bound = "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n33 31 0:30 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids";
    expect(ownV1ProcsFile(bound, "12:pids:/x\n11:cpu,cpuacct:/docker/abc\n")).toBe("/sys/fs/cgroup/pids/x/cgroup.procs");
    expect(ownV1ProcsFile(bound.split("\n")[0]!, "11:cpu,cpuacct:/docker/abc\n")).toBeUndefined();
  });

  test("pure v2, no v1 line for the mount, or a path that is no absolute group: nothing", () => {
    expect(ownV1ProcsFile("35 31 0:32 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw", "0::/a\n")).toBeUndefined();
    expect(ownV1ProcsFile(HYBRID, "0::/a\n")).toBeUndefined();
    expect(ownV1ProcsFile(HYBRID, "12:pids:/a/../b\n")).toBeUndefined();
  });
});
