// What keeps per-command work flat as containers pile up (issue 16, bench/scale.sh): the
// snapshot of the kernel's facts a listing derives every row with, the id-prefix look-up as an
// index range, ps's networks and ports in two queries, and the indexes that serve them. Against
// a real database in a temp root and real processes; no root needed.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDb, openDb } from "../../src/store/db";
import { containersHoldingNetwork, findContainer } from "../../src/container/store";
import { hostFacts, snapshotFacts } from "../../src/container/state";
import { procStartTime } from "../../src/container/proc";
import { listingTexts } from "../../src/network/attach";
import { context as listContext, formatList } from "../../src/format/list";
import { defaultTable, PS_SPEC } from "../../src/cli/ps";

const root = mkdtempSync(join(tmpdir(), "tsd-unit-scale-"));
afterAll(() => {
  closeDb(root);
  rmSync(root, { recursive: true, force: true });
});

const db = openDb(root);
const hex = (c: string, n = 64) => c.repeat(n).slice(0, n);
function row(id: string, name: string): void {
  db.query(
    "INSERT INTO containers (id, name, image_id, image_ref, command, created_at, state, options) VALUES (?, ?, 'img', 'busybox', '[]', ?, 'exited', '{}')",
  ).run(id, name, Date.now());
}
row(`ab${hex("1", 62)}`, "one");
row(`ab${hex("2", 62)}`, "two");
row(`ac${hex("3", 62)}`, "three");
row(hex("f"), "last");

describe("findContainer", () => {
  test("full id, name (with or without /), unique prefix", () => {
    expect(findContainer(db, `ab${hex("1", 62)}`)?.name).toBe("one");
    expect(findContainer(db, "/two")?.name).toBe("two");
    expect(findContainer(db, "ac")?.name).toBe("three");
    expect(findContainer(db, "ab2")?.name).toBe("two");
    expect(findContainer(db, "fff")?.name).toBe("last"); // the top of the range: 'f' < 'g'
  });
  test("an ambiguous prefix asks for more digits; no match, or a name that is no prefix, is undefined", () => {
    expect(() => findContainer(db, "ab")).toThrow('multiple containers match the id prefix "ab"');
    expect(() => findContainer(db, "a")).toThrow("give more digits");
    expect(findContainer(db, "ad")).toBeUndefined();
    expect(findContainer(db, "0")).toBeUndefined();
    expect(findContainer(db, "nope")).toBeUndefined();
  });
  test("the prefix look-up is an index search, not a scan", () => {
    const plan = db.query("EXPLAIN QUERY PLAN SELECT * FROM containers WHERE id >= ?1 AND id < ?1 || 'g' LIMIT 2").all("ab") as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" ")).toMatch(/SEARCH containers USING INDEX/);
  });
});

describe("listing queries", () => {
  test("ports by container and endpoints by network use indexes", () => {
    const detail = (sql: string) => (db.query(`EXPLAIN QUERY PLAN ${sql}`).all("x") as { detail: string }[]).map((p) => p.detail).join(" ");
    expect(detail("SELECT * FROM ports WHERE container_id = ?")).toMatch(/USING INDEX ports_container/);
    expect(detail("SELECT * FROM endpoints WHERE network = ?")).toMatch(/USING INDEX endpoints_network/);
  });
  test("listingTexts: every container's networks and ports, as ps prints them", () => {
    db.query("INSERT INTO networks (name, id, bridge, subnet, gateway, created_at) VALUES ('n1', 'i1', 'b1', '10.9.0.0/24', '10.9.0.1', 0), ('n2', 'i2', 'b2', '10.9.1.0/24', '10.9.1.1', 0)").run();
    const ep = db.query("INSERT INTO endpoints (container_id, network, ip, mac, ifname, host_ifname) VALUES (?, ?, ?, 'm', ?, ?)");
    ep.run("c1", "n2", "10.9.1.2", "eth1", "v2");
    ep.run("c1", "n1", "10.9.0.2", "eth0", "v1");
    ep.run("c2", "n1", "10.9.0.3", "eth0", "v3");
    const port = db.query("INSERT INTO ports (container_id, host_ip, host_port, proto, container_ip, container_port) VALUES (?, ?, ?, ?, '10.9.0.2', ?)");
    port.run("c1", "0.0.0.0", 8080, "tcp", 80);
    port.run("c1", "127.0.0.1", 5353, "udp", 53);
    const { networks, ports } = listingTexts(db);
    expect(networks.get("c1")).toBe("n1,n2"); // by ifname
    expect(networks.get("c2")).toBe("n1");
    expect(ports.get("c1")).toBe("127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp"); // by container port
    expect(ports.has("c2")).toBe(false);
  });
  test("containersHoldingNetwork: the rows of holders of an address or a port, in one query", () => {
    row("c1", "holder"); // endpoints and ports above
    row("c9", "idle");
    db.query("INSERT INTO ports (container_id, host_ip, host_port, proto, container_ip, container_port) VALUES ('c9', '0.0.0.0', 9090, 'tcp', '10.9.0.9', 90)").run();
    const held = containersHoldingNetwork(db);
    expect([...held.keys()].sort()).toEqual(["c1", "c9"]); // c2's row is gone: it holds nothing
    expect(held.get("c1")?.name).toBe("holder");
  });
});

describe("snapshotFacts", () => {
  test("agrees with the host's facts: this process alive (with its start time or none), a wrong start time not", () => {
    const start = procStartTime(process.pid);
    const facts = snapshotFacts();
    expect(facts.alive(process.pid, start)).toBe(true);
    expect(facts.alive(process.pid, null)).toBe(true);
    expect(facts.alive(process.pid, "1")).toBe(hostFacts().alive(process.pid, "1"));
    expect(facts.alive(0, null)).toBe(false);
    expect(facts.alive(-1, null)).toBe(false);
  });
  test("reads a pid once: a process gone after the snapshot read it is still alive in that snapshot only", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    const facts = snapshotFacts();
    const start = procStartTime(child.pid);
    expect(facts.alive(child.pid, start)).toBe(true);
    child.kill();
    await child.exited;
    expect(facts.alive(child.pid, start)).toBe(true);
    expect(hostFacts().alive(child.pid, start)).toBe(false);
    expect(snapshotFacts().alive(child.pid, start)).toBe(false);
  });
});

describe("ps's default table without the template engine", () => {
  test("defaultTable prints what the template prints for the default columns", () => {
    const cells = [
      ["0123456789ab", "busybox", '"sleep 1d"', "2 minutes ago", "Up 2 minutes", "", "c1"],
      ["ba9876543210", "registry.local:5000/a/very-long/image:tag", '"sh -c \'while true…"', "About an hour ago", "Exited (137) 5 seconds ago", "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp", "näme_ünïcode"],
      ["ffffffffffff", "img", '""', "Less than a second ago", "Created", "", "x"],
    ];
    const fields = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"];
    const contexts = cells.map((row) => listContext("*formatter.ContainerContext", Object.fromEntries(fields.map((f, i) => [f, row[i]]))));
    expect(defaultTable(cells)).toBe(formatList(undefined, contexts, PS_SPEC));
    expect(defaultTable([])).toBe(formatList(undefined, [], PS_SPEC));
  });
});
