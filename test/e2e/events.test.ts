// tsd events, system df, system prune and tsd help with real containers: events written by
// the commands (and by the monitor's cleanup for die) read back with --since/--until, filters
// and templates; a follow sees new events and ends on SIGTERM; df counts what is there; prune
// removes Docker 20.10's set in its order.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { TSD, TestRoot, busyboxRoot, closeRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

setDefaultTimeout(60000);

let t: TestRoot;
const nowSec = () => (Date.now() / 1000).toFixed(6);

beforeAll(async () => {
  t = await busyboxRoot("events", `ev${process.pid}b1`, `10.238.${process.pid % 250}.0/24`);
}, 120000);

afterAll(async () => {
  expect(await closeRoot(t)).toEqual([]);
});

describe("events", () => {
  test("a container's life between --since and --until, in Docker's words", async () => {
    const since = nowSec();
    const id = (await t.ok(["run", "-d", "--network", "none", "--name", "e1", "-l", "team=a", "busybox", "sh", "-c", "sleep 100"])).trim();
    await t.ok(["pause", "e1"]);
    await t.ok(["unpause", "e1"]);
    await t.ok(["exec", "e1", "true"]);
    await t.ok(["kill", "e1"]);
    await t.ok(["rm", "e1"]);
    const until = nowSec();
    const actions = await t.ok(["events", "--since", since, "--until", until, "--filter", "container=e1", "--format", "{{.Action}}"]);
    expect(actions.split("\n").filter(Boolean)).toEqual([
      "create", "start", "pause", "unpause", "exec_create: true", "exec_start: true", "exec_die", "kill", "die", "destroy",
    ]);
    const lines = (await t.ok(["events", "--since", since, "--until", until, "--filter", "event=die"])).split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container die ${id} \\(exitCode=137, image=busybox, name=e1, team=a\\)$`));
    const json = JSON.parse((await t.ok(["events", "--since", since, "--until", until, "--filter", "event=kill", "--format", "{{json .}}"])).trim());
    expect(json).toMatchObject({ status: "kill", id, from: "busybox", Type: "container", Action: "kill", Actor: { ID: id, Attributes: { signal: "9", name: "e1" } }, scope: "local" });
    expect(typeof json.timeNano).toBe("number");
    // Filters AND across keys: a label and a type.
    expect(await t.ok(["events", "--since", since, "--until", until, "--filter", "label=team=a", "--filter", "event=start", "--format", "{{.Type}} {{.Actor.Attributes.team}}"])).toBe("container a\n");
    expect(await t.ok(["events", "--since", since, "--until", since, "--filter", "container=e1"])).toBe("");
  });

  test("image, volume and network events", async () => {
    const since = nowSec();
    await t.ok(["tag", "busybox", "evtag:1"]);
    await t.ok(["rmi", "evtag:1"]);
    await t.ok(["volume", "create", "evvol"]);
    await t.ok(["volume", "rm", "evvol"]);
    await t.ok(["network", "create", "--subnet", `10.239.${process.pid % 250}.0/24`, "-o", `com.docker.network.bridge.name=ev${process.pid}n`, "evnet"]);
    await t.ok(["network", "rm", "evnet"]);
    const until = nowSec();
    const out = await t.ok(["events", "--since", since, "--until", until, "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"]);
    expect(out.split("\n").filter(Boolean).map((l) => l.replace(/sha256:[0-9a-f]{64}/, "ID"))).toEqual([
      "image tag evtag:1", "image untag ID", "volume create <no value>", "volume destroy <no value>", "network create evnet", "network destroy evnet",
    ]);
    expect(await t.ok(["events", "--since", since, "--until", until, "--filter", "type=volume", "--format", "{{.Actor.ID}}"])).toBe("evvol\nevvol\n");
  });

  test("without --until it follows new events until SIGTERM", async () => {
    const proc = Bun.spawn([TSD, "--root", t.dir, "events", "--filter", "container=f1", "--format", "{{.Action}}"], { stdout: "pipe", stderr: "pipe" });
    try {
      await Bun.sleep(500);
      await t.ok(["create", "--network", "none", "--name", "f1", "busybox", "true"]);
      await t.ok(["rm", "f1"]);
      const deadline = Date.now() + 10000;
      const reader = proc.stdout.getReader();
      let text = "";
      while (!text.includes("destroy") && Date.now() < deadline) {
        const { value, done } = await Promise.race([reader.read(), Bun.sleep(10000).then(() => ({ value: undefined, done: true }))]);
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toBe("create\ndestroy\n");
      reader.releaseLock();
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
  });

  test("bad input", async () => {
    const r = await t.tsd(["events", "--filter", "colour=red", "--until", nowSec()]);
    expect([r.code, r.stderr]).toEqual([1, "tsd: Invalid filter 'colour'\n"]);
  });
});

describe("system df and prune", () => {
  test("df counts images, containers and volumes; prune removes the stopped, the unused and the dangling", async () => {
    await t.ok(["run", "-d", "--network", "none", "--name", "d1", "busybox", "sleep", "100"]);
    await t.ok(["run", "--network", "none", "--name", "d2", "-v", "dfvol:/v", "busybox", "sh", "-c", "echo 12345 > /v/x; echo 1234 > /y"]);
    const df = await t.ok(["system", "df", "--format", "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Reclaimable}}"]);
    expect(df.split("\n").filter(Boolean)).toEqual(["Images|1|1|0B (0%)", "Containers|2|1|5B (100%)", "Local Volumes|1|1|0B (0%)", "Build Cache|0|0|0B"]);
    expect((await t.ok(["system", "df"])).split("\n")[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    const v = await t.ok(["system", "df", "-v"]);
    expect(v).toMatch(/^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest /);
    expect(v).toMatch(/\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\ndfvol +1 +6B\n/);
    // Without -f it asks: anything but y keeps everything.
    const no = await t.tsd(["system", "prune"], { stdin: "n\n" });
    expect(no.stdout).toBe("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - all dangling build cache\n\nAre you sure you want to continue? [y/N] ");
    expect(await t.ok(["ps", "-aq"])).toHaveLength(26);
    const d2 = (await t.ok(["inspect", "-f", "{{.Id}}", "d2"])).trim();
    const yes = await t.tsd(["system", "prune", "--volumes", "--filter", "label!=keep"], { stdin: "y\n" });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain(`Deleted Containers:\n${d2}\n\nDeleted Volumes:\ndfvol\n\nTotal reclaimed space: 11B\n`);
    // -a takes unused images: busybox is used by d1.
    expect(await t.ok(["system", "prune", "-af"])).toBe("Total reclaimed space: 0B\n");
    await t.ok(["rm", "-f", "d1"]);
    // The image, then its layer (Docker's chain id): Docker's lines.
    expect(await t.ok(["system", "prune", "-af"])).toMatch(/^Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: \d/);
    await t.ok(["load", "-i", (await testImages()).busyboxDocker]);
  });
});

describe("help", () => {
  test("tsd help CMD is tsd CMD --help; every group's --help exits 0", async () => {
    expect(await t.ok(["help", "pause"])).toBe(await t.ok(["pause", "--help"]));
    expect(await t.ok(["help", "container", "ls"])).toMatch(/^Usage:  tsd container ls \[OPTIONS\]\n/);
    for (const g of ["container", "image", "network", "volume", "system"]) expect(await t.ok([g, "--help"])).toMatch(new RegExp(`^Usage:  tsd ${g} COMMAND\\n`));
    expect(await t.ok(["system", "--help"])).toMatch(/\n  df +Show docker disk usage\n  events /);
  });
});
