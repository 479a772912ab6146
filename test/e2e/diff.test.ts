// tsd diff: a container's added, changed and deleted files as Docker lists them, the runtime's
// own mount points left out, and a symlink the container plants never followed on the host.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(30000);
let t: TestRoot;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("diff");
  await t.ok(["load", "-i", images.busyboxDocker]);
}, 120000);

afterAll(async () => {
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

test("lists A, C and D in walk order, without the runtime's mount points", async () => {
  await t.ok(["run", "--name", "d1", "--network", "none", "busybox", "sh", "-c", "touch /tmp/x; rm /bin/ls; mkdir -p /a/b; echo hi > /etc/passwd"]);
  expect(await t.ok(["diff", "d1"])).toBe(["A /a", "A /a/b", "C /bin", "D /bin/ls", "C /etc", "C /etc/passwd", "C /tmp", "A /tmp/x", ""].join("\n"));
  // The management spelling answers the same.
  expect(await t.ok(["container", "diff", "d1"])).toBe(await t.ok(["diff", "d1"]));
  await t.ok(["rm", "d1"]);
});

test("an unchanged container lists nothing; a running one is read live", async () => {
  await t.ok(["run", "-d", "--name", "d2", "--network", "none", "busybox", "sleep", "300"]);
  expect(await t.ok(["diff", "d2"])).toBe("");
  await t.ok(["exec", "d2", "sh", "-c", "mkdir /srv; touch /srv/new"]);
  expect(await t.ok(["diff", "d2"])).toBe("A /srv\nA /srv/new\n");
  await t.ok(["rm", "-f", "d2"]);
});

test("a planted symlink is listed, never followed: names beyond it stay unread", async () => {
  // A host directory whose names must not show up through the container's symlink.
  const secret = join(t.dir, "host-secret");
  mkdirSync(secret);
  writeFileSync(join(secret, "do-not-list"), "");
  await t.ok(["run", "--name", "d3", "--network", "none", "busybox", "sh", "-c", `ln -s ${secret} /escape; ln -s ${secret} /tmp/esc`]);
  const out = await t.ok(["diff", "d3"]);
  expect(out).toBe("A /escape\nC /tmp\nA /tmp/esc\n");
  expect(out).not.toContain("do-not-list");
  await t.ok(["rm", "d3"]);
});

test("bad input: a missing container or argument", async () => {
  const none = await t.tsd(["diff", "nosuch"]);
  expect(none.code).not.toBe(0);
  expect(none.stderr).toContain("no such container: nosuch");
  const noArg = await t.tsd(["diff"]);
  expect(noArg.code).toBe(125);
  expect(noArg.stderr).toContain("requires exactly 1 argument");
});
