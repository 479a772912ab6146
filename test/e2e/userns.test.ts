// Rootful user namespaces (issue 13): --userns=auto, --uidmap/--gidmap and `:idmap` volumes on
// the built dist/tsd, with real user namespaces, idmapped overlay layers and a bridge of this
// file's own (traffic only to 127.0.0.1 and the test's own container).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { busyboxRoot, closeRoot, type TestRoot } from "../lib/tsd";

let t: TestRoot;
let host: string; // a host directory for bind volumes
const PORT = 37000 + (process.pid % 2000);

beforeAll(async () => {
  t = await busyboxRoot("userns", `ux${process.pid}b1`, `10.241.${process.pid % 250}.0/24`);
  host = mkdtempSync("/tmp/tsd-e2e-userns-vol-");
}, 120000);

// Every test's containers go, also when it failed half-way.
afterEach(async () => {
  const ids = (await t.tsd(["ps", "-aq", "--no-trunc"])).stdout.split("\n").filter(Boolean);
  if (ids.length > 0) await t.tsd(["rm", "-f", ...ids], { timeoutMs: 60000 });
});

afterAll(async () => {
  rmSync(host, { recursive: true, force: true });
  expect(await closeRoot(t)).toEqual([]);
});

const run = async (args: string[]) => {
  const r = await t.tsd(["run", "--rm", "--network", "none", ...args]);
  if (r.code !== 0) throw new Error(`run ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const pidOf = async (name: string) => Number((await t.ok(["inspect", "-f", "{{.State.Pid}}", name])).trim());
/** The host uid a process runs as (the real uid of /proc/PID/status). */
const hostUid = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
/** uid_map's first line: container id, host id, size. */
const uidMap = (pid: number) => readFileSync(`/proc/${pid}/uid_map`, "utf8").trim().split(/\s+/).map(Number);
const autoRanges = async () => Number((await t.ok(["info", "-f", "{{.UserNamespaces.AutoRanges}}"])).trim());

describe("--userns=auto", () => {
  test("the container's root is root inside and an unprivileged host uid outside", async () => {
    const id = (await t.ok(["run", "-d", "--name", "mapped", "--userns=auto", "busybox", "sleep", "300"])).trim();
    const pid = await pidOf("mapped");
    const [inside, start, size] = uidMap(pid);
    expect(inside).toBe(0);
    expect(size).toBe(65536);
    expect(start).toBeGreaterThan(65535);
    expect(hostUid(pid)).toBe(start!);
    expect(await t.ok(["exec", "mapped", "id"])).toBe("uid=0(root) gid=0(root) groups=0(root)\n");
    // The image's files are root's inside, and the container's root may write its rootfs.
    expect(await t.ok(["exec", "mapped", "sh", "-c", "stat -c '%u:%g' /bin/busybox /etc/passwd /; echo x > /new; stat -c %u /new"])).toBe("0:0\n0:0\n0:0\n0\n");
    expect(await t.ok(["exec", "-u", "1000:1000", "mapped", "id", "-u"])).toBe("1000\n");
    expect((await t.ok(["inspect", "-f", "{{.HostConfig.UsernsMode}}", id])).trim()).toBe("auto");
    await t.ok(["rm", "-f", "mapped"]);
  }, 60000);

  test("two containers get disjoint ranges; rm releases them", async () => {
    const before = await autoRanges();
    await t.ok(["run", "-d", "--name", "a", "--network", "none", "--userns=auto:size=1000", "busybox", "sleep", "300"]);
    await t.ok(["run", "-d", "--name", "b", "--network", "none", "--userns=auto:size=1000", "busybox", "sleep", "300"]);
    const [, a, as] = uidMap(await pidOf("a"));
    const [, b, bs] = uidMap(await pidOf("b"));
    expect(as).toBe(1000);
    expect(a! + as! <= b! || b! + bs! <= a!).toBe(true);
    expect(await autoRanges()).toBe(before + 2);
    await t.ok(["rm", "-f", "a"]);
    expect(await autoRanges()).toBe(before + 1);
    // a's range is free again: the next container takes it.
    await t.ok(["run", "-d", "--name", "c", "--network", "none", "--userns=auto:size=1000", "busybox", "sleep", "300"]);
    expect(uidMap(await pidOf("c"))[1]).toBe(a!);
    await t.ok(["rm", "-f", "b", "c"]);
    expect(await autoRanges()).toBe(before);
  }, 60000);

  test("parallel creates never share a range", async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(() => t.ok(["run", "-d", "--network", "none", "--userns=auto:size=100", "busybox", "sleep", "300"])));
    const starts = await Promise.all(ids.map(async (id) => uidMap(await pidOf(id.trim()))[1]!));
    const sorted = [...starts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(100);
    await t.ok(["rm", "-f", ...ids.map((i) => i.trim())]);
  }, 60000);

  test("a failed run leaves no range, row or mount behind", async () => {
    const before = await autoRanges();
    const r = await t.tsd(["run", "--rm", "--network", "none", "--userns=auto", "busybox", "nosuch"]);
    expect(r.code).toBe(127);
    const bad = await t.tsd(["run", "--rm", "--network", "none", "--uidmap", "1:100000:10", "busybox", "true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("maps no uid 0");
    expect(await autoRanges()).toBe(before);
    // A CLI killed right after it took a range, before the container's row: the next
    // allocation frees it (its owner is gone).
    const killed = await t.tsd(["run", "--rm", "--network", "none", "--userns=auto", "busybox", "true"], { env: { TSD_FAULT: "create:userns" } });
    expect(killed.code).toBe(137);
    expect(await autoRanges()).toBe(before + 1);
    await run(["--userns=auto", "busybox", "true"]);
    expect(await autoRanges()).toBe(before);
    expect((await t.ok(["ps", "-aq"])).trim()).toBe("");
    expect(t.leaks()).toEqual([]);
  }, 30000);

  test("bind volumes: the mapped uid writes a host directory, :idmap writes as root, volumes keep container ids", async () => {
    const open = join(host, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    writeFileSync(join(open, "hosts-file"), "x");
    const out = await run(["--userns=auto", "-v", `${open}:/v`, "busybox", "sh", "-c", "stat -c %u /v/hosts-file; cat /proc/self/uid_map; touch /v/by-container"]);
    const [owner, , start] = out.trim().split(/\s+/).map(Number);
    expect(owner).toBe(65534); // host root is unmapped inside: nobody
    expect(statSync(join(open, "by-container")).uid).toBe(start!);
    const idm = join(host, "idmap");
    mkdirSync(idm);
    expect(await run(["--userns=auto", "-v", `${idm}:/v:idmap`, "busybox", "sh", "-c", "stat -c %u /v; touch /v/f"])).toBe("0\n");
    expect(statSync(join(idm, "f")).uid).toBe(0);
    // The same through --mount (Podman's spelling).
    expect(await run(["--userns=auto", "--mount", `type=bind,src=${idm},dst=/m,idmap`, "busybox", "sh", "-c", "stat -c %u /m/f; touch /m/g"])).toBe("0\n");
    expect(statSync(join(idm, "g")).uid).toBe(0);
    // A named volume, written by a mapped container, is root's for a plain one.
    await run(["--userns=auto", "-v", "uxvol:/data", "busybox", "sh", "-c", "echo hi > /data/f"]);
    expect(await run(["-v", "uxvol:/data", "busybox", "stat", "-c", "%u %n", "/data/f"])).toBe("0 /data/f\n");
    await t.ok(["volume", "rm", "uxvol"]);
  }, 60000);

  test("cp, diff and commit see container ids", async () => {
    await t.ok(["run", "-d", "--name", "cc", "--network", "none", "--userns=auto", "busybox", "sh", "-c", "echo made > /made; chown 1000:1000 /made; sleep 300"]);
    await Bun.sleep(300);
    const src = join(host, "cpin");
    writeFileSync(src, "in\n");
    await t.ok(["cp", src, "cc:/cpin"]);
    expect(await t.ok(["exec", "cc", "stat", "-c", "%u %s", "/cpin", "/made"])).toBe("0 3\n1000 5\n");
    await t.ok(["cp", "cc:/made", join(host, "made")]);
    expect(readFileSync(join(host, "made"), "utf8")).toBe("made\n");
    expect(await t.ok(["diff", "cc"])).toContain("A /made");
    await t.ok(["commit", "cc", "ux-committed"]);
    // Without a user namespace the committed layer's owners are the container's ids.
    expect(await run(["ux-committed", "stat", "-c", "%u %n", "/made", "/cpin"])).toBe("1000 /made\n0 /cpin\n");
    await t.ok(["rm", "-f", "cc"]);
    await t.ok(["rmi", "ux-committed"]);
  }, 60000);

  test("the default bridge network, a published port and /proc, /sys, /dev inside", async () => {
    await t.ok(["run", "-d", "--name", "web", "--userns=auto", "-p", `127.0.0.1:${PORT}:8080`, "busybox", "sh", "-c", "echo web > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]);
    let body = "";
    for (let i = 0; i < 50 && body === ""; i++) {
      body = await fetch(`http://127.0.0.1:${PORT}/index.html`).then((r) => r.text(), () => "");
      if (body === "") await Bun.sleep(100);
    }
    expect(body).toBe("web\n");
    const mounts = await t.ok(["exec", "web", "cat", "/proc/mounts"]);
    for (const fs of ["proc /proc", "/sys", "devpts /dev/pts", "mqueue /dev/mqueue", "/sys/fs/cgroup"]) expect(mounts).toContain(fs);
    expect(await t.ok(["exec", "web", "sh", "-c", "ls /dev/null /dev/pts/ptmx >/dev/null && echo ok"])).toBe("ok\n");
    // The sysfs of the container's own network namespace (the monitor mounts it there).
    expect(await t.ok(["exec", "web", "ls", "/sys/class/net"])).toBe("eth0\nlo\n");
    await t.ok(["rm", "-f", "web"]);
  }, 60000);
});

