// The pure parts of the runtime mode's verbs (src/runtime/): features in runc's JSON shape,
// update's flags → LinuxResources, exec's process from runc's flags, spec's default config.
import { describe, expect, test } from "bun:test";
import { features, seccompArchs } from "../../src/runtime/features";
import { parseFlags } from "../../src/runtime/flags";
import { resourcesFromFlags, UPDATE_FLAGS, withCurrentMemory } from "../../src/runtime/update";
import { checkExecFlags, EXEC_FLAGS, execCgroupProcs, execProcess, parseSubCgroup, type ProcessSpec } from "../../src/runtime/exec";
import { defaultSpec } from "../../src/runtime/spec";
import { resourcesFromSpec } from "../../src/cgroup/spec";
import { rmdirEmptyGroup } from "../../src/runtime/delete";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runc = Bun.which("runc");

describe("features", () => {
  const f = features("x64") as Record<string, any>;

  test("runc's shape: the keys and their types", () => {
    expect(Object.keys(f)).toEqual(["ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations"]);
    expect(Object.keys(f.linux)).toEqual(["namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux"]);
    expect(Object.keys(f.linux.seccomp)).toEqual(["enabled", "actions", "operators", "archs"]);
    expect(Object.keys(f.linux.cgroup)).toEqual(["v1", "v2", "systemd", "systemdUser"]);
    expect([f.ociVersionMin, f.ociVersionMax]).toEqual(["1.0.0", "1.3.0"]);
  });

  test("what tsd accepts: all six hooks, no SCMP_ACT_NOTIFY, no time namespace, mount options sorted", () => {
    expect(f.hooks).toEqual(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
    expect(f.linux.seccomp.actions).not.toContain("SCMP_ACT_NOTIFY");
    expect(f.linux.namespaces).not.toContain("time");
    expect(f.mountOptions).toEqual([...f.mountOptions].sort());
    for (const o of ["rbind", "rro", "rnosuid", "rprivate", "nosymfollow", "strictatime"]) expect(f.mountOptions).toContain(o);
    expect(f.mountOptions).not.toContain("ratime"); // "atime" has no mount attribute: no recursive form
    expect(seccompArchs("arm64")).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  });

  test.skipIf(!runc)("the same keys as the installed runc's `runc features` (skipped without runc)", () => {
    const theirs = JSON.parse(Bun.spawnSync([runc!, "features"]).stdout.toString()) as Record<string, any>;
    const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
    expect(keys(f)).toEqual(keys(theirs));
    expect(keys(f.linux)).toEqual(keys(theirs.linux));
    expect(keys(f.linux.seccomp)).toEqual(keys(theirs.linux.seccomp));
    expect(f.linux.capabilities).toEqual(theirs.linux.capabilities);
  });
});

describe("update", () => {
  test("runc's flags → LinuxResources, only what was given", () => {
    const p = parseFlags(["--memory", "64m", "--memory-swap=-1", "--cpu-quota", "50000", "--cpu-period", "100000", "--cpu-share", "512", "--pids-limit", "50", "--cpuset-cpus", "0", "--blkio-weight", "300", "c1"], UPDATE_FLAGS);
    expect(resourcesFromFlags(p)).toEqual({
      memory: { limit: 67108864, swap: -1 },
      cpu: { quota: 50000, period: 100000, shares: 512, cpus: "0" },
      pids: { limit: 50 },
      blockIO: { weight: 300 },
    });
    expect(resourcesFromFlags(parseFlags(["c1"], UPDATE_FLAGS))).toEqual({});
  });

  test("the flags' object is what --resources would carry: one reading through src/cgroup", () => {
    const r = resourcesFromSpec(resourcesFromFlags(parseFlags(["--memory", "1g", "--pids-limit", "10", "c1"], UPDATE_FLAGS))).resources;
    expect([r.memory, r.pidsLimit]).toEqual([1024 ** 3, 10]);
  });

  test("swap alone is checked against the container's memory limit; memory -1 alone frees swap", () => {
    expect(withCurrentMemory({ memory: { swap: 96468992 } }, 52428800)).toEqual({ memory: { swap: 96468992, limit: 52428800 } });
    expect(withCurrentMemory({ memory: { swap: 96468992, limit: 67108864 } }, 52428800)).toEqual({ memory: { swap: 96468992, limit: 67108864 } });
    expect(withCurrentMemory({ memory: { swap: 96468992 } }, undefined)).toEqual({ memory: { swap: 96468992 } });
    expect(withCurrentMemory({ memory: { limit: -1 } }, 52428800)).toEqual({ memory: { limit: -1, swap: -1 } });
    expect(withCurrentMemory({ pids: { limit: 3 } }, 52428800)).toEqual({ pids: { limit: 3 } });
    const r = resourcesFromSpec(withCurrentMemory(resourcesFromFlags(parseFlags(["--memory-swap", "96468992", "c1"], UPDATE_FLAGS)), 52428800)).resources;
    expect([r.memory, r.memorySwap]).toEqual([52428800, 96468992]);
  });

  test("bad values and what tsd cannot do are refused by name", () => {
    expect(() => resourcesFromFlags(parseFlags(["--memory", "lots", "c1"], UPDATE_FLAGS))).toThrow('invalid value "lots" for flag --memory');
    expect(() => resourcesFromFlags(parseFlags(["--cpu-quota", "1.5", "c1"], UPDATE_FLAGS))).toThrow("an integer");
    expect(() => resourcesFromFlags(parseFlags(["--kernel-memory", "1m", "c1"], UPDATE_FLAGS))).toThrow("--kernel-memory is not supported by tsd");
  });
});

describe("exec's process", () => {
  const base: ProcessSpec = {
    terminal: false, user: { uid: 0, gid: 0, additionalGids: [0] }, args: ["sh"], env: ["PATH=/bin", "A=1"], cwd: "/",
    capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] }, noNewPrivileges: false,
  };
  const flags = (argv: string[]) => parseFlags(argv, EXEC_FLAGS, false);

  test("args, -e appended, --cwd, -t, -u uid:gid, -g, --cap into three sets, --no-new-privs", () => {
    const p = execProcess(base, flags(["-e", "B=2", "--cwd", "/tmp", "-t", "-u", "1000:100", "-g", "5", "--cap", "CAP_NET_RAW", "--no-new-privs", "c1", "ls", "-l"]));
    expect(p).toEqual({
      terminal: true, user: { uid: 1000, gid: 100, additionalGids: [5] }, args: ["ls", "-l"], env: ["PATH=/bin", "A=1", "B=2"], cwd: "/tmp",
      capabilities: { bounding: ["CAP_KILL", "CAP_NET_RAW"], effective: ["CAP_KILL", "CAP_NET_RAW"], permitted: ["CAP_KILL", "CAP_NET_RAW"] }, noNewPrivileges: true,
    });
    expect(base.env).toEqual(["PATH=/bin", "A=1"]); // the container's own is not changed
  });

  test("no command and no --process: refused; a user name: refused (runc takes numbers)", () => {
    expect(() => execProcess(base, flags(["c1"]))).toThrow("exec: args cannot be empty");
    expect(() => execProcess(base, flags(["-u", "nobody", "c1", "id"]))).toThrow('the uid must be numeric, not "nobody"');
  });

  test("runc's refusals: a tty when detaching without a console socket, a socket without a tty", () => {
    expect(() => checkExecFlags(flags(["-d", "-t", "c1", "sh"]), true)).toThrow("cannot allocate tty if tsd-runc will detach without setting console socket");
    expect(() => checkExecFlags(flags(["--console-socket", "/s", "c1", "sh"]), false)).toThrow("cannot use console socket if tsd-runc will not allocate tty");
    expect(() => checkExecFlags(flags(["-d", "--console-socket", "/s", "c1", "sh"]), true)).not.toThrow();
    expect(() => checkExecFlags(flags(["--apparmor", "p", "c1", "sh"]), false)).toThrow("not supported by tsd");
  });

  test("--cgroup: a sub-group of the container's, for every hierarchy or the named controllers' (runc's)", () => {
    expect(parseSubCgroup("memory:submem")).toEqual({ controllers: ["memory"], path: "submem" });
    expect(parseSubCgroup("cpu,cpuacct:/a/b/")).toEqual({ controllers: ["cpu", "cpuacct"], path: "a/b" });
    expect(parseSubCgroup("/")).toEqual({ controllers: [], path: "" });
    expect(() => parseSubCgroup("..")).toThrow(" .. is not a sub cgroup path");
    expect(() => parseSubCgroup("a/../../b")).toThrow("is not a sub cgroup path");
    const dirs = ["/c/memory/x", "/c/cpu/x", "/c/pids/x"];
    const of = (d: string) => [d.split("/")[2]!];
    expect(execCgroupProcs(dirs, [], of)).toEqual(["/c/memory/x/cgroup.procs", "/c/cpu/x/cgroup.procs", "/c/pids/x/cgroup.procs"]);
    expect(execCgroupProcs(dirs, [parseSubCgroup("memory:m"), parseSubCgroup("all")], of)).toEqual(["/c/memory/x/m/cgroup.procs", "/c/cpu/x/all/cgroup.procs", "/c/pids/x/all/cgroup.procs"]);
    expect(() => execCgroupProcs(dirs, [parseSubCgroup("whaaat:/")], of)).toThrow("unknown controller whaaat");
  });
});

