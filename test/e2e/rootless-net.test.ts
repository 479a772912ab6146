// Rootless networking (issue 13): pasta, rootless tsd's default network. A test user made here
// (test/lib/rootless.ts) runs dist/tsd: -p 127.0.0.1:PORT:80 reached from the host, outbound
// to a listener on the host's 127.0.0.1 through pasta's gateway mapping (the container dials
// its gateway's address, pasta connects to the host's loopback: no other address is ever
// dialled), --network none still alone, a taken port refused with nothing left, and no pasta
// process nor namespace left after stop, rm -f, --rm, a failed start or a SIGKILLed CLI.
// pasta opens /dev/net/tun as the user: the test user gets an ACL entry of its own on it for
// the file's run (test/lib/tun-acl.py; where the device is 0600, as without udev), dropped
// after; the device's mode is never changed, so concurrent runs do not undo each other.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testImages, type TestImages } from "../lib/fixtures";
import { asUser, makeRootlessUser, processesOf, removeRootlessUsers, subStart, type RootlessUser } from "../lib/rootless";
import { busyboxRoot, closeRoot } from "../lib/tsd";

const pasta = Bun.which("pasta");
const skip = !pasta || !existsSync("/dev/net/tun");
if (skip) console.warn(`rootless-net: skipped: ${!pasta ? "pasta not installed (apt-get install passt; scripts/bootstrap.sh does)" : "no /dev/net/tun (modprobe tun)"}`);

// Ports of this run's own, below the range tsd picks random ports from (32768 on).
const PORT = 28000 + (process.pid % 1500) * 3;
// Its own subordinate range, apart from rootless.test.ts's (1 300 000 000 on) and the auto pool.
const START = subStart(1_600_000_000);

/** The test user's own ACL entry on /dev/net/tun (test/lib/tun-acl.py): never the device's mode,
 *  which other runs and the host rely on. */
function tunAcl(verb: "grant" | "deny" | "drop", uid: number): void {
  const r = Bun.spawnSync(["python3", join(import.meta.dir, "..", "lib", "tun-acl.py"), verb, String(uid)], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`tun-acl.py ${verb} ${uid}: ${r.stderr}`);
}

let base: string;
let user: RootlessUser;
let images: TestImages;

