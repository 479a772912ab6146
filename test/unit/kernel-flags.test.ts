// The kernel-facing flags (issue 14 item 4) without root: flags → options → spec.
import { describe, expect, test } from "bun:test";
import { runOptionsFromFlags, type RunFlags } from "../../src/container/options";
import { buildSpec, type SpecContext } from "../../src/container/spec";
import { parseDevice, parseShmSize, parseUlimit } from "../../src/container/kernel-options";
import { commandArgs, hostConfigKernel, INIT_PATH, RLIM_INFINITY } from "../../src/container/kernel-spec";
import { deviceRules, grantedDeviceRules, DEFAULT_DEVICE_RULES } from "../../src/cgroup/devices";
import type { ImageConfig } from "../../src/image/store";
import { UsageError } from "../../src/cli/globals";

const noFlags: RunFlags = {
  rm: false, interactive: false, tty: false, env: [], "env-file": [], volume: [], tmpfs: [],
  "read-only": false, privileged: false, "cap-add": [], "cap-drop": [],
};
const opts = (f: Partial<RunFlags>) => runOptionsFromFlags({ ...noFlags, ...f }, ["busybox"], {}, () => "");
const image: ImageConfig = { rootfs: { type: "layers", diff_ids: [] }, config: { Cmd: ["sh"] } };
const ctx: SpecContext = {
  id: "a".repeat(64), root: "/r", bundle: `/r/containers/${"a".repeat(64)}`, lowerLinks: ["L1"],
  hostname: "box", user: { uid: 0, gid: 0, additionalGids: [0], home: "/root" }, etcFiles: { hostname: "/b/hostname", hosts: "/b/hosts" },
};
const refused = (f: Partial<RunFlags>, re: RegExp) => {
  expect(() => opts(f)).toThrow(UsageError);
  expect(() => opts(f)).toThrow(re);
};

describe("namespace modes", () => {
  test("host leaves the namespace out; container: joins by path; the default is private", () => {
    const s = buildSpec(opts({ pid: "host", ipc: "container:db", uts: "host" }), image, { ...ctx, kernel: { ipcPath: "/proc/42/ns/ipc" } });
    const ns = Object.fromEntries(s.linux.namespaces.map((n) => [n.type, n.path ?? "new"]));
    expect(ns).toEqual({ network: "new", ipc: "/proc/42/ns/ipc", mount: "new", cgroup: "new" });
    expect(s.hostname).toBe("");
    expect(buildSpec(opts({}), image, ctx).linux.namespaces.map((n) => n.type)).toEqual(["pid", "network", "ipc", "uts", "mount", "cgroup"]);
  });
  test("Docker's checks", () => {
    refused({ pid: "bogus" }, /--pid: invalid PID mode "bogus"/);
    refused({ pid: "container:" }, /--pid: invalid PID mode/);
    refused({ ipc: "shared" }, /--ipc: invalid IPC mode/);
    refused({ uts: "container:x" }, /--uts: invalid UTS mode/);
    refused({ uts: "host", hostname: "x" }, /conflicting options: hostname and the UTS mode/);
    expect(opts({ ipc: "" }).ipcMode).toBeUndefined();
  });
});

