// Rootless mode's pure parts (issue 13): which user namespace a process is in, where a user's
// state lives, subordinate ranges, the one-line refusals and messages, info's lines.
import { expect, test } from "bun:test";
import { isInitialUserns, outsideRoot, parseIdMapText, rootlessPaths, subordinateRange } from "../../src/store/rootless";
import { mayListOnHost, mayRunOnHost, subordinateRanges, survivor, userName } from "../../src/system/rootless-enter";
import { rootlessRefusal, runNeedsNamespace } from "../../src/container/rootless";
import { hostRefusal, type HostFacts } from "../../src/container/host-gate";
import { runOptionsFromFlags } from "../../src/container/options";
import { parseFlags } from "../../src/cli/flags";
import { runFlags } from "../../src/cli/run";
import { namespaceFlags } from "../../src/store/rootless";
import { infoText, rootlessCgroupWarning, type Info } from "../../src/system/info";
import { readOnlyOverlay } from "../../src/container/helper";
import { fuseOptions, rootlessStorageDriver } from "../../src/container/fuse-rootfs";
import { splitGlobals } from "../../src/cli/globals";

test("uid_map: the host's (identity) or a user's namespace, and whom its 0 stands for", () => {
  const host = parseIdMapText("         0          0 4294967295\n");
  expect(isInitialUserns(host)).toBe(true);
  const user = parseIdMapText("         0       1001          1\n         1     100000      65536\n");
  expect(user).toEqual([
    { inside: 0, outside: 1001, size: 1 },
    { inside: 1, outside: 100000, size: 65536 },
  ]);
  expect(isInitialUserns(user)).toBe(false);
  expect(outsideRoot(user)).toBe(1001);
  expect(outsideRoot(parseIdMapText("1 100000 65536\n"))).toBeUndefined();
  expect(parseIdMapText("garbage\n\n")).toEqual([]);
});

test("paths: XDG_DATA_HOME/tsd (default ~/.local/share/tsd), XDG_RUNTIME_DIR/tsd (default /tmp/tsd-UID)", () => {
  expect(rootlessPaths({ HOME: "/home/u" }, 1001)).toEqual({ data: "/home/u/.local/share/tsd", run: "/tmp/tsd-1001" });
  expect(rootlessPaths({ HOME: "/home/u", XDG_DATA_HOME: "/d", XDG_RUNTIME_DIR: "/run/user/1001" }, 1001)).toEqual({ data: "/d/tsd", run: "/run/user/1001/tsd" });
  // Relative values are ignored, as the XDG spec says.
  expect(rootlessPaths({ HOME: "/home/u", XDG_DATA_HOME: "rel", XDG_RUNTIME_DIR: "" }, 7)).toEqual({ data: "/home/u/.local/share/tsd", run: "/tmp/tsd-7" });
  expect(rootlessPaths({}, 7).data).toBe("/tmp/tsd-7/data");
});

test("subordinate ranges by name or uid; the message names what is missing and the fix", () => {
  const text = "other:1:5\nalice:100000:65536\n1002:200000:1000\nbad:x:1\n";
  expect(subordinateRange(text, "alice", 1001)).toEqual({ start: 100000, size: 65536 });
  expect(subordinateRange(text, "bob", 1002)).toEqual({ start: 200000, size: 1000 });
  expect(subordinateRange(text, "bad", 9)).toBeUndefined();
  expect(subordinateRange(text, "carol", 9)).toBeUndefined();
  const files: Record<string, string> = { "/etc/subuid": "alice:100000:65536\n", "/etc/subgid": "" };
  const read = (p: string) => files[p] ?? "";
  const tools = { newuidmap: "/usr/bin/newuidmap", newgidmap: "/usr/bin/newgidmap" };
  const alice = { uid: 1001, gid: 1001, name: "alice" };
  // Something missing: the single-id fallback, with one warning naming what gives a full mapping.
  expect(subordinateRanges(alice, read, tools)).toEqual({ warning: "WARNING: rootless: no /etc/subgid entry for user alice, running with a single id (container root → you, no other ids: images with files of other owners get them as root, USER other than root fails): add one as root for a full mapping, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice" });
  files["/etc/subgid"] = "alice:300000:65536\n";
  expect(subordinateRanges(alice, read, tools)).toEqual({ uid: { start: 100000, size: 65536 }, gid: { start: 300000, size: 65536 } });
  expect(subordinateRanges(alice, read, { newgidmap: tools.newgidmap })).toEqual({ warning: expect.stringContaining("newuidmap/newgidmap not found, running with a single id") });
});

