// Rootless tsd (issue 13): a test user made here (test/lib/rootless.ts: useradd, its own /etc/subuid and /etc/subgid
// lines, both removed at the end) runs the built dist/tsd through setpriv, in the user
// namespace newuidmap/newgidmap give it (container 0 → the user, 1..65536 → its range).
// Checked from the host: the container's processes run as the user, files the container's root
// writes in a bind volume are the user's, nothing the user could not write becomes writable,
// the rootful store is untouched; and nothing is left (processes, mounts) even on failure.
// Network: only --network none and host (pasta: rootless-net.test.ts); the registry is on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testImages, type TestImages } from "../lib/fixtures";
import { push, startRegistry, type Registry } from "../lib/registry";
import { asUser, makeRootlessUser, pausePid, processesOf, removeRootlessUsers, SUB_SIZE, subStart, type RootlessUser } from "../lib/rootless";

// A range of this run's own, away from rootless-net.test.ts's (1 600 000 000 on) and the auto pool.
const START = subStart(1_300_000_000);

let base: string;
let user: RootlessUser; // with subordinate ids
let bare: RootlessUser; // without: the clear message
let images: TestImages;
let reg: Registry | undefined;
let rootfulBefore: string;

/** A state of /var/lib/tsd (the rootful store) to compare: absent, or its entries and mtimes. */
function rootfulState(): string {
  const dir = "/var/lib/tsd";
  if (!existsSync(dir)) return "absent";
  return readdirSync(dir)
    .map((n) => `${n}:${statSync(join(dir, n)).mtimeMs}`)
    .join(",");
}

beforeAll(async () => {
  images = await testImages();
  rootfulBefore = rootfulState();
  base = mkdtempSync("/dev/shm/tsd-e2e-rootless-");
  chmodSync(base, 0o755);
  user = makeRootlessUser(`tsdrl${process.pid}`, base, START);
  bare = makeRootlessUser(`tsdrn${process.pid}`, base);
}, 120000);

