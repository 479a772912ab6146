// --format and --filter end to end, as scripts use them with docker: Go templates, Docker's
// table layout and headers, {{json .}}, the filter keys of ps, images, network ls and volume
// ls/prune, and Docker's error texts and exit statuses for a bad template or filter.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRoot } from "../lib/tsd";
import { testImages } from "../lib/fixtures";

let t: TestRoot;
const net = `fmt${process.pid % 100000}`;

beforeAll(async () => {
  const images = await testImages();
  t = new TestRoot("format");
  // Its own bridge and subnet (from the pid): another checkout may run this file at once.
  writeFileSync(join(t.dir, "network.json"), JSON.stringify({ bridge: `fm${process.pid}b0`, subnet: `10.234.${process.pid % 250}.0/24` }));
  await t.ok(["load", "-i", images.busyboxDocker]);
  await t.ok(["create", "--name", "a", "--network", "none", "busybox", "true"]);
  await Bun.sleep(1100); // creation times one second apart, for before/since
  expect((await t.tsd(["run", "--name", "b", "--network", "none", "busybox", "sh", "-c", "exit 3"])).code).toBe(3);
  await Bun.sleep(1100);
  await t.ok(["run", "-d", "--name", "c", "--network", "none", "-v", "vol1:/data", "busybox", "sleep", "120"]);
}, 120000);

afterAll(async () => {
  await t.tsd(["rm", "-f", "a", "b", "c"]);
  const leaks = t.leaks();
  await t.destroy();
  expect(leaks).toEqual([]);
});

const lines = (s: string) => s.trimEnd().split("\n");