test("the user's name from passwd text, its uid when it has none", () => {
  expect(userName(1001, "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n")).toBe("alice");
  expect(userName(1234, "root:x:0:0::/root:/bin/sh\n")).toBe("1234");
});

test("what a rootless container cannot have yet: one line each", () => {
  const v1 = { none: "this host has cgroup v1, which cannot be delegated to a user" };
  const delegated = { dir: "user.slice/user-1001.slice/user@1001.service" };
  expect(rootlessRefusal({ network: "none", resources: {} }, v1)).toBeUndefined();
  expect(rootlessRefusal({ network: "host" }, delegated)).toBeUndefined();
  expect(rootlessRefusal({ network: "none", resources: { memory: 1 << 26 } }, v1)).toBe("rootless: resource limits and --cgroup-parent need a delegated cgroup v2 subtree, and this host has cgroup v1, which cannot be delegated to a user; or drop the limit flags");
  expect(rootlessRefusal({ network: "none", cgroupParent: "x" }, { none: "why" })).toContain("and why; or drop");
  // With a delegated subtree, limits and --cgroup-parent pass.
  expect(rootlessRefusal({ network: "none", resources: { memory: 1 << 26, pidsLimit: 5 }, cgroupParent: "x" }, delegated)).toBeUndefined();
  expect(rootlessRefusal({}, delegated)).toBeUndefined(); // the default network: pasta
  expect(rootlessRefusal({ network: "bridge" }, delegated)).toBe("rootless: bridge networks need root: drop --network for the default (pasta, a user-mode stack), or use --network none|host");
  expect(rootlessRefusal({ network: "mynet" }, delegated)).toContain("bridge networks need root");
  expect(rootlessRefusal({ network: "none", userns: "auto" }, delegated)).toContain("--userns");
});

test("info: the rootless lines, and no default bridge", () => {
  const base = { ServerVersion: "0.1.0", DriverStatus: [["userxattr", "true"]], SecurityOptions: [], Warnings: [rootlessCgroupWarning("cgroup v1 cannot be delegated to a user")], UserNamespaces: { IdmappedMounts: true, AutoPool: "", AutoRanges: 0 } };
  const i = { ...base, Rootless: true, DefaultBridge: "tsd0 10.89.0.0/16", RootlessNamespace: { Mapping: "newuidmap/newgidmap", UidMap: "0-0 → 1001-1001, 1-65536 → 100000-165535", GidMap: "0-0 → 1001-1001", RuntimeDir: "/run/user/1001/tsd", Cgroups: "none" } } as unknown as Info;
  const text = infoText(i);
  expect(text).toContain("\n Rootless: true\n User Namespace: rootless (newuidmap/newgidmap, a pause process per user)\n  UID Map: 0-0 → 1001-1001, 1-65536 → 100000-165535\n  GID Map: 0-0 → 1001-1001\n  Runtime Dir: /run/user/1001/tsd\n  Cgroups: none\n");
  expect(text).not.toContain("Default Bridge");
  expect(text).toContain("  userxattr: true\n");
  expect(text).toContain("WARNING: rootless: containers run without cgroups (cgroup v1 cannot be delegated to a user)");
});

test("a read-only view of a rootless overlay keeps userxattr", () => {
  expect(readOnlyOverlay("lowerdir=a:b,upperdir=c/upper,workdir=c/work,userxattr")).toBe("lowerdir=c/upper:a:b,userxattr");
  expect(readOnlyOverlay("lowerdir=a:b,upperdir=c/upper,workdir=c/work")).toBe("lowerdir=c/upper:a:b");
});