async function ok(args: string[], o: { root?: boolean } = {}): Promise<string> {
  const r = await asUser(user, args, o);
  if (r.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const NS_AT_WRITE = join(import.meta.dir, "..", "lib", "ns-at-write.py");

/** tsd as the user, with the user namespace it was in at its first write (test/lib/ns-at-write.py). */
async function atWrite(args: string[], env?: Record<string, string>): Promise<{ ns: string; code: number; stdout: string; stderr: string }> {
  const r = await asUser(user, args, { via: ["python3", NS_AT_WRITE], ...(env ? { env } : {}) });
  if (r.code !== 0) throw new Error(`ns-at-write.py tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { ns: string; code: number; stdout: string; stderr: string };
}

/** The user namespace of the host (the fast path's) and of the user's pause process (where a
 *  command re-exec'd runs), as /proc names them. */
function userNamespaces(): { host: string; pauseNs: string } {
  return { host: readlinkSync("/proc/self/ns/user"), pauseNs: readlinkSync(`/proc/${pausePid(user)!}/ns/user`) };
}

afterAll(async () => {
  const left: string[] = [];
  try {
    left.push(...(await removeRootlessUsers([user, bare].filter(Boolean))));
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (base && line.includes(base)) left.push(`mount: ${line}`);
  } finally {
    await reg?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
  expect(readFileSync("/etc/subuid", "utf8")).not.toContain(`tsdrl${process.pid}:`);
  expect(rootfulState()).toBe(rootfulBefore);
}, 120000);

describe("rootless", () => {
  test("load, run --rm: root inside, the user's state under its XDG dirs, info says rootless", async () => {
    await ok(["load", "-i", images.busyboxDocker]);
    expect(await ok(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "id; echo hi"])).toBe("uid=0(root) gid=0(root) groups=0(root)\nhi\n");
    // No --root: the store is $XDG_DATA_HOME/tsd; the pause process is recorded in $XDG_RUNTIME_DIR/tsd.
    expect((await ok(["info", "-f", "{{.DockerRootDir}} {{.Rootless}} {{.CgroupDriver}}"], { root: false })).trim()).toBe(`${join(user.dir, "data", "tsd")} true none`);
    expect(statSync(join(user.dir, "data", "tsd")).uid).toBe(user.uid);
    expect(statSync(join(user.dir, "run", "tsd")).mode & 0o777).toBe(0o700);
    const info = await ok(["info"]);
    expect(info).toContain(" Rootless: true\n");
    expect(info).toContain(`  UID Map: 0-0 → ${user.uid}-${user.uid}, 1-${SUB_SIZE} → ${START}-${START + SUB_SIZE - 1}\n`);
    expect(info).toContain("  userxattr: true\n");
    expect(info).toContain("WARNING: rootless: containers run without cgroups");
    // The image's files belong to container root: on disk, to the user.
    const layers = join(user.dir, "root", "layers");
    const layer = readdirSync(layers).find((d) => d !== "l")!;
    expect(statSync(join(layers, layer, "diff", "bin")).uid).toBe(user.uid);
  }, 120000);

  test("run -d, logs, exec, ps, stop, rm; from the host the processes run as the user", async () => {
    await ok(["run", "-d", "--name", "bg", "--network", "none", "busybox", "sh", "-c", "echo started; exec sleep 300"]);
    const pid = Number((await ok(["inspect", "-f", "{{.State.Pid}}", "bg"])).trim());
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(user.uid));
    expect(/^Gid:\s+(\d+)/m.exec(status)![1]).toBe(String(user.gid));
    expect(readFileSync(`/proc/${pid}/uid_map`, "utf8").trim().split(/\s+/).map(Number)).toEqual([0, user.uid, 1, 1, START, SUB_SIZE]);
    for (let i = 0; i < 50 && !(await ok(["logs", "bg"])).includes("started"); i++) await Bun.sleep(100);
    expect(await ok(["logs", "bg"])).toBe("started\n");
    expect(await ok(["exec", "bg", "sh", "-c", "id -u; ps -o pid,comm | grep -c sleep"])).toBe("0\n1\n");
    expect(await ok(["exec", "-u", "5:5", "bg", "id", "-u"])).toBe("5\n");
    expect(await ok(["ps", "--format", "{{.Names}} {{.Status}}"])).toMatch(/^bg Up/);
    await ok(["stop", "-t", "1", "bg"]);
    expect((await ok(["inspect", "-f", "{{.State.Status}}", "bg"])).trim()).toBe("exited");
    await ok(["rm", "bg"]);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 120000);

  test("the fast path: run --network none and exec stay in the host's user namespace; a volume or TSD_ROOTLESS_REEXEC=1 go inside", async () => {
    await ok(["load", "-q", "-i", images.busyboxDocker]); // also alone (-t): the image, the pause process
    const { host, pauseNs } = userNamespaces();
    // The user namespace of the tsd process (setpriv execs it; nsenter would exec it again
    // inside) while its container, named `name`, runs `sleep`.
    const nsWhileUp = async (args: string[], name: string, env?: Record<string, string>) => {
      let pid = 0;
      const done = asUser(user, args, { onSpawn: (p) => (pid = p), ...(env ? { env } : {}) });
      let ns = "";
      for (let i = 0; i < 200 && ns === ""; i++) {
        await Bun.sleep(25);
        const ps = await ok(["exec", name, "ps", "-o", "comm"]).catch(() => "");
        if (ps.split("\n").filter((l) => l === "sleep").length >= (args[0] === "exec" ? 2 : 1)) ns = readlinkSync(`/proc/${pid}/ns/user`);
      }
      const r = await done;
      expect([r.code, r.stderr]).toEqual([0, ""]);
      return ns;
    };
    expect(await nsWhileUp(["run", "--rm", "--name", "fp", "--network", "none", "busybox", "sleep", "2"], "fp")).toBe(host);
    await ok(["run", "-d", "--name", "fpx", "--network", "none", "busybox", "sleep", "300"]);
    expect(await nsWhileUp(["exec", "fpx", "sleep", "2"], "fpx")).toBe(host);
    expect(await nsWhileUp(["exec", "fpx", "sleep", "2"], "fpx", { TSD_ROOTLESS_REEXEC: "1" })).toBe(pauseNs);
    await ok(["rm", "-f", "fpx"]);
    expect(await nsWhileUp(["run", "--rm", "--name", "fpv", "--network", "none", "--tmpfs", "/t", "-v", `${user.dir}:/v:ro`, "busybox", "sleep", "2"], "fpv")).toBe(pauseNs);
    // Files of other ids in directories of theirs: the host-side removal hands over to rm inside.
    await ok(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "mkdir -p /d/e; touch /d/e/f; chown -R 5:5 /d; chmod 700 /d/e"]);
    expect(readdirSync(join(user.dir, "root", "containers"))).toEqual([]);
  }, 120000);

  test("the fast path's other commands (ps, logs, inspect, images, port, info, version, wait, stop, start, kill, rm) stay in the host's user namespace and print what the re-exec'd ones print", async () => {
    await ok(["load", "-q", "-i", images.busyboxDocker]);
    const { host, pauseNs } = userNamespaces();
    const fast = (args: string[]) => atWrite(args);
    const reexec = (args: string[]) => atWrite(args, { TSD_ROOTLESS_REEXEC: "1" });
    // The same command both ways: in the host's namespace, then in the pause process's, the same output.
    const both = async (args: string[]) => {
      const [a, b] = [await fast(args), await reexec(args)];
      expect([args, a.ns, b.ns]).toEqual([args, host, pauseNs]);
      expect([a.code, a.stdout, a.stderr]).toEqual([b.code, b.stdout, b.stderr]);
      return a;
    };
    // PID 1 `sleep` ignores SIGTERM: stop waits out -t.
    await ok(["run", "-d", "--name", "fq", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exec sleep 300"]);
    for (let i = 0; i < 50 && !(await ok(["logs", "fq"])).includes("out"); i++) await Bun.sleep(100);
    const psFormat = "{{.ID}} {{.Names}} {{.Image}} {{.Command}} {{.State}} {{.Ports}} {{.Networks}} {{.Mounts}} {{.CreatedAt}}";
    expect((await both(["ps", "-a", "--no-trunc", "--format", psFormat])).stdout).toContain(" fq busybox ");
    expect(await both(["logs", "fq"])).toMatchObject({ code: 0, stdout: "out\n", stderr: "err\n" });
    expect(JSON.parse((await both(["inspect", "fq"])).stdout)[0].Name).toBe("/fq");
    await both(["inspect", "-f", "{{.State.Pid}} {{.State.Status}} {{json .HostConfig}}", "fq"]);
    await both(["inspect", "busybox"]);
    expect((await both(["images", "--no-trunc"])).stdout).toContain("busybox");
    // port prints nothing here (no published port without pasta): its refusal, the same both ways.
    const port = [await asUser(user, ["port", "fq", "80/tcp"]), await asUser(user, ["port", "fq", "80/tcp"], { env: { TSD_ROOTLESS_REEXEC: "1" } })];
    expect(port[0]).toEqual({ code: 1, stdout: "", stderr: "tsd: no public port '80/tcp' published for fq\n" });
    expect(port[1]).toEqual(port[0]);
    expect((await both(["info"])).stdout).toContain(`  UID Map: 0-0 → ${user.uid}-${user.uid}, 1-${SUB_SIZE} → ${START}-${START + SUB_SIZE - 1}\n`);
    await both(["version", "-f", "{{json .}}"]);
    // wait and logs -f block until the container ends: their first line is written on the host.
    await ok(["run", "-d", "--name", "fw", "--network", "none", "busybox", "sh", "-c", "echo a; sleep 1; echo b; exit 3"]);
    const follow = await fast(["logs", "-f", "fw"]);
    expect([follow.ns, follow.stdout]).toEqual([host, "a\nb\n"]);
    expect(await reexec(["logs", "-f", "fw"])).toMatchObject({ ns: pauseNs, stdout: "a\nb\n" });
    await ok(["start", "fw"]);
    expect(await fast(["wait", "fw"])).toMatchObject({ ns: host, code: 0, stdout: "3\n" });
    expect(await reexec(["wait", "fw"])).toMatchObject({ ns: pauseNs, code: 0, stdout: "3\n" });
    // stop, start, kill, rm on the host; their effect as the re-exec'd ones'.
    const state = async (name: string) => (await ok(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name])).trim();
    expect(await fast(["stop", "-t", "1", "fq"])).toMatchObject({ ns: host, code: 0, stdout: "fq\n", stderr: "" });
    expect(await state("fq")).toBe("exited 137");
    expect(await fast(["start", "fq"])).toMatchObject({ ns: host, code: 0, stdout: "fq\n", stderr: "" });
    expect(await state("fq")).toBe("running 0");
    expect(await ok(["exec", "fq", "cat", "/proc/1/comm"])).toBe("sleep\n");
    expect(await fast(["kill", "fq"])).toMatchObject({ ns: host, code: 0, stdout: "fq\n", stderr: "" });
    expect(await state("fq")).toBe("exited 137");
    expect(await reexec(["start", "fq"])).toMatchObject({ ns: pauseNs, code: 0, stdout: "fq\n" });
    expect(await reexec(["stop", "-t", "1", "fq"])).toMatchObject({ ns: pauseNs, code: 0, stdout: "fq\n" });
    expect(await state("fq")).toBe("exited 137");
    expect(await fast(["rm", "fq", "fw"])).toMatchObject({ ns: host, code: 0, stdout: "fq\nfw\n", stderr: "" });
    await ok(["run", "-d", "--name", "fr", "--network", "none", "busybox", "sleep", "300"]);
    expect(await fast(["rm", "-f", "fr"])).toMatchObject({ ns: host, code: 0, stdout: "fr\n", stderr: "" });
    const gone = { code: 1, stdout: "", stderr: "tsd: no such container: fr\n" };
    expect(await asUser(user, ["rm", "fr"])).toEqual(gone);
    expect(await asUser(user, ["rm", "fr"], { env: { TSD_ROOTLESS_REEXEC: "1" } })).toEqual(gone);
    expect(await ok(["ps", "-aq"])).toBe("");
    expect(readdirSync(join(user.dir, "root", "containers"))).toEqual([]);
  }, 120000);

  test("the fast path's commands go inside for what needs it: a dead monitor, ps --size, a default (pasta) network's start; a container of another uid, files of other ids stay on the host", async () => {
    await ok(["load", "-q", "-i", images.busyboxDocker]);
    const { host, pauseNs } = userNamespaces();
    // Init of uid 1000 (a subordinate id on the host): the user owns the namespace, so the
    // kernel lets it signal every id mapped there (CAP_KILL in it); stop and kill stay on the host.
    await ok(["run", "-d", "--name", "fu", "-u", "1000", "--network", "none", "busybox", "sleep", "300"]);
    const pid = Number((await ok(["inspect", "-f", "{{.State.Pid}}", "fu"])).trim());
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]).toBe(String(START + 999));
    expect(await atWrite(["kill", "fu"])).toMatchObject({ ns: host, code: 0, stdout: "fu\n" });
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await Bun.sleep(50);
    expect((await ok(["inspect", "-f", "{{.State.Status}}", "fu"])).trim()).toBe("exited");
    // Files of other ids in directories of theirs: rm hands them over to rm -rf inside.
    await ok(["run", "--name", "fo", "--network", "none", "busybox", "sh", "-c", "mkdir -p /d/e; touch /d/e/f; chown -R 5:5 /d; chmod 700 /d/e"]);
    expect(await atWrite(["rm", "fo", "fu"])).toMatchObject({ ns: host, code: 0, stdout: "fo\nfu\n" });
    expect(readdirSync(join(user.dir, "root", "containers"))).toEqual([]);
    // A monitor killed: its cleanup (and ps, which would do it) goes inside, and reports the exit.
    await ok(["run", "-d", "--name", "fd", "--network", "none", "busybox", "sleep", "300"]);
    const monitor = Number((await ok(["inspect", "-f", "{{.State.Pid}}", "fd"])).trim());
    const mpid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${monitor}/status`, "utf8"))![1]);
    process.kill(mpid, "SIGKILL");
    process.kill(monitor, "SIGKILL");
    for (let i = 0; i < 50 && existsSync(`/proc/${monitor}`); i++) await Bun.sleep(50);
    expect(await atWrite(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).toMatchObject({ ns: pauseNs, code: 0, stdout: "fd exited\n" });
    expect(await atWrite(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).toMatchObject({ ns: host, code: 0, stdout: "fd exited\n" });
    expect(await atWrite(["ps", "-as", "--format", "{{.Names}}"])).toMatchObject({ ns: pauseNs, code: 0, stdout: "fd\n" });
    expect(await atWrite(["rm", "fd"])).toMatchObject({ ns: host, code: 0, stdout: "fd\n" });
    // The monitor killed while stop waits out -t (PID 1 sleep ignores SIGTERM): stop, on the
    // host, has the dead monitor's cleanup done inside, and ends as it would have.
    await ok(["run", "-d", "--name", "fx", "--network", "none", "busybox", "sleep", "300"]);
    const init = Number((await ok(["inspect", "-f", "{{.State.Pid}}", "fx"])).trim());
    const xmon = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${init}/status`, "utf8"))![1]);
    const stopping = atWrite(["stop", "-t", "20", "fx"]);
    await Bun.sleep(1500);
    process.kill(xmon, "SIGKILL");
    expect(await stopping).toMatchObject({ ns: host, code: 0, stdout: "fx\n", stderr: "" });
    // Recorded by the stop: the look-up after it has nothing to clean up, and stays on the host.
    expect(await atWrite(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "fx"])).toMatchObject({ ns: host, stdout: "exited -1\n" });
    try {
      process.kill(init, "SIGKILL"); // no cgroup to take it rootless: what a dead monitor leaves
    } catch {
      // gone with its monitor
    }
    await ok(["rm", "fx"]);
    // start of a container on the default network (pasta, set up inside): the start goes inside.
    await ok(["create", "--name", "fp", "busybox", "true"]);
    const start = await asUser(user, ["start", "fp"], { env: { TSD_DEBUG: "1" } });
    expect(start.stderr).toStartWith("tsd: rootless: into the namespace: start fp: --network pasta is set up in the namespace\n");
    await ok(["rm", "-f", "fp"]);
    expect(await ok(["ps", "-aq"])).toBe("");
  }, 120000);

  test("an image whose /etc/passwd the user cannot read from the host: -u NAME resolves inside the namespace", async () => {
    // /etc/passwd of container uid 5 (a subordinate id on the host), mode 0600: the fast path's
    // CLI cannot read it as the user, so run and exec start over inside, where root can.
    await ok(["load", "-q", "-i", images.busyboxDocker]);
    await ok(["run", "--name", "lockpw", "--network", "none", "busybox", "sh", "-c", "echo app:x:1234:1234::/:/bin/sh >> /etc/passwd; chown 5:5 /etc/passwd; chmod 600 /etc/passwd"]);
    await ok(["commit", "lockpw", "lockpw:1"]);
    await ok(["rm", "lockpw"]);
    expect(await ok(["run", "--rm", "--network", "none", "-u", "app", "lockpw:1", "id", "-u"])).toBe("1234\n");
    await ok(["run", "-d", "--name", "lockx", "--network", "none", "lockpw:1", "sleep", "300"]);
    expect(await ok(["exec", "-u", "app", "lockx", "id", "-u"])).toBe("1234\n");
    await ok(["rm", "-f", "lockx"]);
    await ok(["rmi", "lockpw:1"]);
  }, 120000);

  test("--network host shares the host's network namespace; none has only lo", async () => {
    const hostNet = readlinkSync("/proc/self/ns/net");
    expect((await ok(["run", "--rm", "--network", "host", "busybox", "readlink", "/proc/self/ns/net"])).trim()).toBe(hostNet);
    expect(await ok(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"])).toBe("lo\n");
  }, 60000);

  test("files the container's root writes in a bind volume are the user's; other ids map into its range", async () => {
    const vol = join(user.dir, "vol");
    mkdirSync(vol);
    chownSync(vol, user.uid, user.gid);
    await ok(["run", "--rm", "--network", "none", "-v", `${vol}:/v`, "busybox", "sh", "-c", "echo x > /v/f; mkdir /v/d; chown 5:7 /v/d"]);
    expect([statSync(join(vol, "f")).uid, statSync(join(vol, "f")).gid]).toEqual([user.uid, user.gid]);
    expect([statSync(join(vol, "d")).uid, statSync(join(vol, "d")).gid]).toEqual([START + 4, START + 6]);
  }, 60000);

  test("a named volume and cp in and out keep container ids in the user's range", async () => {
    await ok(["run", "--rm", "--network", "none", "-v", "nv:/data", "busybox", "sh", "-c", "echo v > /data/f; chown 3:3 /data/f"]);
    expect(await ok(["run", "--rm", "--network", "none", "-v", "nv:/data", "busybox", "stat", "-c", "%u:%g %n", "/data/f"])).toBe("3:3 /data/f\n");
    await ok(["run", "-d", "--name", "cpx", "--network", "none", "busybox", "sleep", "300"]);
    const src = join(user.dir, "in.txt");
    writeFileSync(src, "in\n");
    chownSync(src, user.uid, user.gid);
    await ok(["cp", src, "cpx:/in.txt"]);
    expect(await ok(["exec", "cpx", "sh", "-c", "cat /in.txt; stat -c %u /in.txt"])).toBe("in\n0\n");
    await ok(["cp", "cpx:/etc/hostname", join(user.dir, "out.txt")]);
    expect(statSync(join(user.dir, "out.txt")).uid).toBe(user.uid);
    await ok(["rm", "-f", "cpx"]);
    await ok(["volume", "rm", "nv"]);
  }, 60000);

  test("nothing the user could not write becomes writable (or readable) to the container's root", async () => {
    const closed = mkdtempSync(join(base, "rootonly-"));
    chmodSync(closed, 0o755);
    writeFileSync(join(closed, "secret"), "s\n", { mode: 0o600 });
    const r = await asUser(user, ["run", "--rm", "--network", "none", "-v", `${closed}:/c`, "busybox", "sh", "-c", "touch /c/new; echo $?; cat /c/secret; echo $?; echo y >> /c/secret; echo $?"]);
    expect(r.stdout).toBe("1\n1\n1\n");
    expect(existsSync(join(closed, "new"))).toBe(false);
    expect(readFileSync(join(closed, "secret"), "utf8")).toBe("s\n");
    // The host's /etc through --network host's container: still read-only to the user.
    const etc = await asUser(user, ["run", "--rm", "--network", "host", "-v", "/etc:/hostetc", "busybox", "sh", "-c", "touch /hostetc/tsd-rootless-probe; echo $?"]);
    expect(etc.stdout).toBe("1\n");
    expect(existsSync("/etc/tsd-rootless-probe")).toBe(false);
  }, 60000);

  test("layers with a whiteout and an opaque directory (user.overlay.opaque), and commit of one", async () => {
    const id = /Loaded image ID: (sha256:[0-9a-f]{64})/.exec(await ok(["load", "-i", images.multilayerOci]))![1]!;
    expect(await ok(["run", "--rm", "--network", "none", "--entrypoint", "sh", id, "-c", "ls /data /opt/x"])).toBe("/data:\nb\n\n/opt/x:\nnew\n");
    await ok(["run", "-u", "0", "--name", "ch", "--network", "none", "--entrypoint", "sh", id, "-c", "rm -rf /opt/x && mkdir /opt/x && echo z > /opt/x/z"]);
    await ok(["commit", "ch", "ml:changed"]);
    await ok(["rm", "ch"]);
    expect(await ok(["run", "--rm", "--network", "none", "--entrypoint", "ls", "ml:changed", "/opt/x"])).toBe("z\n");
  }, 120000);

  test("build --network none: RUN runs as root in the namespace, COPY's files are root's in the image, which runs", async () => {
    const ctx = join(user.dir, "build-ctx");
    mkdirSync(ctx);
    writeFileSync(join(ctx, "Dockerfile"), 'FROM busybox\nRUN echo built > /built && id -u > /uid\nCOPY hello.txt /hello.txt\nCMD ["sh", "-c", "cat /built /uid /hello.txt; stat -c %u:%g /hello.txt"]\n');
    writeFileSync(join(ctx, "hello.txt"), "hello\n");
    for (const p of [ctx, join(ctx, "Dockerfile"), join(ctx, "hello.txt")]) chownSync(p, user.uid, user.gid);
    expect(await ok(["build", "--network", "none", "-q", "-t", "rlbuild", ctx])).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(await ok(["run", "--rm", "--network", "none", "rlbuild"])).toBe("built\n0\nhello\n0:0\n");
    await ok(["rmi", "rlbuild"]);
    expect(await ok(["ps", "-aq"])).toBe("");
  }, 120000);

  test("pull from a registry on 127.0.0.1 and run it", async () => {
    reg = await startRegistry();
    await push(`oci-archive:${images.busyboxOci}:latest`, `${reg.host}/library/busybox:rl`);
    await ok(["pull", `${reg.host}/library/busybox:rl`]);
    expect(await ok(["run", "--rm", "--network", "none", `${reg.host}/library/busybox:rl`, "echo", "pulled"])).toBe("pulled\n");
  }, 120000);

  test("limits, bridge networks and --userns are refused with one line", async () => {
    const limits = await asUser(user, ["run", "--rm", "-m", "64m", "--network", "none", "busybox", "true"]);
    expect(limits.code).toBe(125);
    expect(limits.stderr).toMatch(/^tsd: rootless: resource limits and --cgroup-parent need a delegated cgroup v2 subtree, and .+\n$/);
    const bridge = await asUser(user, ["run", "--rm", "--network", "bridge", "busybox", "true"]);
    expect(bridge.code).toBe(125);
    expect(bridge.stderr).toBe("tsd: rootless: bridge networks need root: drop --network for the default (pasta, a user-mode stack), or use --network none|host\n");
    const userns = await asUser(user, ["run", "--rm", "--network", "none", "--userns=auto", "busybox", "true"]);
    expect(userns.code).toBe(125);
    expect(userns.stderr).toContain("tsd: rootless: --userns");
    expect(await ok(["ps", "-aq"])).toBe("");
  }, 60000);

  test("the pause process killed (-9) with a container running: the next command rejoins its namespaces; with none, a new one", async () => {
    await ok(["run", "-d", "--name", "pk", "--network", "none", "busybox", "sleep", "300"]);
    const old = pausePid(user)!;
    const ns = readlinkSync(`/proc/${old}/ns/user`);
    process.kill(old, "SIGKILL");
    for (let i = 0; i < 100 && processesOf(user).includes(old); i++) await Bun.sleep(20);
    expect(await ok(["ps", "--format", "{{.Names}} {{.Status}}"])).toMatch(/^pk Up/);
    const now = pausePid(user)!;
    expect(now).not.toBe(old);
    expect(readlinkSync(`/proc/${now}/ns/user`)).toBe(ns);
    expect(await ok(["exec", "pk", "echo", "joined"])).toBe("joined\n");
    await ok(["stop", "-t", "1", "pk"]);
    await ok(["rm", "pk"]);
    // Nothing holds the namespace any more: killed again, the next command makes a new one.
    process.kill(now, "SIGKILL");
    for (let i = 0; i < 100 && processesOf(user).includes(now); i++) await Bun.sleep(20);
    expect(await ok(["run", "--rm", "--network", "none", "busybox", "echo", "fresh"])).toBe("fresh\n");
    expect(readlinkSync(`/proc/${pausePid(user)!}/ns/user`)).not.toBe(ns);
    // The whole namespace killed (pause, monitor, container): the container is reported exited and its rm works.
    await ok(["run", "-d", "--name", "gone", "--network", "none", "busybox", "sleep", "300"]);
    for (const pid of processesOf(user)) process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && processesOf(user).length > 0; i++) await Bun.sleep(20);
    expect(await ok(["ps", "-a", "--format", "{{.Names}} {{.State}}"])).toBe("gone exited\n");
    await ok(["rm", "gone"]);
    expect(await ok(["ps", "-aq"])).toBe("");
  }, 60000);

  test("fuse-overlayfs (TSD_ROOTLESS_OVERLAY=fuse): run, write, commit, rm; nothing mounted after, even after a SIGKILLed CLI", async () => {
    // Debian's udev makes /dev/fuse 0666; these hosts have no udev (0600): opened for the test only.
    const fuseMode = statSync("/dev/fuse").mode & 0o777;
    chmodSync("/dev/fuse", 0o666);
    const env = { TSD_ROOTLESS_OVERLAY: "fuse" };
    const fuse = async (args: string[], o: { env?: Record<string, string> } = {}) => {
      const r = await asUser(user, args, { env: { ...env, ...o.env } });
      if (r.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    };
    const fuseMounts = () => readFileSync(`/proc/${pausePid(user)!}/mountinfo`, "utf8").split("\n").filter((l) => l.includes("fuse-overlayfs"));
    try {
      expect(await fuse(["info", "-f", "{{.Driver}}"])).toBe("fuse-overlayfs\n");
      expect(await fuse(["run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo w > /w; cat /w; awk '$5 == \"/\" { print $8 }' /proc/self/mountinfo"])).toBe("w\nfuse.fuse-overlayfs\n");
      await fuse(["run", "--name", "fz", "--network", "none", "busybox", "sh", "-c", "mkdir /made && echo c > /made/f"]);
      await fuse(["commit", "fz", "fz:img"]);
      await fuse(["rm", "fz"]);
      expect(await fuse(["run", "--rm", "--network", "none", "fz:img", "cat", "/made/f"])).toBe("c\n");
      expect(fuseMounts()).toEqual([]);
      // The CLI SIGKILLed right after the mount (before the monitor): the next command's reconcile unmounts.
      const killed = await asUser(user, ["run", "--rm", "--name", "fk", "--network", "none", "busybox", "true"], { env: { ...env, TSD_FAULT: "start:fuse-mounted" } });
      expect(killed.code).toBe(137);
      expect(fuseMounts().length).toBe(1);
      expect(await fuse(["ps", "-aq"])).toBe("");
      expect(fuseMounts()).toEqual([]);
      // A running container's rootfs goes with rm -f.
      await fuse(["run", "-d", "--name", "fr", "--network", "none", "busybox", "sleep", "300"]);
      expect(fuseMounts().length).toBe(1);
      await fuse(["rm", "-f", "fr"]);
      expect(fuseMounts()).toEqual([]);
      await fuse(["rmi", "fz:img"]);
    } finally {
      chmodSync("/dev/fuse", fuseMode);
    }
  }, 90000);

  test("a failed run (127, 126) and a failed create leave no container, no mount, no process", async () => {
    const before = processesOf(user).sort();
    const missing = await asUser(user, ["run", "--rm", "--network", "none", "busybox", "no-such-command"]);
    expect(missing.code).toBe(127);
    const notExec = await asUser(user, ["run", "--rm", "--network", "none", "busybox", "/etc/passwd"]);
    expect(notExec.code).toBe(126);
    const badVolume = await asUser(user, ["run", "--rm", "--network", "none", "-v", "/nonexistent-tsd-rootless:/x", "busybox", "true"]);
    expect(badVolume.code).toBe(125);
    expect(await ok(["ps", "-aq"])).toBe("");
    const pause = pausePid(user)!;
    expect(readFileSync(`/proc/${pause}/mountinfo`, "utf8")).not.toContain(join(user.dir, "root"));
    expect(processesOf(user).sort()).toEqual(before);
  }, 60000);

  test("a user without /etc/subuid and /etc/subgid lines: a single-id namespace, one warning naming the fix", async () => {
    // The first command starts the namespace and warns, once; the image's /home/user is 1000's: the user's here.
    const load = await asUser(bare, ["load", "-i", images.busyboxDocker]);
    expect(load.code).toBe(0);
    const r = await asUser(bare, ["run", "--rm", "--network", "none", "busybox", "sh", "-c", "id; cat /proc/self/uid_map; stat -c %u /home/user"]);
    expect(r.stderr).toBe("");
    expect(load.stderr).toBe(`WARNING: rootless: no /etc/subuid and /etc/subgid entry for user ${bare.name}, running with a single id (container root → you, no other ids: images with files of other owners get them as root, USER other than root fails): add one as root for a full mapping, e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${bare.name}\n`);
    expect(r.stdout).toMatch(new RegExp(`^uid=0\\(root\\) gid=0\\(root\\) groups=0\\(root\\)\n +0 +${bare.uid} +1\n0\n$`));
    expect(r.code).toBe(0);
    // info names the mapping.
    const info = await asUser(bare, ["info"]);
    expect(info.stderr).toBe("");
    expect(info.stdout).toContain(" User Namespace: rootless (single id (unshare --map-root-user: no /etc/subuid range or no newuidmap), a pause process per user)\n");
    expect(info.stdout).toContain(`  UID Map: 0-0 → ${bare.uid}-${bare.uid}\n`);
    // pull (layers owned by ids it cannot map: the user's), run -d, exec (also with a tty: devpts without gid=5), rm.
    reg ??= await startRegistry();
    await push(`oci-archive:${images.multilayerOci}:latest`, `${reg.host}/library/ml:single`);
    const ok1 = async (args: string[]) => {
      const x = await asUser(bare, args);
      if (x.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${x.code}: ${x.stderr}`);
      return x.stdout;
    };
    await ok1(["pull", `${reg.host}/library/ml:single`]);
    // Its USER (1000) cannot be mapped: one line; as root it runs.
    const unmapped = await asUser(bare, ["run", "--rm", "--network", "none", `${reg.host}/library/ml:single`, "true"]);
    expect([unmapped.code, unmapped.stderr]).toEqual([125, "tsd: rootless: user 1000:1000 cannot run in a single-id namespace (only root is mapped: no /etc/subuid range or no newuidmap): use -u 0, or add a range as root (usermod --add-subuids/--add-subgids)\n"]);
    await ok1(["run", "-d", "--name", "single", "-u", "0", "--network", "none", "--entrypoint", "sleep", `${reg.host}/library/ml:single`, "300"]);
    expect(await ok1(["exec", "single", "sh", "-c", "id -u; ls /data"])).toBe("0\nb\n");
    expect(await ok1(["exec", "-t", "single", "tty"])).toBe("/dev/pts/0\r\n");
    const pid = Number((await ok1(["inspect", "-f", "{{.State.Pid}}", "single"])).trim());
    expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]).toBe(String(bare.uid));
    await ok1(["rm", "-f", "single"]);
    await ok1(["rmi", `${reg.host}/library/ml:single`]);
    expect(await ok1(["ps", "-aq"])).toBe("");
  }, 90000);

  test("a runtime dir it cannot make (no login session's /run/user/UID): one line", async () => {
    const noRun = await asUser(user, ["ps"], { env: { XDG_RUNTIME_DIR: `/run/user/${user.uid}` } });
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toBe(`tsd: rootless: cannot make /run/user/${user.uid}/tsd (EACCES): set XDG_RUNTIME_DIR to a directory of yours (a login session's /run/user/UID), or unset it\n`);
  }, 60000);
});
