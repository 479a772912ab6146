// The pure parts of checkpoint/restore (src/runtime/criu.ts, checkpoint.ts, restore.ts): runc's
// flags to CRIU's options, the external mounts and files, CRIU's log read back.
import { describe, expect, test } from "bun:test";
import { cgroupsMode, dumpOptionArgs, emptyNsArgs, CHECKPOINT_FLAGS } from "../../src/runtime/checkpoint";
import { criuBinary, criuLogError, dumpControllers, externalFileKey, externalMounts } from "../../src/runtime/criu";
import { parseCgroupFile } from "../../src/cgroup";
import { parseFlags } from "../../src/runtime/flags";
import { restoreOptionArgs, stdioInherit, RESTORE_FLAGS } from "../../src/runtime/restore";

const V1 = "9:name=systemd:/\n8:pids:/tsd/x\n4:cpu,cpuacct:/tsd/x\n0::/\n";

describe("the CRIU binary", () => {
  test("--criu PATH, else criu on PATH, else one line naming the fix", () => {
    expect(criuBinary("/bin/sh")).toBe("/bin/sh");
    expect(criuBinary(undefined, (n) => (n === "criu" ? "/usr/sbin/criu" : null))).toBe("/usr/sbin/criu");
    expect(() => criuBinary(undefined, () => null)).toThrow('checkpoint/restore need CRIU: "criu" is not on PATH (install it: apt-get install criu');
    expect(() => criuBinary("/no/criu")).toThrow("--criu /no/criu: no such file");
  });
});

describe("external mounts (runc's rules)", () => {
  const spec = {
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/data", type: "bind", source: "vol", options: ["rbind"] },
      { destination: "/etc/hosts/", type: "none", source: "/h/hosts", options: ["bind", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro"] },
    ],
    linux: { devices: [{ path: "/dev/fuse" }] },
  };
  const cgroups = parseCgroupFile(V1);

  test("binds (source against the bundle), one per v1 hierarchy under the cgroup mount, devices", () => {
    expect(externalMounts(spec, "/b", cgroups, (l) => `/sys/fs/cgroup/${l.controllers}${l.path}`)).toEqual([
      { key: "/data", source: "/b/vol" },
      { key: "/etc/hosts", source: "/h/hosts" },
      { key: "/sys/fs/cgroup/systemd", source: "/sys/fs/cgroup/name=systemd/" },
      { key: "/sys/fs/cgroup/pids", source: "/sys/fs/cgroup/pids/tsd/x" },
      { key: "/sys/fs/cgroup/cpu,cpuacct", source: "/sys/fs/cgroup/cpu,cpuacct/tsd/x" },
      { key: "/dev/fuse", source: "/dev/fuse" },
    ]);
  });

  test("with a cgroup namespace the cgroup mount is the container's own (not external)", () => {
    const ns = { ...spec, linux: { namespaces: [{ type: "cgroup" }] } };
    expect(externalMounts(ns, "/b", cgroups, () => "").map((m) => m.key)).toEqual(["/data", "/etc/hosts"]);
  });

  test("dump takes the cgroups of the hierarchies the init has its own group in", () => {
    expect(dumpControllers(cgroups, "tsd/x")).toEqual(["pids", "cpu,cpuacct"]);
    expect(dumpControllers(parseCgroupFile("0::/tsd/x\n"), "tsd/x")).toEqual([]);
  });
});

describe("flags to CRIU options", () => {
  test("checkpoint: runc's booleans, page server, manage-cgroups-mode, empty-ns", () => {
    const p = parseFlags(["--leave-running", "--tcp-established", "--ext-unix-sk", "--shell-job", "--file-locks", "--page-server", "10.0.0.1:2000", "--empty-ns", "network", "c"], CHECKPOINT_FLAGS);
    expect(dumpOptionArgs(p, "/img")).toEqual(["--page-server", "--address", "10.0.0.1", "--port", "2000", "--leave-running", "--tcp-established", "--ext-unix-sk", "--shell-job", "--file-locks", "--empty-ns", "net"]);
    expect(cgroupsMode(undefined)).toBe("soft");
    expect(() => cgroupsMode("loose")).toThrow('invalid --manage-cgroups-mode value "loose"');
    expect(() => emptyNsArgs(["pid"])).toThrow('--empty-ns pid: only "network" is supported');
  });

  test("refused with one line: --lazy-pages, an absolute or missing --parent-path, a bad page server", () => {
    expect(() => dumpOptionArgs(parseFlags(["--lazy-pages"], CHECKPOINT_FLAGS), "/img")).toThrow("--lazy-pages is not supported by tsd");
    expect(() => dumpOptionArgs(parseFlags(["--parent-path", "/abs"], CHECKPOINT_FLAGS), "/img")).toThrow("--parent-path must be relative");
    expect(() => dumpOptionArgs(parseFlags(["--parent-path", "../nosuch"], CHECKPOINT_FLAGS), "/tmp")).toThrow("invalid --parent-path: /nosuch is no directory");
    expect(() => dumpOptionArgs(parseFlags(["--page-server", "host"], CHECKPOINT_FLAGS), "/img")).toThrow("Use --page-server ADDRESS:PORT");
    expect(dumpOptionArgs(parseFlags(["--parent-path", "."], CHECKPOINT_FLAGS), "/tmp")).toEqual(["--prev-images-dir", ".", "--track-mem"]);
  });

  test("restore: runc's booleans and LSM options", () => {
    const p = parseFlags(["--tcp-established", "--file-locks", "--manage-cgroups-mode", "ignore", "--lsm-profile", "apparmor:x", "-d", "c"], RESTORE_FLAGS);
    expect(restoreOptionArgs(p)).toEqual(["--manage-cgroups=ignore", "--tcp-established", "--file-locks", "--lsm-profile", "apparmor:x"]);
  });

  test("restore's stdio: the dumped init's pipes (runc's descriptors.json) and outside files", () => {
    const names = ["/dev/null", "pipe:[123]", "socket:[9]"];
    expect(stdioInherit(names, ["file[18:3]", null, null])).toEqual(["--inherit-fd", "fd[0]:file[18:3]", "--inherit-fd", "fd[1]:pipe:[123]"]);
    expect(externalFileKey(24, 10124571n)).toBe("file[18:9a7d1b]");
  });
});

describe("CRIU's log", () => {
  test("the first error that is the cause, without its timestamp; the old-CRIU-new-kernel hint", () => {
    const log = "(00.01) Warn  (x): w\n(00.05) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n(00.09) Error (criu/files-reg.c:1790): Can't lookup mount=24 for fd=0 path=/dev/null\n(00.10) Error (criu/cr-dump.c:2128): Dumping FAILED.\n";
    expect(criuLogError(log)).toBe("Error (criu/files-reg.c:1790): Can't lookup mount=24 for fd=0 path=/dev/null");
    expect(criuLogError("Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n")).toContain("it needs CRIU 4.1 or later");
    expect(criuLogError("all fine\n")).toBeUndefined();
  });
});
