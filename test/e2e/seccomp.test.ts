// Seccomp end to end: Docker's default profile on every container, --security-opt seccomp=
// unconfined|PROFILE, --privileged, no-new-privileges. The blocked call of choice is
// unshare(CLONE_NEWUSER) (`unshare -U`): creating a user namespace needs no capability, so
// without the filter it succeeds even with Docker's default capabilities, and only seccomp
// can refuse it (Docker's profile allows unshare with CAP_SYS_ADMIN only). mount, swapon,
// reboot or setns would be refused by the missing capabilities anyway and prove nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

let t: TestRoot;
let dir: string;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("seccomp");
  dir = mkdtempSync("/tmp/tsd-e2e-seccomp-");
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  const left = t.containerDirs();
  await t.destroy();
  rmSync(dir, { recursive: true, force: true });
  expect(leaks).toEqual([]);
  expect(left).toEqual([]);
});

const run = (args: string[]) => t.tsd(["run", "--rm", ...args]);

/** `Seccomp:` of /proc/self/status in a container: 0 none, 2 filter. */
async function seccompMode(flags: string[]): Promise<string> {
  const r = await run([...flags, "busybox", "grep", "^Seccomp:", "/proc/self/status"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout.split(/\s+/)[1]!;
}

/**
 * A line sent over TCP on the container's loopback with busybox nc, then printed. The listener's
 * stdin stays open (busybox nc stops at its stdin's EOF, maybe before reading the socket) and
 * the client retries until the listener accepts (it may start late on a loaded host).
 */
function tcpEcho(port: number, text: string): string {
  return [
    `sleep 30 | nc -l -p ${port} > /tmp/got-${port} &`,
    `for i in $(seq 100); do echo ${text} | nc 127.0.0.1 ${port} 2>/dev/null && break; sleep 0.05; done`,
    `for i in $(seq 100); do [ -s /tmp/got-${port} ] && break; sleep 0.05; done`,
    `cat /tmp/got-${port}`,
  ].join("\n");
}

function profile(name: string, body: object): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(body));
  return p;
}

