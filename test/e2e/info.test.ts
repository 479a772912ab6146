// tsd info: counts from the root, host facts as the kernel reports them, Docker's field names.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(30000);
let t: TestRoot;

beforeAll(async () => {
  t = new TestRoot("info");
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

test("counts containers by state and images; host facts match the kernel's", async () => {
  const empty = await t.ok(["info"]);
  expect(empty).toContain("\n Containers: 0\n");
  expect(empty).toContain("\n Images: 0\n");
  await t.ok(["load", "-i", (await testImages()).busyboxDocker]);
  await t.ok(["create", "--name", "i1", "--network", "none", "busybox", "true"]);
  await t.ok(["run", "-d", "--name", "i2", "--network", "none", "busybox", "sleep", "300"]);
  const text = await t.ok(["info"]);
  expect(text).toContain("\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n");
  expect(text).toContain(`\n Kernel Version: ${release()}\n`);
  expect(text).toContain(`\n Docker Root Dir: ${t.dir}\n`);
  const v2 = readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup2 ") && !readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup cgroup ");
  const version = (await t.ok(["info", "--format", "{{.CgroupVersion}}"])).trim();
  expect(["1", "2"]).toContain(version);
  if (v2) expect(version).toBe("2");
  const json = JSON.parse(await t.ok(["info", "--format", "{{json .}}"]));
  expect(json.ContainersRunning).toBe(1);
  expect(json.Driver).toBe("overlay2");
  expect(json.Rootless).toBe(false);
  expect(await t.ok(["system", "info", "-f", "{{.Images}}"])).toBe("1\n");
  await t.ok(["rm", "-f", "i1", "i2"]);
});

test("bad input: arguments are refused", async () => {
  const r = await t.tsd(["info", "extra"]);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("accepts no arguments");
});
