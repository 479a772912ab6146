// tsd run end to end: the built binary, real namespaces and mounts, images made by umoci
// and skopeo from Debian's busybox-static.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { processes, TestRoot, TSD } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

let t: TestRoot;
let hostDir: string;
let images: Awaited<ReturnType<typeof testImages>>;

beforeAll(async () => {
  images = await testImages();
  t = new TestRoot("run");
  hostDir = mkdtempSync("/tmp/tsd-e2e-vol-");
  writeFileSync(join(hostDir, "hello.txt"), "from the host\n");
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  rmSync(hostDir, { recursive: true, force: true });
  expect(leaks).toEqual([]);
});

const run = (args: string[], o = {}) => t.tsd(["run", "--rm", ...args], o);

describe("images", () => {
  test("load of a docker save archive tags it; images lists it", async () => {
    const out = await t.ok(["images"]);
    expect(out.split("\n")[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(out).toMatch(/\nbusybox\s+latest\s+[0-9a-f]{12}\s/);
  });
  test("load of an OCI layout; untagged until tagged", async () => {
    const out = await t.ok(["load", "-i", images.busyboxOci]);
    const id = /Loaded image(?: ID)?: (?:sha256:)?(\S+)/.exec(out)?.[1];
    expect(id).toBeDefined();
    if (out.startsWith("Loaded image ID")) await t.ok(["tag", id!, "busybox-oci:1"]);
    else await t.ok(["tag", id!, "busybox-oci:1"]);
    expect((await run(["busybox-oci:1", "echo", "oci"])).stdout).toBe("oci\n");
  });
  test("a missing image is exit 125 with one line naming it", async () => {
    // --pull=never: a test sends no traffic beyond 127.0.0.0/8 (pull.test.ts covers the pull).
    const r = await run(["--pull=never", "nosuchimage", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("nosuchimage");
  });
  test("a missing archive file is exit 1 (an engine error outside run, as docker load)", async () => {
    const r = await t.tsd(["load", "-i", "/nonexistent.tar"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("/nonexistent.tar");
  });
});

describe("hostile archives for load", () => {
  // Made with GNU tar, as an attacker would: symlinks inside the archive that point out of it.
  async function archive(label: string, build: (dir: string) => void): Promise<string> {
    const dir = mkdtempSync(join("/dev/shm", `tsd-hostile-${label}-`));
    try {
      build(dir);
      const tar = `${dir}.tar`;
      const p = Bun.spawnSync(["tar", "-C", dir, "-cf", tar, "."]);
      if (p.exitCode !== 0) throw new Error(`tar: ${p.stderr}`);
      return tar;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  test("manifest.json as a symlink to a host file is refused", async () => {
    const tar = await archive("manifest", (d) => symlinkSync("/etc/passwd", join(d, "manifest.json")));
    try {
      const r = await t.tsd(["load", "-i", tar]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`tsd: cannot load "${tar}": the archive's "manifest.json" is a symlink out of the archive: refused\n`);
      expect(r.stderr).not.toContain("root:");
    } finally {
      rmSync(tar, { force: true });
    }
  });
  test("a layer that links to a host file is refused", async () => {
    const tar = await archive("layer", (d) => {
      writeFileSync(join(d, "manifest.json"), JSON.stringify([{ Config: "config.json", RepoTags: ["evil:1"], Layers: ["l/layer.tar"] }]));
      writeFileSync(join(d, "config.json"), JSON.stringify({ rootfs: { type: "layers", diff_ids: [`sha256:${"0".repeat(64)}`] } }));
      mkdirSync(join(d, "l"));
      symlinkSync("/etc/hostname", join(d, "l", "layer.tar"));
    });
    try {
      const r = await t.tsd(["load", "-i", tar]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("symlink out of the archive");
      expect(await t.ok(["images", "-q"])).not.toContain("evil");
    } finally {
      rmSync(tar, { force: true });
    }
  });
});

describe("isolation", () => {
  test("hostname: default is the short id, --hostname sets it", async () => {
    expect((await run(["busybox", "hostname"])).stdout).toMatch(/^[0-9a-f]{12}\n$/);
    expect((await run(["--hostname", "box", "busybox", "hostname"])).stdout).toBe("box\n");
  });
  test("pid namespace: the command is pid 1 and no host process is visible", async () => {
    const r = await run(["busybox", "sh", "-c", "echo $$; ls /proc | grep -c '^[0-9]'"]);
    const [pid, count] = r.stdout.trim().split("\n");
    expect(pid).toBe("1");
    expect(Number(count)).toBeLessThanOrEqual(3);
  });
  test("every namespace differs from the host's", async () => {
    const kinds = ["cgroup", "ipc", "mnt", "net", "pid", "uts"];
    const r = await run(["busybox", "sh", "-c", kinds.map((k) => `readlink /proc/self/ns/${k}`).join(";")]);
    const inside = r.stdout.trim().split("\n");
    expect(inside).toHaveLength(kinds.length);
    kinds.forEach((k, i) => expect(inside[i]).not.toBe(readlinkSync(`/proc/self/ns/${k}`)));
  });
  test("own mount table: overlay root, no host mounts", async () => {
    const r = await run(["busybox", "cat", "/proc/self/mountinfo"]);
    const points = r.stdout.trim().split("\n").map((l) => l.split(" "));
    expect(points.find((f) => f[4] === "/")?.join(" ")).toContain(" - overlay ");
    // Every mount point is one the spec asked for: nothing of the host's table leaks in.
    const allowed = /^\/(proc(\/.*)?|dev(\/(pts|shm|mqueue))?|sys(\/firmware|\/fs\/cgroup(\/[a-z_,=]+)?)?|etc\/(hostname|hosts|resolv\.conf))?$/;
    for (const f of points) expect(f[4]).toMatch(allowed);
    expect(r.stdout).not.toContain(t.dir);
  });
  test("network namespace with only lo, and lo is up", async () => {
    const r = await run(["--network", "none", "busybox", "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags"]);
    expect(r.stdout).toBe("lo\n0x9\n");
  });
  test("IPC namespace: a host SysV queue is not visible", async () => {
    const r = await run(["busybox", "cat", "/proc/sysvipc/msg"]);
    expect(r.stdout.trim().split("\n")).toHaveLength(1); // the header only
  });
  test("Docker's default capabilities and no_new_privs", async () => {
    const r = await run(["busybox", "grep", "-E", "^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs)", "/proc/self/status"]);
    const f = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(/:\s+/) as [string, string]));
    expect(f.CapEff).toBe("00000000a80425fb");
    expect(f.CapPrm).toBe("00000000a80425fb");
    expect(f.CapBnd).toBe("00000000a80425fb");
    expect(f.CapInh).toBe("0000000000000000");
    expect(f.CapAmb).toBe("0000000000000000");
    expect(f.NoNewPrivs).toBe("1");
  });
  test("--cap-drop ALL --cap-add, --privileged, and a non-root user", async () => {
    expect((await run(["--cap-drop", "ALL", "--cap-add", "KILL", "busybox", "grep", "CapEff", "/proc/self/status"])).stdout).toContain("0000000000000020");
    const priv = await run(["--privileged", "busybox", "sh", "-c", "grep -E 'CapEff|NoNewPrivs' /proc/self/status"]);
    // --privileged grants every capability the engine itself holds (the host's bounding set).
    const hostBnd = /CapBnd:\s+(\w+)/.exec(readFileSync("/proc/self/status", "utf8"))![1];
    expect(priv.stdout).toContain(`CapEff:\t${hostBnd}`);
    expect(priv.stdout).toMatch(/NoNewPrivs:\s+0/);
    expect((await run(["-u", "1000", "busybox", "grep", "CapEff", "/proc/self/status"])).stdout).toMatch(/CapEff:\s+0000000000000000/);
  });
  test("device nodes: a node made for a host device cannot be opened; --privileged has the host's devices", async () => {
    // (/dev/console and /dev/ptmx are the container's own: its terminal and its devpts.)
    // CAP_MKNOD is in Docker's default set: the device cgroup is what keeps /dev/kmsg (1:11)
    // and the host's disks out, while /dev/zero (1:5) stays usable.
    const plain = await run(["--network", "none", "busybox", "sh", "-c", "mknod /tmp/z c 1 5 && head -c 3 /tmp/z | wc -c; mknod /tmp/k c 1 11 && head -c 1 /tmp/k"]);
    expect(plain.stdout).toBe("3\n");
    expect(plain.stderr).toBe("head: /tmp/k: Operation not permitted\n");
    const hostNodes = Bun.spawnSync(["sh", "-c", "cd /dev && find . -maxdepth 1 \\( -type c -o -type b \\) ! -name console ! -name ptmx | sort"]).stdout.toString();
    const priv = await run(["--network", "none", "--privileged", "busybox", "sh", "-c", "cd /dev && find . -maxdepth 1 \\( -type c -o -type b \\) ! -name console ! -name ptmx | sort; head -c 1 /dev/kmsg | wc -c"]);
    expect(priv.stderr).toBe("");
    const seen = priv.stdout.split("\n");
    for (const n of hostNodes.split("\n").filter(Boolean)) expect(seen).toContain(n);
    expect(seen.at(-2)).toBe("1");
  });
  test("masked and read-only /proc paths, read-only /sys", async () => {
    // /proc/kcore and /proc/sysrq-trigger do not exist on every kernel; these paths do.
    const script = [
      "wc -c < /proc/timer_list", "wc -c < /proc/keys", "ls /sys/firmware | wc -l", "ls /proc/acpi | wc -l",
      "echo 1 > /proc/sys/kernel/ns_last_pid && echo wrote-proc-sys", "touch /sys/x && echo wrote-sys", "echo end",
    ].join("; ");
    const r = await run(["busybox", "sh", "-c", script]);
    expect(r.stdout).toBe("0\n0\n0\n0\nend\n");
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(2);
  });
  test("no host file descriptor reaches the container", async () => {
    // Bun.spawn gives the child only 0-2; open an extra one through the shell to be sure.
    const proc = Bun.spawn(["sh", "-c", `exec 7</etc/hostname; exec "$@"`, "sh", TSD, "--root", t.dir, "run", "--rm", "busybox", "ls", "/proc/self/fd"], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out.trim().split("\n").map(Number).sort()).toEqual([0, 1, 2, 3]); // 3: ls's own dir fd
  });
  test("stdin is never a host file: the container's own /dev/null, or a pipe for -i < FILE", async () => {
    // Without -i: fd 0 is the container's /dev/null, so chmod through it (CAP_FOWNER) changes
    // nothing on the host.
    const before = Bun.spawnSync(["stat", "-c", "%a %d:%i", "/dev/null"]).stdout.toString();
    const plain = await run(["--network", "none", "busybox", "sh", "-c", "stat -L -c '%d:%i' /proc/self/fd/0 /dev/null; chmod 600 /proc/self/fd/0"]);
    expect(plain.stderr).toBe("");
    const [fd0, own] = plain.stdout.trim().split("\n");
    expect(fd0).toBe(own);
    expect(Bun.spawnSync(["stat", "-c", "%a %d:%i", "/dev/null"]).stdout.toString()).toBe(before);
    // -i from a regular file: the content arrives through a pipe; writing to /proc/self/fd/0
    // cannot reach the user's file.
    const f = join(hostDir, "stdin.txt");
    writeFileSync(f, "from a file\n");
    const proc = Bun.spawn(["sh", "-c", `exec "$@" < "${f}"`, "sh", TSD, "--root", t.dir, "run", "--rm", "-i", "--network", "none", "busybox", "sh", "-c", "readlink /proc/self/fd/0 | cut -d: -f1; cat; echo gotcha > /proc/self/fd/0"], { stdout: "pipe", stderr: "pipe" });
    const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(out).toBe("pipe\nfrom a file\n");
    expect(readFileSync(f, "utf8")).toBe("from a file\n");
  });
});

describe("cgroups", () => {
  test("the default parent group goes with its last container (a user's --cgroup-parent stays theirs)", async () => {
    const parents = () => readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h, "tsd")).filter((d) => existsSync(d));
    expect((await run(["--network", "none", "busybox", "true"])).code).toBe(0);
    // Other tsd roots on this host may hold containers under it at the same time: then it stays.
    for (const d of parents()) {
      const children = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory());
      expect({ dir: d, leftEmpty: children.length === 0 }).toEqual({ dir: d, leftEmpty: false });
    }
  });
});

describe("exit status", () => {
  test("the command's own code", async () => expect((await run(["busybox", "sh", "-c", "exit 3"])).code).toBe(3));
  test("128+N for a signal", async () => {
    // A pid-namespace init cannot be killed from inside; kill it from the host as docker kill does.
    const token = `${1000 + Math.floor(Math.random() * 1000)}.5`;
    const proc = Bun.spawn([TSD, "--root", t.dir, "run", "--rm", "busybox", "sleep", token], { stdout: "pipe", stderr: "pipe" });
    const pid = await waitForProcess(`sleep\0${token}\0`);
    process.kill(pid, "SIGKILL");
    expect(await proc.exited).toBe(137);
  });
  test("127 for a command not found, one clear line", async () => {
    const r = await run(["busybox", "/bin/nope"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^tsd: .*\/bin\/nope.*no such file or directory\n$/);
  });
  test("127 through PATH lookup too", async () => expect((await run(["busybox", "nope-cmd"])).code).toBe(127));
  test("126 for a file that cannot be executed", async () => {
    const r = await run(["busybox", "/etc/passwd"]);
    expect(r.code).toBe(126);
    expect(r.stderr).toMatch(/^tsd: .*\/etc\/passwd/);
  });
  test("125 for a malformed flag", async () => {
    const r = await t.tsd(["run", "--nope", "busybox"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe("tsd: unknown flag: --nope (see 'tsd run --help')\n");
  });
  test("signals to the CLI reach the container", async () => {
    const proc = Bun.spawn([TSD, "--root", t.dir, "run", "--rm", "busybox", "sh", "-c", "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done"], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("ready\n");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(42);
  });
});

describe("stdio", () => {
  test("stdout and stderr stay separate", async () => {
    const r = await run(["busybox", "sh", "-c", "echo out; echo err >&2"]);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
  });
  test("-i pipes stdin with EOF; without -i the container reads nothing", async () => {
    expect((await run(["-i", "busybox", "cat"], { stdin: "hello\n" })).stdout).toBe("hello\n");
    expect((await run(["busybox", "cat"], { stdin: "hello\n" })).stdout).toBe("");
  });
  test("binary data through stdin and stdout is byte for byte", async () => {
    const data = crypto.getRandomValues(new Uint8Array(1 << 20));
    const proc = Bun.spawn([TSD, "--root", t.dir, "run", "--rm", "-i", "busybox", "cat"], { stdin: new Blob([data]), stdout: "pipe" });
    const out = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
    expect(await proc.exited).toBe(0);
    expect(out.length).toBe(data.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(data))).toBe(0);
  });
  test("-t gives a pty; an -it session runs and keeps its exit code", async () => {
    const tty = Bun.spawn(["script", "-qec", `${TSD} --root ${t.dir} run --rm -t busybox sh -c 'tty; stty size'`, "/dev/null"], { stdout: "pipe", stdin: "ignore" });
    const out = await new Response(tty.stdout).text();
    expect(await tty.exited).toBe(0);
    expect(out).toMatch(/\/dev\/pts\/0/);
    const session = Bun.spawn(["script", "-qec", `${TSD} --root ${t.dir} run --rm -it busybox sh`, "/dev/null"], {
      stdin: "pipe", stdout: "pipe",
    });
    session.stdin.write("echo in-$((40+2))\nexit 5\n");
    session.stdin.flush();
    const text = await new Response(session.stdout).text();
    expect(await session.exited).toBe(5);
    expect(text).toContain("in-42");
  });
});

describe("process settings", () => {
  test("env, workdir, user and hostname together", async () => {
    const r = await run(["-e", "A=1", "-w", "/tmp", "-u", "1000:1000", "--hostname", "box", "busybox", "sh", "-c", 'echo $A; pwd; id -u; id -g; hostname; echo $HOSTNAME']);
    expect(r.stdout).toBe("1\n/tmp\n1000\n1000\nbox\nbox\n");
  });
  test("--env-file and -u by name with its home", async () => {
    const f = join(hostDir, "env");
    writeFileSync(f, "# comment\nFROM_FILE=yes\n");
    const r = await run(["--env-file", f, "-u", "user", "busybox", "sh", "-c", "echo $FROM_FILE $HOME; id -un"]);
    expect(r.stdout).toBe("yes /home/user\nuser\n");
  });
  test("as many arguments, variables and bytes as the kernel's execve takes (Docker's limits, not smaller ones)", async () => {
    // 5000 arguments, 2000 -e entries and 1.1 MiB of strings (each under the kernel's 128 KiB).
    const args = Array.from({ length: 5000 }, (_, i) => `a${i}`);
    const env = Array.from({ length: 2000 }, (_, i) => ["-e", `V${i}=${i}`]).flat();
    const big = "x".repeat(120 * 1024);
    const r = await run([...env, "-e", `BIG1=${big}`, "busybox", "sh", "-c", 'echo $# ${#BIG1} ${#0} $V1999; env | grep -c "^V"', "x".repeat(100 * 1024), ...args, ...Array(8).fill(big)]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`5008 ${big.length} ${100 * 1024} 1999\n2000\n`);
    // Past the kernel's own limit (an --env-file of 6 MiB; a quarter of the stack rlimit): its
    // error, exit 126 as Docker's.
    const f = join(hostDir, "big.env");
    writeFileSync(f, Array.from({ length: 50 }, (_, i) => `B${i}=${big}\n`).join(""));
    const tooMuch = await run(["--env-file", f, "busybox", "true"]);
    expect(tooMuch.code).toBe(126);
    expect(tooMuch.stderr).toMatch(/^tsd: cannot exec .*argument list too long\n$/);
  });
  test("--entrypoint overrides the image", async () => {
    expect((await run(["--entrypoint", "/bin/echo", "busybox", "a", "b"])).stdout).toBe("a b\n");
  });
  test("the image's Entrypoint, Cmd, Env, WorkingDir and User; whiteouts and opaque dirs", async () => {
    await t.ok(["load", "-i", images.multilayerOci]);
    const id = (await t.ok(["images", "-q"])).split("\n")[0]!;
    await t.ok(["tag", id, "multilayer"]);
    expect((await run(["multilayer"])).stdout).toBe("from-entrypoint\n");
    const r = await run(["multilayer", "echo $FOO; pwd; id -u; ls /data; ls /opt/x"]);
    expect(r.stdout).toBe("bar\n/data\n1000\nb\nnew\n");
  });
});

describe("mounts", () => {
  test("-v read-only: readable, not writable", async () => {
    const r = await run(["-v", `${hostDir}:/data:ro`, "busybox", "sh", "-c", "cat /data/hello.txt; touch /data/new && echo wrote"]);
    expect(r.stdout).toBe("from the host\n");
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(existsSync(join(hostDir, "new"))).toBe(false);
  });
  test("-v read-write: the host sees the write", async () => {
    await run(["-v", `${hostDir}:/data`, "busybox", "sh", "-c", "echo back > /data/back.txt"]);
    expect(readFileSync(join(hostDir, "back.txt"), "utf8")).toBe("back\n");
  });
  test("a missing host path: --mount is a clear error and leaves nothing; -v creates it, as Docker", async () => {
    const r = await run(["--mount", "type=bind,src=/nonexistent/dir,dst=/data", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("/nonexistent/dir");
    expect(t.containerDirs()).toEqual([]);
    expect(existsSync("/nonexistent/dir")).toBe(false);
    const made = join(hostDir, "made", "by-v");
    await run(["-v", `${made}:/data`, "busybox", "true"]);
    expect(statSync(made).isDirectory()).toBe(true);
  });
  test("--read-only root with a --tmpfs", async () => {
    const r = await run(["--read-only", "--tmpfs", "/run", "busybox", "sh", "-c", "touch /x || echo ro; touch /run/y && echo tmpfs-ok"]);
    expect(r.stdout).toBe("ro\ntmpfs-ok\n");
  });
  test("writes go to the container's upper layer, not the image", async () => {
    await run(["busybox", "sh", "-c", "echo changed > /etc/motd-test"]);
    expect((await run(["busybox", "sh", "-c", "cat /etc/motd-test 2>/dev/null || echo absent"])).stdout).toBe("absent\n");
  });
});

describe("state and cleanup", () => {
  test("--rm leaves no bundle, no row; without --rm ps -a shows the exit and rm removes it", async () => {
    await run(["busybox", "true"]);
    expect(t.containerDirs()).toEqual([]);
    await t.tsd(["run", "--name", "kept", "busybox", "sh", "-c", "exit 7"]);
    expect(await t.ok(["ps", "-a"])).toMatch(/kept/);
    expect(await t.ok(["ps", "-a"])).toMatch(/Exited \(7\)/);
    await t.ok(["rm", "kept"]);
    expect(await t.ok(["ps", "-aq"])).toBe("");
    expect(t.containerDirs()).toEqual([]);
  });
  test("the CLI killed with SIGKILL: the monitor still records the exit and cleans up", async () => {
    const token = `${2000 + Math.floor(Math.random() * 1000)}.5`;
    const cli = Bun.spawn([TSD, "--root", t.dir, "run", "--rm", "busybox", "sleep", token], { stdout: "ignore", stderr: "ignore" });
    const pid = await waitForProcess(`sleep\0${token}\0`);
    const before = t.containerDirs().length;
    cli.kill("SIGKILL");
    await cli.exited;
    process.kill(pid, "SIGKILL");
    // The monitor, left without a reader, runs `tsd container cleanup` itself.
    for (let i = 0; i < 100 && t.containerDirs().length >= before; i++) await Bun.sleep(50);
    expect(t.containerDirs().length).toBe(before - 1);
    // The bundle goes inside the cleanup command; the monitor exits right after it returns.
    for (let i = 0; i < 100 && t.leaks().length > 0; i++) await Bun.sleep(20);
    expect(t.leaks()).toEqual([]);
  });
  test("a failed start leaves nothing behind", async () => {
    const r = await run(["busybox", "/nope"]);
    expect(r.code).toBe(127);
    expect(t.containerDirs()).toEqual([]);
    expect(await t.ok(["ps", "-aq"])).toBe("");
    expect(t.leaks()).toEqual([]);
  });
  test("duplicate names are refused", async () => {
    await t.tsd(["run", "--name", "dup", "busybox", "true"]);
    const r = await t.tsd(["run", "--name", "dup", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('"/dup" is already in use');
    await t.ok(["rm", "dup"]);
  });
});

describe("the binary", () => {
  test("--version names tsd and the core", async () => {
    expect(await t.ok(["--version"])).toMatch(/^tsd version \d+\.\d+\.\d+, core \d+\.\d+\.\d+/);
  });
  test("works copied alone to another directory, with /tmp unused", async () => {
    const dir = mkdtempSync("/tmp/tsd-e2e-alone-");
    try {
      copyFileSync(TSD, join(dir, "tsd"));
      Bun.spawnSync(["chmod", "755", join(dir, "tsd")]);
      const proc = Bun.spawn([join(dir, "tsd"), "--root", t.dir, "run", "--rm", "busybox", "echo", "alone"], { stdout: "pipe", env: { TMPDIR: "/nonexistent" } });
      expect(await new Response(proc.stdout).text()).toBe("alone\n");
      expect(await proc.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The host pid of the process whose /proc/PID/cmdline is exactly `cmdline`, polled for up to 10 s. */
async function waitForProcess(cmdline: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const found = processes().find((p) => p.cmdline === cmdline);
    if (found) return found.pid;
    await Bun.sleep(50);
  }
  throw new Error(`no process with cmdline ${JSON.stringify(cmdline)} appeared`);
}