describe("spec", () => {
  test.skipIf(!runc)("runc's default spec but for ociVersion and hostname (skipped without runc)", async () => {
    const dir = `/tmp/tsd-unit-spec-${process.pid}`;
    for (const rootless of [false, true]) {
      Bun.spawnSync(["rm", "-rf", dir]);
      Bun.spawnSync(["mkdir", "-p", dir]);
      Bun.spawnSync([runc!, "spec", ...(rootless ? ["--rootless"] : [])], { cwd: dir });
      const theirs = JSON.parse(await Bun.file(`${dir}/config.json`).text()) as Record<string, unknown>;
      const ours = defaultSpec(rootless, process.getuid!(), process.getgid!());
      expect({ ...ours, ociVersion: "", hostname: "" }).toEqual({ ...theirs, ociVersion: "", hostname: "" });
    }
    Bun.spawnSync(["rm", "-rf", dir]);
  });

  test("--rootless: the caller mapped to root, a user namespace instead of the network one", () => {
    const s = defaultSpec(true, 1000, 1000) as { linux: { uidMappings: unknown; namespaces: { type: string }[]; resources?: unknown } };
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(s.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount", "user"]);
    expect(s.linux.resources).toBeUndefined();
  });
});

describe("delete's one-rmdir removal of a stopped container's group", () => {
  test("empty and missing directories: removed, true; one with a sub-group: kept, false (the driver's removal then)", () => {
    const base = mkdtempSync(join(tmpdir(), "tsd-rmdir-"));
    try {
      const empty = join(base, "a");
      const nested = join(base, "b");
      mkdirSync(empty);
      mkdirSync(join(nested, "child"), { recursive: true });
      expect(rmdirEmptyGroup([empty, join(base, "gone")])).toBe(true);
      expect(existsSync(empty)).toBe(false);
      expect(rmdirEmptyGroup([nested])).toBe(false);
      expect(existsSync(join(nested, "child"))).toBe(true);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