describe("Docker's default profile", () => {
  test("every container runs under a filter", async () => {
    expect(await seccompMode([])).toBe("2");
  });

  test("a call only seccomp blocks fails with EPERM; the same call passes unconfined", async () => {
    const denied = await run(["busybox", "unshare", "-U", "true"]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/unshare\(0x10000000\): Operation not permitted/);
    const unconfined = await run(["--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "true"]);
    expect(unconfined.stderr).toBe("");
    expect(unconfined.code).toBe(0);
  });

  test("CAP_SYS_ADMIN opens the profile's capability group (unshare allowed, still filtered)", async () => {
    const r = await run(["--cap-add", "SYS_ADMIN", "busybox", "sh", "-c", "unshare -U true && grep ^Seccomp: /proc/self/status"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/m);
  });

  test("ordinary work passes: shell, files, processes, sleep, sockets on loopback", async () => {
    const script = [
      "set -e",
      "mkdir -p /tmp/d && echo data > /tmp/d/f && cat /tmp/d/f && ls /tmp/d",
      "sleep 0.1 & wait",
      tcpEcho(7007, "over-tcp"),
      "ping -c 1 -W 2 127.0.0.1 > /dev/null && echo ping-ok",
    ].join("\n");
    const r = await run(["busybox", "sh", "-c", script]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("data\nf\nover-tcp\nping-ok\n");
    expect(r.code).toBe(0);
  });

  test("a pty session works under the filter", async () => {
    const r = await t.tsd(["run", "--rm", "-t", "busybox", "sh", "-c", "tty && grep ^Seccomp: /proc/self/status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
  });
});

describe("exec", () => {
  test("an exec'd process inherits the container's filter (its profile, not a fresh one)", async () => {
    const p = profile("deny-mkdir-exec.json", {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 }],
    });
    const dflt = (await t.ok(["run", "-d", "busybox", "sleep", "30"])).trim();
    const custom = (await t.ok(["run", "-d", "--security-opt", `seccomp=${p}`, "busybox", "sleep", "30"])).trim();
    try {
      expect(JSON.parse(await t.ok(["inspect", "--format", "{{json .HostConfig.SecurityOpt}}", custom]))).toEqual([
        `seccomp=${JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 }] })}`,
      ]);
      const status = await t.tsd(["exec", dflt, "grep", "^Seccomp:", "/proc/self/status"]);
      expect(status.stdout).toMatch(/^Seccomp:\s+2$/m);
      const blocked = await t.tsd(["exec", dflt, "unshare", "-U", "true"]);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain("Operation not permitted");
      const mk = await t.tsd(["exec", custom, "mkdir", "/tmp/x"]);
      expect(mk.stderr).toContain("No space left on device");
    } finally {
      await t.tsd(["rm", "-f", dflt, custom]);
    }
  });
});

describe("--security-opt and --privileged", () => {
  test("unconfined and --privileged run without a filter", async () => {
    expect(await seccompMode(["--security-opt", "seccomp=unconfined"])).toBe("0");
    expect(await seccompMode(["--privileged"])).toBe("0");
  });

  test("a custom profile: its errno, its kill action, its default", async () => {
    const p = profile("deny-mkdir.json", {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28 },
        { names: ["uname"], action: "SCMP_ACT_KILL_PROCESS" },
      ],
    });
    const mk = await run(["--security-opt", `seccomp=${p}`, "busybox", "mkdir", "/tmp/x"]);
    expect(mk.code).toBe(1);
    expect(mk.stderr).toContain("No space left on device");
    // Everything else is allowed, unshare included (no capability needed for a user namespace).
    const other = await run(["--security-opt", `seccomp=${p}`, "busybox", "sh", "-c", "unshare -U true && touch /tmp/y && echo ok"]);
    expect(other.stdout).toBe("ok\n");
    const killed = await run(["--security-opt", `seccomp=${p}`, "busybox", "uname"]);
    expect(killed.code).toBe(128 + 31); // SIGSYS
  });

  test("argument conditions: only the listed socket families", async () => {
    // socket(AF_INET, …) allowed, any other family (AF_INET6 here) refused with EACCES.
    const p = profile("inet-only.json", {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 13, args: [{ index: 0, value: 2, op: "SCMP_CMP_NE" }] }],
    });
    const script = `${tcpEcho(7008, "x")}\nping -c 1 -W 2 ::1 >/dev/null`;
    const filtered = await run(["--security-opt", `seccomp=${p}`, "busybox", "sh", "-c", script]);
    expect(filtered.stdout).toBe("x\n");
    expect(filtered.stderr).toContain("can't create raw socket: Permission denied");
    expect(filtered.code).toBe(1);
    const unfiltered = await run(["--security-opt", "seccomp=unconfined", "busybox", "sh", "-c", script]);
    expect(unfiltered.stdout).toBe("x\n");
    expect(unfiltered.code).toBe(0);
  });

  test("no-new-privileges=false: the filter goes in before the capabilities drop, even for a non-root user", async () => {
    const r = await run(["-u", "1000:1000", "--security-opt", "no-new-privileges=false", "busybox", "grep", "-E", "^(NoNewPrivs|Seccomp|CapEff):", "/proc/self/status"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/NoNewPrivs:\s+0/);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
    expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
    const on = await run(["--security-opt", "no-new-privileges", "busybox", "grep", "^NoNewPrivs:", "/proc/self/status"]);
    expect(on.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  test("label= is accepted and changes nothing", async () => {
    expect(await seccompMode(["--security-opt", "label=disable"])).toBe("2");
  });

  test("bad options and profiles: exit 125, one line, nothing left behind", async () => {
    const bad = profile("bad-action.json", { defaultAction: "SCMP_ACT_NOPE" });
    const cases: [string[], RegExp][] = [
      [["--security-opt", "seccomp=/nonexistent.json"], /opening seccomp profile \(\/nonexistent\.json\) failed: ENOENT/],
      [["--security-opt", `seccomp=${profile("broken.json", {})}`], /no defaultAction/],
      [["--security-opt", "bogus"], /invalid --security-opt "bogus"/],
      [["--security-opt", "no-new-privileges=maybe"], /no-new-privileges takes true or false/],
      [["--security-opt", `seccomp=${bad}`], /unknown action "SCMP_ACT_NOPE"/],
    ];
    for (const [flags, message] of cases) {
      const r = await run([...flags, "busybox", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(t.containerDirs()).toEqual([]);
  });
});
