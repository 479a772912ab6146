// tsd pause / unpause with real containers: the cgroup freezer (v1 freezer.state here, v2's
// cgroup.freeze in the VM lane), "paused" as a state of its own in ps, inspect, info and the
// refusals of exec, attach, start, rm, pause and unpause, in Docker 20.10's words; stop, kill
// and rm -f of a paused container work (signal, then thaw).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot, busyboxRoot, closeRoot } from "../lib/tsd";

setDefaultTimeout(60000);

let t: TestRoot;

const run = (name: string) => t.ok(["run", "-d", "--network", "none", "--name", name, "busybox", "sh", "-c", "trap 'exit 7' TERM; while :; do sleep 0.1; done"]);
const field = async (name: string, f: string) => (await t.ok(["inspect", "-f", f, name])).trim();

/** The init's state letter in /proc (T or D or S …) and whether the kernel says it is frozen. */
function frozen(pid: number): boolean {
  const cg = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  const v1 = /^\d+:freezer:(.*)$/m.exec(cg);
  if (v1) return readFileSync(join("/sys/fs/cgroup/freezer", v1[1]!, "freezer.state"), "utf8").trim() === "FROZEN";
  const v2 = /^0::(.*)$/m.exec(cg)!;
  return readFileSync(join("/sys/fs/cgroup", v2[1]!, "cgroup.events"), "utf8").includes("frozen 1");
}

beforeAll(async () => {
  t = await busyboxRoot("pause", `pz${process.pid}b1`, `10.237.${process.pid % 250}.0/24`);
}, 120000);

afterAll(async () => {
  expect(await closeRoot(t)).toEqual([]);
});

describe("pause and unpause", () => {
  test("paused: frozen, shown in ps, inspect and info; unpause thaws", async () => {
    await run("p1");
    const id = (await field("p1", "{{.Id}}"));
    const pid = Number(await field("p1", "{{.State.Pid}}"));
    expect(await t.ok(["pause", "p1"])).toBe("p1\n");
    expect(frozen(pid)).toBe(true);
    expect(await field("p1", "{{.State.Status}} {{.State.Running}} {{.State.Paused}} {{.State.Pid}}")).toBe(`paused true true ${pid}`);
    expect(await t.ok(["ps", "--format", "{{.Status}}", "--filter", "name=p1"])).toMatch(/^Up .* \(Paused\)\n$/);
    expect(await t.ok(["ps", "-q", "--no-trunc", "--filter", "status=paused"])).toBe(`${id}\n`);
    expect(await t.ok(["info", "-f", "{{.ContainersPaused}} {{.ContainersRunning}}"])).toBe("1 0\n");
    // Docker's refusals, exit 1.
    const again = await t.tsd(["pause", "p1"]);
    expect([again.code, again.stderr]).toEqual([1, `tsd: Container ${id} is already paused\n`]);
    const ex = await t.tsd(["exec", "p1", "true"]);
    expect([ex.code, ex.stderr]).toEqual([1, "tsd: Container p1 is paused, unpause the container before exec\n"]);
    const at = await t.tsd(["attach", "p1"]);
    expect([at.code, at.stderr]).toEqual([1, "tsd: You cannot attach to a paused container, unpause it first\n"]);
    const st = await t.tsd(["start", "p1"]);
    expect([st.code, st.stderr]).toEqual([1, "tsd: cannot start a paused container, try unpause instead\n"]);
    const rm = await t.tsd(["rm", "p1"]);
    expect([rm.code, rm.stderr]).toEqual([1, `tsd: You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove\n`]);
    expect(await t.ok(["container", "unpause", "p1"])).toBe("p1\n");
    expect(frozen(pid)).toBe(false);
    expect(await field("p1", "{{.State.Status}} {{.State.Paused}}")).toBe("running false");
    const un = await t.tsd(["unpause", "p1"]);
    expect([un.code, un.stderr]).toEqual([1, `tsd: Container ${id} is not paused\n`]);
    expect(await t.ok(["exec", "p1", "echo", "hi"])).toBe("hi\n");
  });

  test("stop of a paused container delivers its stop signal (thawed after it)", async () => {
    await run("p2");
    await t.ok(["pause", "p2"]);
    await t.ok(["stop", "-t", "20", "p2"]);
    expect(await field("p2", "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}")).toBe("exited false 7");
    const pz = await t.tsd(["pause", "p2"]);
    expect(pz.code).toBe(1);
    expect(pz.stderr).toMatch(/^tsd: Container [0-9a-f]{64} is not running\n$/);
    // Started again it is not paused.
    await t.ok(["start", "p2"]);
    expect(await field("p2", "{{.State.Status}}")).toBe("running");
  });

  test("kill and rm -f of a paused container", async () => {
    await run("p3");
    await t.ok(["pause", "p3"]);
    await t.ok(["kill", "p3"]);
    expect(await field("p3", "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
    await run("p4");
    await t.ok(["pause", "p4"]);
    await t.ok(["rm", "-f", "p4"]);
    expect((await t.tsd(["inspect", "p4"])).code).toBe(1);
  });

  test("a paused container whose monitor died: the next command thaws and kills it, and records the exit", async () => {
    await run("p6");
    const pid = Number(await field("p6", "{{.State.Pid}}"));
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const monitor = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    await t.ok(["pause", "p6"]);
    process.kill(monitor, "SIGKILL");
    for (let i = 0; i < 100 && existsSync(`/proc/${monitor}`); i++) await Bun.sleep(20);
    expect(await field("p6", "{{.State.Status}} {{.State.Paused}} {{.State.ExitCode}}")).toBe("exited false -1");
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await Bun.sleep(20);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await t.ok(["rm", "p6"]);
  });

  test("commit of a paused container leaves it paused", async () => {
    await run("p5");
    await t.ok(["exec", "p5", "sh", "-c", "echo x > /marker"]);
    await t.ok(["pause", "p5"]);
    await t.ok(["commit", "p5", "paused:1"]);
    expect(await field("p5", "{{.State.Status}}")).toBe("paused");
    expect(await t.ok(["run", "--rm", "--network", "none", "paused:1", "cat", "/marker"])).toBe("x\n");
    await t.ok(["unpause", "p5"]);
  });
});
