// The kernel-facing run/create flags (issue 14 item 4 and 7) end to end: --pid, --ipc, --uts,
// --sysctl, --ulimit, --shm-size, --device, --group-add, --init and the groups of -u, on the
// built dist/tsd with real namespaces, cgroups and busybox images. Every container here is on
// --network none (a private network namespace, no bridge), so nothing of the host's network
// is touched.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

let t: TestRoot;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("kflags");
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

// Every test's containers go, also when it failed half-way.
afterEach(async () => {
  const ids = (await t.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await t.tsd(["rm", "-f", ...ids], { timeoutMs: 60000 });
});

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

const run = (args: string[]) => t.tsd(["run", "--rm", "--network", "none", ...args]);
const out = async (args: string[]) => {
  const r = await run(args);
  if (r.code !== 0) throw new Error(`run ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
/** A refused flag: exit 125, one line on stderr matching `re`. */
async function refused(args: string[], re: RegExp): Promise<void> {
  const r = await run(args);
  expect(r.code).toBe(125);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(re);
}
const detached = async (name: string, args: string[]) => (await t.ok(["run", "-d", "--name", name, "--network", "none", ...args])).trim();
const pidOf = async (name: string) => Number((await t.ok(["inspect", "-f", "{{.State.Pid}}", name])).trim());
const inspect = async (name: string) => JSON.parse(await t.ok(["inspect", name]))[0] as { Path: string; Args: string[]; HostConfig: Record<string, unknown> };

describe("--pid", () => {
  test("host: the host's pid 1 is the container's", async () => {
    expect(await out(["--pid", "host", "busybox", "cat", "/proc/1/comm"])).toBe(readFileSync("/proc/1/comm", "utf8"));
    // The default: the container's own pid namespace, where its command is pid 1.
    expect(await out(["busybox", "cat", "/proc/1/comm"])).toBe("cat\n");
  });
  test("container:NAME joins a running container's; refused when it is not running", async () => {
    await detached("piddonor", ["busybox", "sleep", "300"]);
    expect(await out(["--pid", "container:piddonor", "busybox", "cat", "/proc/1/cmdline"])).toBe("sleep\u0000300\u0000");
    await t.ok(["create", "--name", "pididle", "--network", "none", "busybox", "true"]);
    await refused(["--pid", "container:pididle", "busybox", "true"], /cannot join PID of a non running container: pididle/);
    await refused(["--pid", "container:nosuch", "busybox", "true"], /cannot join PID of a non running container: nosuch/);
    await refused(["--pid", "bogus", "busybox", "true"], /--pid: invalid PID mode "bogus"/);
    await t.ok(["rm", "-f", "piddonor", "pididle"]);
  }, 30000);
  test("a created container finds its donor's init again at start", async () => {
    await detached("piddonor2", ["busybox", "sleep", "300"]);
    await t.ok(["create", "--name", "pidlater", "--network", "none", "--pid", "container:piddonor2", "busybox", "cat", "/proc/1/cmdline"]);
    await t.ok(["restart", "-t", "0", "piddonor2"]); // a new init, a new pid namespace
    expect(await t.ok(["start", "-a", "pidlater"])).toBe("sleep\u0000300\u0000");
    expect((await inspect("pidlater")).HostConfig.PidMode).toBe("container:piddonor2");
    await t.ok(["rm", "-f", "piddonor2", "pidlater"]);
  }, 30000);
});

describe("--ipc", () => {
  test("container:NAME shares the donor's System V shared memory; a private one does not", async () => {
    await detached("ipcdonor", ["--ipc", "shareable", "busybox", "sleep", "300"]);
    const pid = await pidOf("ipcdonor");
    // A segment made in the donor's ipc namespace from the host (busybox has no ipcmk).
    const mk = Bun.spawnSync(["nsenter", `--ipc=/proc/${pid}/ns/ipc`, "/usr/bin/python3", "-c", "import ctypes; l=ctypes.CDLL(None); assert l.shmget(0x7e5d, 4096, 0o1666) >= 0"]);
    expect(mk.exitCode).toBe(0);
    // /proc/sysvipc/shm lists the segments of the reader's ipc namespace, keys in decimal.
    const keys = "awk 'NR > 1 { print $1 }' /proc/sysvipc/shm";
    expect(await out(["--ipc", "container:ipcdonor", "busybox", "sh", "-c", keys])).toBe(`${0x7e5d}\n`);
    expect(await out(["busybox", "sh", "-c", keys])).toBe("");
    expect(await out(["--ipc", "container:ipcdonor", "busybox", "readlink", "/proc/self/ns/ipc"])).toBe(`${readlinkSync(`/proc/${pid}/ns/ipc`)}\n`);
    expect((await inspect("ipcdonor")).HostConfig.IpcMode).toBe("shareable");
    await t.ok(["rm", "-f", "ipcdonor"]);
  }, 30000);
  test("a private or stopped donor is refused with Docker's words", async () => {
    await detached("ipcprivate", ["busybox", "sleep", "300"]);
    await refused(["--ipc", "container:ipcprivate", "busybox", "true"], /can't join IPC of container ipcprivate: non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
    await t.ok(["rm", "-f", "ipcprivate"]);
    await t.ok(["create", "--name", "ipcidle", "--ipc", "shareable", "--network", "none", "busybox", "true"]);
    await refused(["--ipc", "container:ipcidle", "busybox", "true"], /can't join IPC of container ipcidle: container ipcidle is not running/);
    await t.ok(["rm", "-f", "ipcidle"]);
    await refused(["--ipc", "sideways", "busybox", "true"], /--ipc: invalid IPC mode "sideways"/);
  }, 30000);
  test("host: the host's ipc namespace and /dev/shm; none: no /dev/shm", async () => {
    expect(await out(["--ipc", "host", "busybox", "readlink", "/proc/self/ns/ipc"])).toBe(`${readlinkSync("/proc/self/ns/ipc")}\n`);
    const probe = `/dev/shm/tsd-kflags-${process.pid}`;
    writeFileSync(probe, "from the host\n");
    try {
      expect(await out(["--ipc", "host", "busybox", "cat", probe])).toBe("from the host\n");
      expect((await run(["busybox", "cat", probe])).code).toBe(1); // its own /dev/shm
    } finally {
      rmSync(probe, { force: true });
    }
    expect(await out(["--ipc", "none", "busybox", "grep", "-c", " /dev/shm ", "/proc/mounts"]).catch((e: Error) => e.message)).toMatch(/exited 1/);
    expect(await out(["busybox", "grep", "-c", " /dev/shm ", "/proc/mounts"])).toBe("1\n");
  }, 30000);
});

describe("--uts", () => {
  test("host: the host's name; -h with it is refused", async () => {
    expect(await out(["--uts", "host", "busybox", "hostname"])).toBe(`${hostname()}\n`);
    expect(await out(["--uts", "host", "busybox", "sh", "-c", "cat /etc/hostname; echo $HOSTNAME"])).toBe(`${hostname()}\n${hostname()}\n`);
    await refused(["--uts", "host", "-h", "box", "busybox", "true"], /conflicting options: hostname and the UTS mode/);
    await refused(["--uts", "container:x", "busybox", "true"], /--uts: invalid UTS mode/);
  }, 30000);
});

describe("--sysctl", () => {
  test("net.* in a private network namespace, the host's untouched", async () => {
    const host = readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8");
    const want = host.trim() === "1" ? "0" : "1";
    expect(await out(["--sysctl", `net.ipv4.ip_forward=${want}`, "busybox", "cat", "/proc/sys/net/ipv4/ip_forward"])).toBe(`${want}\n`);
    expect(readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8")).toBe(host);
  });
  test("ipc sysctls in a private ipc namespace", async () => {
    expect(await out(["--sysctl", "kernel.shmmni=1234", "busybox", "cat", "/proc/sys/kernel/shmmni"])).toBe("1234\n");
    expect(await out(["--sysctl", "fs.mqueue.msg_max=42", "busybox", "cat", "/proc/sys/fs/mqueue/msg_max"])).toBe("42\n");
  });
  test("refused outside their namespace or not namespaced, with Docker's words", async () => {
    await refused(["--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "busybox", "true"], /sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace/);
    await refused(["--ipc", "host", "--sysctl", "kernel.shmmax=1", "busybox", "true"], /sysctl "kernel.shmmax" is not allowed in the host's ipc namespace/);
    await refused(["--sysctl", "kernel.panic=1", "busybox", "true"], /sysctl 'kernel.panic' is not whitelisted/);
    await refused(["--sysctl", "net.ipv4.ip_forward", "busybox", "true"], /--sysctl.*KEY=VALUE/);
  }, 30000);
});

describe("--ulimit", () => {
  test("soft and hard in /proc/self/limits, also for exec; -1 is unlimited", async () => {
    expect(await out(["--ulimit", "nofile=100:200", "busybox", "grep", "open files", "/proc/self/limits"])).toMatch(/^Max open files\s+100\s+200\s+files/);
    expect(await out(["--ulimit", "core=-1", "--ulimit", "nproc=50", "busybox", "grep", "-E", "core file|processes", "/proc/self/limits"])).toMatch(
      /Max core file size\s+unlimited\s+unlimited\s+bytes\s*\nMax processes\s+50\s+50\s+processes/,
    );
    await detached("limited", ["--ulimit", "core=-1:-1", "--ulimit", "nofile=300:400", "busybox", "sleep", "300"]);
    expect(await t.ok(["exec", "limited", "grep", "-E", "core file|open files", "/proc/self/limits"])).toMatch(/core file size\s+unlimited\s+unlimited[^\n]*\nMax open files\s+300\s+400/);
    expect((await inspect("limited")).HostConfig.Ulimits).toEqual([{ Name: "core", Hard: -1, Soft: -1 }, { Name: "nofile", Hard: 400, Soft: 300 }]);
    await t.ok(["rm", "-f", "limited"]);
  }, 30000);
  test("without --ulimit the container has the caller's limits (no stack limit raised by tsd's own programs), with --init too", async () => {
    const stack = (text: string) => text.split("\n").find((l) => l.startsWith("Max stack size"))?.split(/\s+/).slice(3, 5).join(" ");
    const host = stack(readFileSync("/proc/self/limits", "utf8"));
    expect(host).toBeDefined();
    expect(stack(await out(["busybox", "cat", "/proc/self/limits"]))).toBe(host);
    expect(stack(await out(["--init", "busybox", "cat", "/proc/self/limits"]))).toBe(host);
  }, 30000);
  test("bad values: 125 with go-units' words", async () => {
    await refused(["--ulimit", "nofile=200:100", "busybox", "true"], /ulimit soft limit must be less than or equal to hard limit: 200 > 100/);
    await refused(["--ulimit", "nofiles=1", "busybox", "true"], /invalid ulimit type: nofiles/);
    await refused(["--ulimit", "nofile", "busybox", "true"], /invalid ulimit argument: nofile/);
  }, 30000);
});

describe("--shm-size", () => {
  test("the size of /dev/shm; 64m by default", async () => {
    expect(await out(["--shm-size", "32m", "busybox", "sh", "-c", "df -k /dev/shm | tail -1"])).toMatch(/^shm\s+32768\s/);
    expect(await out(["busybox", "sh", "-c", "df -k /dev/shm | tail -1"])).toMatch(/^shm\s+65536\s/);
    await refused(["--shm-size", "lots", "busybox", "true"], /invalid size: 'lots'/);
  }, 30000);
});

describe("--device", () => {
  test("the node made at the container path and allowed by the device cgroup", async () => {
    expect(await out(["--device", "/dev/null:/dev/mynull", "busybox", "sh", "-c", "echo gone > /dev/mynull && stat -c '%t:%T %F' /dev/mynull"])).toBe("1:3 character special file\n");
    // Read-only (a node no default rule allows): opened for reading, refused for writing.
    const r = await run(["--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c", ": < /dev/lc && echo read; : > /dev/lc"]);
    expect(r.stdout).toBe("read\n");
    expect(r.stderr).toMatch(/lc.*Operation not permitted/);
    expect(r.code).not.toBe(0);
    await refused(["--device", "/dev/tsd-nosuch", "busybox", "true"], /error gathering device information while adding custom device "\/dev\/tsd-nosuch": no such file or directory/);
    await refused(["--device", "/dev/null:/dev/x:rwz", "busybox", "true"], /invalid device mode: rwz/);
  }, 30000);
  test("a device node not given is refused by the cgroup even when made (CAP_MKNOD)", async () => {
    const r = await run(["busybox", "sh", "-c", "mknod /tmp/lc c 10 237 && : < /tmp/lc"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/lc.*Operation not permitted/);
    expect((await run(["--device", "/dev/loop-control:/tmp/lc", "busybox", "sh", "-c", ": < /tmp/lc"])).code).toBe(0);
  });
});

describe("users and groups", () => {
  // The kernel keeps the groups sorted (setgroups), so id lists them in gid order, as under Docker.
  test("-u gets the primary gid and the image's /etc/group memberships, as Docker's id shows", async () => {
    expect(await out(["-u", "nobody", "busybox", "id"])).toBe("uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)\n");
    expect(await out(["busybox", "id"])).toBe("uid=0(root) gid=0(root) groups=0(root)\n");
    // An image whose /etc/group makes user a member of wheel and of nobody.
    await t.ok(["run", "--name", "grouped", "--network", "none", "busybox", "sh", "-c", "echo wheel:x:10:root,user >> /etc/group && sed -i 's/^nobody:x:65534:$/nobody:x:65534:user/' /etc/group"]);
    await t.ok(["commit", "grouped", "kflags-grouped:1"]);
    await t.ok(["rm", "grouped"]);
    expect(await out(["-u", "user", "kflags-grouped:1", "id"])).toBe("uid=1000(user) gid=1000(user) groups=10(wheel),1000(user),65534(nobody)\n");
    expect(await out(["-u", "user:nobody", "kflags-grouped:1", "id"])).toBe("uid=1000(user) gid=65534(nobody) groups=65534(nobody)\n");
    await detached("grouped-run", ["-u", "user", "kflags-grouped:1", "sleep", "300"]);
    expect(await t.ok(["exec", "grouped-run", "id"])).toBe("uid=1000(user) gid=1000(user) groups=10(wheel),1000(user),65534(nobody)\n");
    expect(await t.ok(["exec", "-u", "root", "grouped-run", "id"])).toBe("uid=0(root) gid=0(root) groups=0(root),10(wheel)\n");
    await t.ok(["rm", "-f", "grouped-run"]);
    await t.ok(["rmi", "kflags-grouped:1"]);
  }, 60000);
  test("--group-add: names of the image's /etc/group and numbers", async () => {
    expect(await out(["-u", "nobody", "--group-add", "4242", "--group-add", "user", "busybox", "id"])).toBe("uid=65534(nobody) gid=65534(nobody) groups=1000(user),4242,65534(nobody)\n");
    await refused(["--group-add", "staff", "busybox", "true"], /unable to find group staff/);
  }, 30000);
});

describe("--init", () => {
  test("PID 1 is tsd-init at /sbin/docker-init, the command its child; the status is the command's", async () => {
    expect(await out(["--init", "busybox", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $PPID"])).toBe("/sbin/docker-init -- sh -c tr '\\0' ' ' < /proc/1/cmdline; echo; echo $PPID \n1\n");
    expect((await run(["--init", "busybox", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await run(["--init", "busybox", "sh", "-c", "kill -KILL $$"])).code).toBe(137);
    expect((await run(["--init", "busybox", "tsd-no-such-command"])).code).toBe(127);
    // Read-only: the container cannot change the host's copy.
    expect((await run(["--init", "busybox", "sh", "-c", "echo x >> /sbin/docker-init"])).code).not.toBe(0);
  }, 30000);
  test("forwards SIGTERM to a command that would ignore it as PID 1", async () => {
    await detached("initterm", ["--init", "busybox", "sleep", "300"]);
    await t.ok(["kill", "-s", "TERM", "initterm"]);
    const w = await t.tsd(["wait", "initterm"]);
    expect(w).toEqual({ code: 0, stdout: "143\n", stderr: "" });
    // Without --init, sleep is PID 1 and SIGTERM does nothing to it.
    await detached("noinit", ["busybox", "sleep", "300"]);
    await t.ok(["kill", "-s", "TERM", "noinit"]);
    await Bun.sleep(300);
    expect((await t.ok(["inspect", "-f", "{{.State.Running}}", "noinit"])).trim()).toBe("true");
    const c = await inspect("initterm");
    expect(c.HostConfig.Init).toBe(true);
    expect([c.Path, ...c.Args]).toEqual(["sleep", "300"]);
    expect((await inspect("noinit")).HostConfig.Init).toBeNull();
    await t.ok(["rm", "-f", "initterm", "noinit"]);
  }, 30000);
  test("on a terminal the command's group is in the foreground: Ctrl-C reaches it (130)", async () => {
    const cmd = `${TSD} --root ${t.dir} run --rm -it --network none --init busybox sh -c 'cut -d" " -f1,5,8 /proc/$$/stat; sleep 30'`;
    const session = Bun.spawn(["script", "-qec", cmd, "/dev/null"], { stdin: "pipe", stdout: "pipe" });
    const reader = session.stdout.getReader();
    let text = "";
    // pid, process group and the terminal's foreground group of the command: all 2.
    while (!text.includes("2 2 2")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("2 2 2");
    session.stdin.write("\x03");
    session.stdin.flush();
    expect(await session.exited).toBe(130);
  }, 30000);
  test("reaps an orphan that would stay a zombie under a PID 1 that never waits", async () => {
    const zombies = "for s in /proc/[0-9]*/stat; do cut -d' ' -f3 $s; done | grep -c Z || true";
    const cmd = ["busybox", "sh", "-c", "(sleep 0.1 &); exec sleep 300"];
    await detached("reaped", ["--init", ...cmd]);
    await detached("unreaped", cmd);
    await Bun.sleep(1000);
    expect((await t.ok(["exec", "unreaped", "sh", "-c", zombies])).trim()).toBe("1");
    expect((await t.ok(["exec", "reaped", "sh", "-c", zombies])).trim()).toBe("0");
    await t.ok(["rm", "-f", "reaped", "unreaped"]);
  }, 30000);
});

describe("inspect", () => {
  test("HostConfig carries every flag under Docker's names", async () => {
    await t.ok(["create", "--name", "allflags", "--network", "none", "--pid", "host", "--ipc", "shareable", "--uts", "host", "--sysctl", "net.ipv4.ip_forward=1",
      "--ulimit", "nofile=10:20", "--shm-size", "1g", "--device", "/dev/null:/dev/n:rw", "--group-add", "4242", "--init", "busybox", "true"]);
    const h = (await inspect("allflags")).HostConfig;
    expect(h).toMatchObject({
      PidMode: "host", IpcMode: "shareable", UTSMode: "host", Sysctls: { "net.ipv4.ip_forward": "1" },
      Ulimits: [{ Name: "nofile", Hard: 20, Soft: 10 }], ShmSize: 1 << 30,
      Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/n", CgroupPermissions: "rw" }], GroupAdd: ["4242"], Init: true,
    });
    await t.ok(["rm", "allflags"]);
    await t.ok(["create", "--name", "noflags", "--network", "none", "busybox", "true"]);
    expect((await inspect("noflags")).HostConfig).toMatchObject({ PidMode: "", IpcMode: "private", UTSMode: "", Ulimits: null, ShmSize: 67108864, Devices: [], GroupAdd: null, Init: null });
    await t.ok(["rm", "noflags"]);
  }, 30000);
});