describe("ps --format", () => {
  test("the default table has Docker's columns, aligned as Docker's tabwriter", async () => {
    const out = lines(await t.ok(["ps"]));
    expect(out[0]).toMatch(/^CONTAINER ID {3}IMAGE {5}COMMAND {3,}CREATED {3,}STATUS {3,}PORTS {5}NAMES$/);
    expect(out.length).toBe(2);
    expect(out[1]).toMatch(/^[0-9a-f]{12} {3}busybox {3}"sleep 120" {3,}\S.* ago {3,}Up .* {3,}c$/);
  });

  test("a raw template with \\t, a table with headers, {{json .}}, .Label", async () => {
    expect(lines(await t.ok(["ps", "-a", "--format", "{{.Names}}\\t{{.State}}"]))).toEqual(["c\trunning", "b\texited", "a\tcreated"]);
    const table = lines(await t.ok(["ps", "-a", "--format", "table {{.Names}}\\t{{.Status}}"]));
    expect(table[0]).toBe("NAMES     STATUS");
    expect(table[2]).toMatch(/^b {9}Exited \(3\) .* ago$/);
    const json = JSON.parse(await t.ok(["ps", "--format", "{{json .}}"]));
    expect(Object.keys(json)).toEqual([
      "Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size", "State", "Status",
    ]);
    expect(json).toMatchObject({ Names: "c", State: "running", Mounts: "vol1", LocalVolumes: "1", Command: '"sleep 120"', Networks: "none" });
    expect(json.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
    expect(await t.ok(["ps", "--format", '{{.Label "x"}}|{{range $i, $e := split .Command " "}}{{$i}}{{end}}|{{upper .Names}}'])).toBe("|01|C\n");
    expect((await t.ok(["ps", "--format", "json"])).trim()).toStartWith("{");
  });

  test("-n, -l, -s", async () => {
    expect(lines(await t.ok(["ps", "-n", "2", "--format", "{{.Names}}"]))).toEqual(["c", "b"]);
    expect(lines(await t.ok(["ps", "-l", "--format", "{{.Names}}"]))).toEqual(["c"]);
    const sized = lines(await t.ok(["ps", "-s"]));
    expect(sized[0]).toMatch(/NAMES {5}SIZE$/);
    expect(sized[1]).toMatch(/ c {9}\d+(\.\d+)?k?B \(virtual \d+(\.\d+)?MB\)$/);
  });

  test("filters: status, exited, name, id, before, since, volume, ancestor, health, label", async () => {
    const names = async (...f: string[]) => (await t.ok(["ps", "-a", "--format", "{{.Names}}", ...f.flatMap((x) => ["--filter", x])])).trim().split("\n").filter(Boolean);
    expect(await names("status=created")).toEqual(["a"]);
    expect(await names("status=created", "status=exited")).toEqual(["b", "a"]);
    expect(await names("exited=3")).toEqual(["b"]);
    expect(await names("exited=0")).toEqual([]);
    expect(await names("name=^/c$")).toEqual(["c"]);
    const idOfA = (await t.ok(["inspect", "-f", "{{.Id}}", "a"])).trim();
    expect(await names(`id=${idOfA.slice(0, 8)}`)).toEqual(["a"]);
    expect(await names("since=a")).toEqual(["c", "b"]);
    expect(await names("before=c")).toEqual(["b", "a"]);
    expect(await names("volume=vol1")).toEqual(["c"]);
    expect(await names("volume=/data")).toEqual(["c"]);
    expect(await names("ancestor=busybox", "status=running")).toEqual(["c"]);
    expect(await names("health=none")).toEqual(["c", "b", "a"]);
    expect(await names("label=nope")).toEqual([]);
    // Without -a, status= shows stopped containers and exited= does not, as with docker 20.10.
    expect((await t.ok(["ps", "-q", "-f", "status=exited"])).trim()).toMatch(/^[0-9a-f]{12}$/);
    expect(await t.ok(["ps", "-q", "-f", "exited=3"])).toBe("");
  });

  test("errors: Docker's texts and statuses", async () => {
    const bad = await t.tsd(["ps", "--format", "{{.Nope}}"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`template parsing error: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`);
    expect(bad.stdout).toBe("");
    const parse = await t.tsd(["ps", "--format", "{{.ID"]);
    expect([parse.code, parse.stderr.includes("template parsing error: template: :1: unclosed action")]).toEqual([1, true]);
    const filter = await t.tsd(["ps", "-f", "color=red"]);
    expect([filter.code, filter.stderr.includes("Invalid filter 'color'")]).toEqual([1, true]);
    const status = await t.tsd(["ps", "-f", "status=sleeping"]);
    expect([status.code, status.stderr.includes("Invalid filter 'status=sleeping'")]).toEqual([1, true]);
    const format = await t.tsd(["ps", "-f", "status"]);
    expect([format.code, format.stderr.includes("bad format of filter (expected name=value)")]).toEqual([125, true]);
  });
});

describe("inspect -f", () => {
  test("Go templates: fields, range, index, printf, json, conditionals", async () => {
    expect(await t.ok(["inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}", "b"])).toBe("3 exited\n");
    expect(await t.ok(["inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}", "c"])).toBe("vol1:/data\n");
    expect(await t.ok(["inspect", "-f", '{{if .State.Running}}up{{else}}down{{end}} {{printf "%.3s" .Name}} {{len .Config.Cmd}}', "c", "b"])).toBe("up /c 2\ndown /b 3\n");
    expect(await t.ok(["inspect", "-f", "{{json .Config.Cmd}} {{index .Config.Cmd 0}}", "c"])).toBe('["sleep","120"] sleep\n');
    // Go maps of Docker's structs (Labels, Tmpfs …): a missing key prints <no value>.
    expect(await t.ok(["inspect", "-f", "{{.Config.Labels.nope}} {{.HostConfig.Tmpfs.nope}} {{.Config.Labels}}", "c"])).toBe("<no value> <no value> map[]\n");
  });

  test("a missing field fails (status 1) after the other objects print; a parse error exits 64", async () => {
    const r = await t.tsd(["inspect", "-f", "{{.State.Pid}}{{.Nope}}", "c"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`template parsing error: template: :1:16: executing "" at <.Nope>: map has no entry for key "Nope"`);
    const two = await t.tsd(["inspect", "-f", "{{if eq .Name \"/b\"}}{{.Nope}}{{else}}{{.Name}}{{end}}", "c", "b"]);
    expect([two.code, two.stdout]).toEqual([1, "/c\n"]);
    const parse = await t.tsd(["inspect", "-f", "{{.Name", "c"]);
    expect([parse.code, parse.stdout, parse.stderr.includes("template parsing error: template: :1: unclosed action")]).toEqual([64, "", true]);
    const fn = await t.tsd(["inspect", "-f", "{{nope .Name}}", "c"]);
    expect([fn.code, fn.stderr.includes(`function "nope" not defined`)]).toEqual([64, true]);
  });

  test("image inspect and history", async () => {
    expect(await t.ok(["image", "inspect", "-f", "{{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}", "busybox"])).toMatch(/^linux\/amd64 \d+\n$/);
    expect(await t.ok(["history", "--format", "{{.ID}}", "busybox"])).toMatch(/^[0-9a-f]{12}\n/);
    expect(lines(await t.ok(["history", "busybox"]))[0]).toMatch(/^IMAGE {10}CREATED {3,}CREATED BY {3,}SIZE {3,}COMMENT$/);
    expect(JSON.parse(lines(await t.ok(["history", "--format", "json", "busybox"]))[0]!)).toHaveProperty("CreatedBy");
  });
});

describe("images", () => {
  test("--format templates and tables, --filter with Docker's keys", async () => {
    expect(await t.ok(["images", "--format", "{{.Repository}}:{{.Tag}}"])).toBe("busybox:latest\n");
    expect(lines(await t.ok(["images", "--format", "table {{.Repository}}\\t{{.Size}}"]))).toEqual([
      "REPOSITORY   SIZE",
      expect.stringMatching(/^busybox {6}\d+(\.\d+)?MB$/) as unknown as string,
    ]);
    expect(await t.ok(["images", "-f", "dangling=false", "--format", "{{.Repository}}"])).toBe("busybox\n");
    expect(await t.ok(["images", "-f", "dangling=true", "--format", "{{.Repository}}"])).toBe("");
    expect(await t.ok(["images", "-f", "reference=busy*", "--format", "{{.Repository}}"])).toBe("busybox\n");
    expect(await t.ok(["images", "-f", "label=nope", "--format", "{{.Repository}}"])).toBe("");
    expect(await t.ok(["images", "-f", "before=busybox", "--format", "{{.Repository}}"])).toBe("");
    const bad = await t.tsd(["images", "-f", "color=red"]);
    expect([bad.code, bad.stderr.includes("Invalid filter 'color'")]).toEqual([1, true]);
  });
});

describe("networks and volumes", () => {
  test("network ls --filter and --format, network inspect -f", async () => {
    await t.ok(["network", "create", "--subnet", `10.235.${process.pid % 250}.0/24`, "-o", `com.docker.network.bridge.name=${net}`, net]);
    try {
      expect(lines(await t.ok(["network", "ls"]))[0]).toMatch(/^NETWORK ID {5}NAME {6,}DRIVER {4}SCOPE$/);
      expect(await t.ok(["network", "ls", "-f", `name=${net}`, "--format", "{{.Name}} {{.Driver}} {{.Scope}}"])).toBe(`${net} bridge local\n`);
      expect(await t.ok(["network", "ls", "-f", "type=custom", "--format", "{{.Name}}"])).toBe(`${net}\n`);
      expect(await t.ok(["network", "ls", "-f", "type=builtin", "--format", "{{.Name}}"])).toBe("bridge\n");
      expect(await t.ok(["network", "ls", "-f", "driver=macvlan", "-q"])).toBe("");
      const bad = await t.tsd(["network", "ls", "-f", "type=x"]);
      expect([bad.code, bad.stderr.includes("invalid filter: 'type'='x'")]).toEqual([1, true]);
      expect(await t.ok(["network", "inspect", "-f", "{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}", net])).toBe(
        `${net} bridge 10.235.${process.pid % 250}.0/24\n`,
      );
    } finally {
      await t.tsd(["network", "rm", net]);
    }
  });

  test("volume ls --filter and --format, volume inspect -f, volume prune --filter label", async () => {
    await t.ok(["volume", "create", "--label", "keep=no", "fv1"]);
    await t.ok(["volume", "create", "fv2"]);
    expect(lines(await t.ok(["volume", "ls"]))[0]).toBe("DRIVER    VOLUME NAME");
    expect(await t.ok(["volume", "ls", "-f", "label=keep", "--format", "{{.Name}} {{.Labels}} {{.Label \"keep\"}}"])).toBe("fv1 keep=no no\n");
    expect(lines(await t.ok(["volume", "ls", "-f", "dangling=true", "--format", "{{.Name}}"]))).toEqual(["fv1", "fv2"]);
    expect(await t.ok(["volume", "ls", "-f", "dangling=false", "--format", "{{.Name}}"])).toBe("vol1\n");
    expect(await t.ok(["volume", "ls", "-f", "name=^fv", "-q"])).toBe("fv1\nfv2\n");
    expect(await t.ok(["volume", "inspect", "-f", "{{.Name}} {{.Labels.keep}} {{.Labels.nope}}", "fv1"])).toBe("fv1 no <no value>\n");
    const bad = await t.tsd(["volume", "ls", "-f", "color=red"]);
    expect([bad.code, bad.stderr.includes("Invalid filter 'color'")]).toEqual([1, true]);
    expect(await t.ok(["volume", "prune", "-a", "-f", "--filter", "label=keep=no"])).toContain("Deleted Volumes:\nfv1\n");
    expect(await t.ok(["volume", "ls", "--format", "{{.Name}}"])).toBe("fv2\nvol1\n");
    await t.ok(["volume", "rm", "fv2"]);
  });
});

test("stats --no-stream --format, version --format", async () => {
  expect(await t.ok(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "c"])).toMatch(/^c \d+\n$/);
  expect(lines(await t.ok(["stats", "--no-stream", "c"]))[0]).toMatch(/^CONTAINER ID {3}NAME {6}CPU % {5}MEM USAGE \/ LIMIT {3}MEM % {5}NET I\/O {3}BLOCK I\/O {3}PIDS$/);
  expect(await t.ok(["version", "--format", "{{.Client.Version}}"])).toMatch(/^\d+\.\d+\.\d+\n$/);
});