test("the default root: the rootless data dir when given, TSD_ROOT and --root still first", () => {
  expect(splitGlobals(["ps"], {}, "/home/u/.local/share/tsd").globals.root).toBe("/home/u/.local/share/tsd");
  expect(splitGlobals(["ps"], {}).globals.root).toBe("/var/lib/tsd");
  expect(splitGlobals(["ps"], { TSD_ROOT: "/r" }, "/d").globals.root).toBe("/r");
  expect(splitGlobals(["--root", "/x", "ps"], {}, "/d").globals.root).toBe("/x");
});

test("after the pause process died: a process of the user in both recorded namespaces, else none", () => {
  const rec = "100 555 user:[1] mnt:[2]\n";
  const procs: Record<string, { uid: number; user?: string; mnt?: string }> = {
    "7": { uid: 1001, user: "user:[1]", mnt: "mnt:[9]" }, // a container's init: its own mount namespace
    "8": { uid: 1002, user: "user:[1]", mnt: "mnt:[2]" }, // someone else's
    "9": { uid: 1001, user: "user:[1]", mnt: "mnt:[2]" }, // a monitor
  };
  expect(survivor(rec, 1001, ["7", "8", "9"], (p) => procs[p])).toBe(9);
  expect(survivor(rec, 1001, ["7", "8"], (p) => procs[p])).toBeUndefined();
  // A record from before the namespaces were written: nothing to rejoin.
  expect(survivor("100 555\n", 1001, ["9"], (p) => procs[p])).toBeUndefined();
});

test("storage: fuse-overlayfs before Linux 5.11 or when asked, the kernel's overlay otherwise", () => {
  expect(rootlessStorageDriver({}, "6.18.44-fc")).toBe("overlay");
  expect(rootlessStorageDriver({}, "5.11.0")).toBe("overlay");
  expect(rootlessStorageDriver({}, "5.10.200-amd64")).toBe("fuse-overlayfs");
  expect(rootlessStorageDriver({}, "4.19.0")).toBe("fuse-overlayfs");
  expect(rootlessStorageDriver({ TSD_ROOTLESS_OVERLAY: "fuse" }, "6.1.0")).toBe("fuse-overlayfs");
  expect(rootlessStorageDriver({ TSD_ROOTLESS_OVERLAY: "kernel" }, "5.4.0")).toBe("overlay");
  expect(() => rootlessStorageDriver({ TSD_ROOTLESS_OVERLAY: "vfs" }, "6.1.0")).toThrow('TSD_ROOTLESS_OVERLAY="vfs": use fuse or kernel (or unset it)');
  // The overlay data of config.json, made absolute, userxattr dropped, allow_other added.
  expect(fuseOptions("lowerdir=layers/l/A:layers/l/B,upperdir=containers/x/upper,workdir=containers/x/work,userxattr", "/r")).toBe("lowerdir=/r/layers/l/A:/r/layers/l/B,upperdir=/r/containers/x/upper,workdir=/r/containers/x/work,allow_other");
});

test("the fast path: run stays on the host for a present image, --network none|host, no volumes; else it says why", () => {
  const image = { config: { config: {} } } as Parameters<typeof runNeedsNamespace>[1];
  const opts = (argv: string[]) => {
    const { flags, positionals } = parseFlags("run", runFlags, [...argv, "busybox", "true"], false);
    return runOptionsFromFlags(flags, positionals, {}, () => "");
  };
  expect(runNeedsNamespace(opts(["--network", "none"]), image, undefined, false)).toBeUndefined();
  expect(runNeedsNamespace(opts(["--network", "host", "--tmpfs", "/t"]), image, "missing", false)).toBeUndefined();
  expect(runNeedsNamespace(opts(["--network", "none"]), undefined, undefined, false)).toBe("the image may need a pull");
  expect(runNeedsNamespace(opts(["--network", "none"]), image, "always", false)).toBe("the image may need a pull");
  expect(runNeedsNamespace(opts(["--network", "none"]), image, undefined, true)).toBe("fuse-overlayfs mounts the rootfs in the namespace");
  expect(runNeedsNamespace(opts([]), image, undefined, false)).toBe("--network pasta is set up in the namespace");
  expect(runNeedsNamespace(opts(["--network", "none", "-v", "/srv:/srv"]), image, undefined, false)).toBe("volumes are made in the namespace");
  expect(runNeedsNamespace(opts(["--network", "none"]), { config: { config: { Volumes: { "/data": {} } } } } as never, undefined, false)).toBe("volumes are made in the namespace");
  expect(runNeedsNamespace(opts(["--network", "none", "--restart", "always"]), image, undefined, false)).toBe("a restart policy");
  expect(namespaceFlags(7, { user: 8, mnt: 9 }, "user")).toEqual(["--userns", "/proc/7/fd/8"]);
  expect(namespaceFlags(7, { user: 8, mnt: 9 }, "user+mount")).toEqual(["--userns", "/proc/7/fd/8", "--mountns", "/proc/7/fd/9"]);
});