describe("--sysctl", () => {
  test("namespaced ones by the namespace they need", () => {
    expect(opts({ sysctl: ["net.ipv4.ip_forward=1", "kernel.shmmax=1=2"] }).sysctls).toEqual({ "net.ipv4.ip_forward": "1", "kernel.shmmax": "1=2" });
    expect(opts({ sysctl: ["kernel.domainname=x"] }).sysctls).toEqual({ "kernel.domainname": "x" });
    expect(buildSpec(opts({ sysctl: ["fs.mqueue.msg_max=20"] }), image, ctx).linux.sysctl).toEqual({ "fs.mqueue.msg_max": "20" });
    refused({ sysctl: ["net.ipv4.ip_forward=1"], network: "host" }, /not allowed in the host's network namespace/);
    refused({ sysctl: ["kernel.sem=1"], ipc: "host" }, /not allowed in the host's ipc namespace/);
    refused({ sysctl: ["kernel.domainname=x"], uts: "host" }, /not allowed in the host's uts namespace/);
    refused({ sysctl: ["kernel.hostname=x"] }, /conflicts with the hostname/);
    refused({ sysctl: ["vm.swappiness=1"] }, /sysctl 'vm.swappiness' is not whitelisted/);
    refused({ sysctl: ["net.core.somaxconn"] }, /KEY=VALUE/);
  });
});

describe("--ulimit", () => {
  test("go-units' format and checks", () => {
    expect(parseUlimit("nofile=100:200")).toEqual({ name: "nofile", soft: 100, hard: 200 });
    expect(parseUlimit("core=-1")).toEqual({ name: "core", soft: -1, hard: -1 });
    expect(parseUlimit("nproc=5:-1")).toEqual({ name: "nproc", soft: 5, hard: -1 });
    expect(() => parseUlimit("nofile=2:1")).toThrow(/soft limit must be less than or equal to hard limit: 2 > 1/);
    expect(() => parseUlimit("files=1")).toThrow(/invalid ulimit type: files/);
    expect(() => parseUlimit("nofile=1:2:3")).toThrow(/too many limit value arguments/);
    expect(() => parseUlimit("nofile=x")).toThrow(/invalid limit "x"/);
  });
  test("into process.rlimits, replacing the default of the same kind; -1 as RLIM_INFINITY", () => {
    const s = buildSpec(opts({ ulimit: ["nofile=10:20", "core=-1", "nofile=30:40"] }), image, ctx);
    expect(s.process.rlimits).toEqual([{ type: "RLIMIT_CORE", soft: RLIM_INFINITY, hard: RLIM_INFINITY }, { type: "RLIMIT_NOFILE", soft: 30, hard: 40 }]);
    // The text the Zig reader takes as RLIM_INFINITY (zig/runtime/spec.zig parseRlimitValue).
    expect(JSON.stringify(RLIM_INFINITY)).toBe("18446744073709552000");
  });
});

describe("--shm-size", () => {
  test("Docker's RAMInBytes units; the /dev/shm tmpfs", () => {
    expect(parseShmSize("64m")).toBe(64 << 20);
    expect(parseShmSize("1g")).toBe(1 << 30);
    expect(parseShmSize("1.5k")).toBe(1536);
    expect(parseShmSize("4096")).toBe(4096);
    expect(parseShmSize("2MB")).toBe(2 << 20);
    expect(() => parseShmSize("x")).toThrow(/invalid size: 'x'/);
    const shm = (f: Partial<RunFlags>) => buildSpec(opts(f), image, ctx).mounts.find((m) => m.destination === "/dev/shm");
    expect(shm({})!.options).toContain("size=67108864");
    expect(shm({ "shm-size": "1m" })!.options).toContain("size=1048576");
    expect(shm({ ipc: "none" })).toBeUndefined();
    expect(shm({ ipc: "host" })).toEqual({ destination: "/dev/shm", type: "bind", source: "/dev/shm", options: ["rbind", "rprivate"] });
  });
});

describe("--device", () => {
  test("Docker's parseDevice", () => {
    expect(parseDevice("/dev/fuse")).toEqual({ pathOnHost: "/dev/fuse", pathInContainer: "/dev/fuse", cgroupPermissions: "rwm" });
    expect(parseDevice("/dev/sda:/dev/xvda")).toEqual({ pathOnHost: "/dev/sda", pathInContainer: "/dev/xvda", cgroupPermissions: "rwm" });
    expect(parseDevice("/dev/sda:r")).toEqual({ pathOnHost: "/dev/sda", pathInContainer: "/dev/sda", cgroupPermissions: "r" });
    expect(parseDevice("/dev/sda:/dev/x:rw")).toEqual({ pathOnHost: "/dev/sda", pathInContainer: "/dev/x", cgroupPermissions: "rw" });
    expect(() => parseDevice("/dev/sda:/dev/x:rwx")).toThrow(/invalid device mode: rwx/);
    expect(() => parseDevice("/dev/sda:/dev/x:rr")).toThrow(/invalid device mode: rr/);
    expect(() => parseDevice("sda")).toThrow(/not an absolute path/);
    expect(() => parseDevice("/a:/b:r:w")).toThrow(/invalid device specification/);
  });
  test("the nodes in linux.devices and allowed after the default rules", () => {
    const node = { path: "/dev/mynull", type: "c" as const, major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 };
    const o = { ...opts({}), devices: [{ pathOnHost: "/dev/null", pathInContainer: "/dev/mynull", cgroupPermissions: "rw", nodes: [node] }] };
    const s = buildSpec(o, image, ctx);
    expect(s.linux.devices).toContainEqual(node);
    const rules = deviceRules(false, grantedDeviceRules(o.devices));
    expect(rules.slice(0, DEFAULT_DEVICE_RULES.length)).toEqual([...DEFAULT_DEVICE_RULES]);
    expect(rules.at(-1)).toEqual({ allow: true, type: "c", major: 1, minor: 3, access: "rw" });
    expect((s.linux.resources!.devices as unknown[]).at(-1)).toEqual({ allow: true, type: "c", major: 1, minor: 3, access: "rw" });
    expect(deviceRules(true, grantedDeviceRules(o.devices))).toEqual([{ allow: true, type: "a", access: "rwm" }]);
  });
});

describe("--init and inspect", () => {
  test("docker-init -- before the command, bound read-only; left out of the command shown", () => {
    const o = opts({ init: true });
    const s = buildSpec(o, image, { ...ctx, kernel: { initPath: "/r/bin/h/tsd-init" } });
    expect(s.process.args).toEqual([INIT_PATH, "--", "sh"]);
    expect(s.mounts.at(-1)).toEqual({ destination: INIT_PATH, type: "bind", source: "/r/bin/h/tsd-init", options: ["rbind", "ro"] });
    expect(commandArgs(s.process.args, o)).toEqual(["sh"]);
    expect(commandArgs([INIT_PATH, "--", "sh"], opts({}))).toEqual([INIT_PATH, "--", "sh"]);
  });
  test("HostConfig under Docker's names, Docker's defaults", () => {
    expect(hostConfigKernel(opts({}))).toEqual({ PidMode: "", IpcMode: "private", UTSMode: "", Ulimits: null, ShmSize: 67108864, Devices: [], GroupAdd: null, Init: null });
    expect(hostConfigKernel(opts({ "group-add": ["audio", "44"], init: true, ulimit: ["nofile=1:2"] }))).toMatchObject({ GroupAdd: ["audio", "44"], Init: true, Ulimits: [{ Name: "nofile", Hard: 2, Soft: 1 }] });
    expect(() => opts({ "group-add": ["a:b"] })).toThrow(/invalid --group-add/);
  });
});