test("system repair records an auto container's range again", async () => {
  const id = (await t.ok(["create", "--userns=auto", "--network", "none", "busybox", "true"])).trim();
  expect(await autoRanges()).toBe(1);
  for (const f of readdirSync(t.dir).filter((f) => f.startsWith("tsd.db"))) rmSync(join(t.dir, f));
  await t.ok(["system", "repair"]);
  expect(await autoRanges()).toBe(1);
  expect(await t.ok(["start", "-a", id])).toBe("");
  await t.ok(["rm", id]);
  expect(await autoRanges()).toBe(0);
}, 60000);

test("--uidmap/--gidmap map exactly what they say", async () => {
  const out = await run(["--uidmap", "0:300000:2000", "--gidmap", "0:400000:2000", "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"]);
  expect(out.trim().split(/\s+/).map(Number)).toEqual([0, 300000, 2000, 0, 400000, 2000, 0]);
});

test("--userns=host is the default: no user namespace", async () => {
  expect((await run(["busybox", "cat", "/proc/self/uid_map"])).trim().split(/\s+/).map(Number)).toEqual([0, 0, 4294967295]);
  expect((await t.tsd(["run", "--rm", "--userns", "bogus", "busybox", "true"])).stderr).toContain('invalid --userns "bogus"');
  const pidHost = await t.tsd(["run", "--rm", "--userns=auto", "--pid", "host", "busybox", "true"]);
  expect(pidHost.code).toBe(125);
  expect(pidHost.stderr).toBe("tsd: cannot share the host's PID namespace when user namespaces are enabled: drop --pid host or --userns/--uidmap\n");
});