test("the fast path's first look at run's words: --network none|host and no volume", () => {
  expect(mayRunOnHost(["--rm", "--network", "none", "busybox", "true"])).toBe(true);
  expect(mayRunOnHost(["--net=host", "-d", "busybox", "sleep", "9"])).toBe(true);
  expect(mayRunOnHost(["--rm", "busybox", "true"])).toBe(false);
  expect(mayRunOnHost(["--network", "pasta", "busybox"])).toBe(false);
  expect(mayRunOnHost(["--network", "none", "-v", "/a:/b", "busybox"])).toBe(false);
  expect(mayRunOnHost(["--network", "none", "-itv", "/a:/b", "busybox"])).toBe(false);
  expect(mayRunOnHost(["--network=none", "--volume=/a:/b", "busybox"])).toBe(false);
  expect(mayRunOnHost(["--network", "none", "--restart", "always", "busybox"])).toBe(false);
});

test("the fast path's first look at ps's words: --size (or a format naming .Size) goes inside", () => {
  expect(mayListOnHost(["-a", "--format", "{{.Names}}", "-f", "status=exited"])).toBe(true);
  expect(mayListOnHost(["-aq"])).toBe(true);
  expect(mayListOnHost(["-s"])).toBe(false);
  expect(mayListOnHost(["-as"])).toBe(false);
  expect(mayListOnHost(["--size"])).toBe(false);
  expect(mayListOnHost(["--format", "{{.Names}} {{.Size}}"])).toBe(false);
});

test("the fast path's gates of stop, kill, wait, start, rm: what needs the namespace says why", () => {
  const facts = (o: Partial<HostFacts> = {}): HostFacts => ({
    row: { name: "c", paused: 0 },
    opts: { volumes: [], network: "none" },
    runWhy: () => undefined,
    pasta: false,
    fuse: false,
    live: false,
    ...o,
  }) as HostFacts;
  for (const verb of ["stop", "kill", "wait", "start", "rm", "rm-volumes", "look"] as const) expect(hostRefusal(verb, facts())).toBeUndefined();
  expect(hostRefusal("stop", facts({ row: { name: "c", paused: 1 } as never }))).toBe("it is paused (its cgroup is thawed in the namespace)");
  expect(hostRefusal("wait", facts({ row: { name: "c", paused: 1 } as never }))).toBeUndefined();
  expect(hostRefusal("start", facts({ runWhy: () => "a restart policy" }))).toBe("a restart policy");
  expect(hostRefusal("start", facts({ runWhy: () => "a restart policy", live: true }))).toBeUndefined();
  expect(hostRefusal("rm", facts({ fuse: true }))).toBe("its fuse-overlayfs rootfs is unmounted in the namespace");
  expect(hostRefusal("kill", facts({ fuse: true, pasta: true }))).toBeUndefined();
  expect(hostRefusal("rm", facts({ pasta: true }))).toBe("its pasta network namespace is released in the namespace");
  const anon = facts({ opts: { volumes: [{ anonymous: true, volume: "v1", destination: "/d" }], network: "none" } as never });
  expect(hostRefusal("rm", anon)).toBeUndefined();
  expect(hostRefusal("rm-volumes", anon)).toBe("its anonymous volumes hold files of other ids");
});