beforeAll(async () => {
  if (skip) return;
  images = await testImages();
  base = mkdtempSync("/dev/shm/tsd-e2e-rlnet-");
  chmodSync(base, 0o755);
  user = makeRootlessUser(`tsdrp${process.pid}`, base, START);
  tunAcl("grant", user.uid);
  await ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  if (skip) return;
  let left: string[] = [];
  try {
    if (user) left = await removeRootlessUsers([user]);
    for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) if (base && line.includes(base)) left.push(`mount: ${line}`);
  } finally {
    if (user) tunAcl("drop", user.uid);
    if (base) rmSync(base, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
}, 120000);

async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await asUser(user, args, env ? { env } : {});
  if (r.code !== 0) throw new Error(`tsd ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The user's pasta processes (pid → its argv). */
function pastas(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const pid of processesOf(user)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv[0] === "pasta" || argv[0]!.endsWith("/pasta")) out.set(pid, argv);
    } catch {
      // gone
    }
  }
  return out;
}

const rootDir = () => join(user.dir, "root");
const entries = (d: string) => (existsSync(join(rootDir(), d)) ? readdirSync(join(rootDir(), d)) : []);

/** Nothing of any container's network: no pasta, no namespace file, no pid file. */
function expectNoNetwork(): void {
  expect([...pastas().keys()]).toEqual([]);
  expect(entries("netns")).toEqual([]);
  expect(entries("pasta")).toEqual([]);
}

async function fetchText(url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url)).text();
    } catch (e) {
      if (i >= 50) throw e;
      await Bun.sleep(100);
    }
  }
}

describe.skipIf(skip)("rootless pasta network", () => {
  test("-p 127.0.0.1:PORT:80: reached from the host; ps, port, inspect, info; stop ends pasta", async () => {
    try {
      await webServes();
    } finally {
      await asUser(user, ["rm", "-f", "web"]);
    }
  }, 60000);

  async function webServes(): Promise<void> {
    const id = (await ok(["run", "-d", "--name", "web", "-p", `127.0.0.1:${PORT}:80`, "busybox", "sh", "-c", "mkdir -p /w && echo served > /w/index.html && exec httpd -f -p 80 -h /w"])).trim();
    expect(await fetchText(`http://127.0.0.1:${PORT}/`)).toBe("served\n");
    expect((await ok(["ps", "--format", "{{.Names}} {{.Ports}}"])).trim()).toBe(`web 127.0.0.1:${PORT}->80/tcp`);
    expect(await ok(["port", "web"])).toBe(`80/tcp -> 127.0.0.1:${PORT}\n`);
    expect(JSON.parse(await ok(["inspect", "-f", "{{json .NetworkSettings.Ports}}", "web"]))).toEqual({ "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(PORT) }] });
    expect((await ok(["inspect", "-f", "{{.HostConfig.NetworkMode}}", "web"])).trim()).toBe("pasta");
    expect(await ok(["info", "-f", "{{.NetworkBackend}}"])).toContain("pasta");
    // One pasta, the user's, attached to the container's own namespace.
    const all = [...pastas()];
    expect(all.length).toBe(1);
    const [pid, argv] = all[0]!;
    expect(argv).toContain(join(rootDir(), "netns", id));
    expect(statSync(`/proc/${pid}`).uid).toBe(user.uid);
    const init = Number((await ok(["inspect", "-f", "{{.State.Pid}}", "web"])).trim());
    expect(readFileSync(`/proc/${init}/net/dev`, "utf8")).toContain("eth0:");
    // A restart: the old pasta goes with the old namespace, a new one serves the port.
    await ok(["restart", "-t", "1", "web"]);
    expect(await fetchText(`http://127.0.0.1:${PORT}/`)).toBe("served\n");
    expect(pastas().has(pid)).toBe(false);
    expect(pastas().size).toBe(1);
    await ok(["stop", "-t", "1", "web"]);
    expectNoNetwork();
    await ok(["rm", "web"]);
  }

  test("outbound: the container reaches a listener on the host's 127.0.0.1 through its gateway", async () => {
    let peer = "";
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: PORT + 1,
      fetch(req, srv) {
        peer = srv.requestIP(req)?.address ?? "";
        return new Response("from-host\n");
      },
    });
    try {
      // The gateway's address is pasta's stand-in for the host's loopback (map-gw). HTTP with a
      // length, not a bare nc: pasta 2023-03 at times does not pass the host side's FIN on, and
      // an nc waiting for it would hang.
      const script = `gw=$(ip route | sed -n 's/^default via \\([^ ]*\\).*/\\1/p'); timeout 10 wget -qO- "http://$gw:${PORT + 1}/"`;
      expect(await ok(["run", "--rm", "busybox", "sh", "-c", script])).toBe("from-host\n");
      expect(peer).toBe("127.0.0.1");
      // --add-host NAME:host-gateway names that address.
      peer = "";
      const named = `timeout 10 wget -qO- "http://host.docker.internal:${PORT + 1}/"`;
      expect(await ok(["run", "--rm", "--add-host", "host.docker.internal:host-gateway", "busybox", "sh", "-c", named])).toBe("from-host\n");
      expect(peer).toBe("127.0.0.1");
    } finally {
      server.stop(true);
    }
    expectNoNetwork();
  }, 60000);

  test("build: a RUN step on the default network reaches the host's 127.0.0.1 through pasta; none is left", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: PORT + 2, fetch: () => new Response("fetched-in-build\n") });
    const ctx = join(user.dir, "build-ctx");
    try {
      mkdirSync(ctx);
      const script = `gw=$(ip route | sed -n 's/^default via \\([^ ]*\\).*/\\1/p'); timeout 10 wget -qO /got "http://$gw:${PORT + 2}/"`;
      writeFileSync(join(ctx, "Dockerfile"), `FROM busybox\nRUN ${script}\nCMD ["cat", "/got"]\n`);
      for (const p of [ctx, join(ctx, "Dockerfile")]) chownSync(p, user.uid, user.gid);
      await ok(["build", "-q", "-t", "rlnetbuild", ctx]);
      expect(await ok(["run", "--rm", "--network", "none", "rlnetbuild"])).toBe("fetched-in-build\n");
      await ok(["rmi", "rlnetbuild"]);
    } finally {
      server.stop(true);
    }
    expectNoNetwork();
  }, 60000);

  test("--network none: only lo, and no pasta", async () => {
    await ok(["run", "-d", "--name", "alone", "--network", "none", "busybox", "sleep", "300"]);
    expect(await ok(["exec", "alone", "ls", "/sys/class/net"])).toBe("lo\n");
    expect([...pastas().keys()]).toEqual([]);
    await ok(["rm", "-f", "alone"]);
  }, 60000);

  test("a taken host port: one line, 125, nothing left", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: PORT + 2, socket: { data() {} } });
    try {
      for (const detach of [["-d"], []]) {
        const r = await asUser(user, ["run", ...detach, "--rm", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "true"]);
        expect(r.code).toBe(125);
        expect(r.stderr).toBe(`tsd: cannot publish 127.0.0.1:${PORT + 2}/tcp: the port is already allocated; choose another host port\n`);
        expect(r.stdout).toBe("");
      }
    } finally {
      taken.stop(true);
    }
    expect(await ok(["ps", "-aq"])).toBe("");
    expectNoNetwork();
  }, 60000);

  test("/dev/net/tun closed to the user: one line naming the fix, 125, nothing left", async () => {
    tunAcl("deny", user.uid);
    try {
      const r = await asUser(user, ["run", "--rm", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe("tsd: rootless: the pasta network needs /dev/net/tun, which this user cannot open (EACCES): as root, chmod 0666 /dev/net/tun (as most distributions' udev rules make it), or use --network none|host\n");
    } finally {
      tunAcl("grant", user.uid);
    }
    expect(await ok(["ps", "-aq"])).toBe("");
    expectNoNetwork();
  }, 60000);

  test("a start that fails (127) leaves no pasta, no namespace", async () => {
    const r = await asUser(user, ["run", "--rm", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "no-such-command"]);
    expect(r.code).toBe(127);
    expect(await ok(["ps", "-aq"])).toBe("");
    expectNoNetwork();
  }, 60000);

  test("rm -f of a running container and an exited --rm one leave no pasta", async () => {
    await ok(["run", "-d", "--name", "busy", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "sleep", "300"]);
    expect(pastas().size).toBe(1);
    await ok(["rm", "-f", "busy"]);
    expectNoNetwork();
    // Exits by itself, detached: the monitor's cleanup ends pasta.
    await ok(["run", "-d", "--rm", "--name", "brief", "busybox", "sleep", "1"]);
    for (let i = 0; i < 100 && (await ok(["ps", "-aq"])) !== ""; i++) await Bun.sleep(100);
    expect(await ok(["ps", "-aq"])).toBe("");
    expectNoNetwork();
  }, 60000);

  test("a CLI SIGKILLed once connected: the next command ends its pasta and namespace", async () => {
    const r = await asUser(user, ["run", "--rm", "--name", "killed", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "true"], { env: { TSD_FAULT: "start:connected" } });
    expect(r.code).toBe(137);
    expect(pastas().size).toBe(1); // what the dead run took
    expect(await ok(["ps", "-aq"])).toBe("");
    expectNoNetwork();
    // Killed before pasta's pid file was read back (here: the file removed): pasta still goes,
    // by itself, once the release deletes the namespace file it watches.
    const again = await asUser(user, ["run", "-d", "--rm", "--name", "killed2", "busybox", "true"], { env: { TSD_FAULT: "start:connected" } });
    expect(again.code).toBe(137);
    expect(pastas().size).toBe(1);
    for (const f of entries("pasta")) rmSync(join(rootDir(), "pasta", f));
    expect(await ok(["ps", "-aq"])).toBe("");
    for (let i = 0; i < 100 && pastas().size > 0; i++) await Bun.sleep(20);
    expectNoNetwork();
    // The port is free again.
    await ok(["run", "--rm", "-p", `127.0.0.1:${PORT + 2}:80`, "busybox", "true"]);
    expectNoNetwork();
  }, 60000);
});

describe.skipIf(skip)("rootful", () => {
  test("--network pasta is rootless tsd's: refused with one line, nothing made", async () => {
    const t = await busyboxRoot("rlnet", `rp${process.pid}b1`, `10.246.${process.pid % 250}.0/24`);
    try {
      const r = await t.tsd(["run", "--rm", "--network", "pasta", "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toBe("tsd: --network pasta is rootless tsd's network: as root use a bridge network (the default)\n");
      expect(await t.ok(["ps", "-aq"])).toBe("");
      expect(t.containerDirs()).toEqual([]);
    } finally {
      expect(await closeRoot(t)).toEqual([]);
    }
  }, 60000);
});
