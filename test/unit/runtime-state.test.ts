// The runtime mode's state directory (src/runtime/state-dir.ts): the status derived from the
// record, /proc and the cgroup, never stored; the OCI state `state` prints; list's table; the
// lock and record helpers. No root: the "init" is this test's own process, the cgroup a
// directory tree of the files the kernel would show.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkId, ociState, readRecord, statusOf, withLock, withRecord, writeRecord, type RuntimeRecord } from "../../src/runtime/state-dir";
import { listTable, table } from "../../src/runtime/list";
import { filterPs } from "../../src/runtime/ps";
import { groupOfDir } from "../../src/runtime/cgroup";

const root = mkdtempSync("/tmp/tsd-unit-rtstate-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ownStart = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[19]!;

function record(id: string, o: Partial<RuntimeRecord> = {}): RuntimeRecord {
  return {
    ociVersion: "1.2.0", id, pid: process.pid, pidStart: ownStart, bundle: "/b", rootfs: "/b/rootfs",
    created: "2026-12-06T15:00:00.123456789Z", annotations: {}, owner: "", cgroup: { paths: [], systemd: false }, terminal: false, ...o,
  };
}

describe("status, derived", () => {
  test("a live init with its start time: running", () => {
    expect(statusOf(root, record("r1"))).toBe("running");
  });

  test("pid 0, a pid gone, or a pid with another start time (recycled): stopped", () => {
    expect(statusOf(root, record("s1", { pid: 0 }))).toBe("stopped");
    expect(statusOf(root, record("s2", { pid: 2 ** 22 + 1 }))).toBe("stopped");
    expect(statusOf(root, record("s3", { pidStart: "1" }))).toBe("stopped");
  });

  test("exec.fifo present: created (the init waits for start)", () => {
    const rec = record("c1");
    writeRecord(root, rec);
    writeFileSync(join(root, "c1", "exec.fifo"), "");
    expect(statusOf(root, rec)).toBe("created");
  });

  test("a frozen cgroup (v2 cgroup.freeze, v1 freezer.state): paused", () => {
    const v2 = join(root, "cg-v2");
    const v1 = join(root, "cg-v1");
    mkdirSync(v2);
    mkdirSync(v1);
    writeFileSync(join(v2, "cgroup.freeze"), "1\n");
    writeFileSync(join(v1, "freezer.state"), "FROZEN\n");
    expect(statusOf(root, record("p1", { cgroup: { paths: [v2], systemd: false } }))).toBe("paused");
    expect(statusOf(root, record("p2", { cgroup: { paths: [v1], systemd: false } }))).toBe("paused");
    writeFileSync(join(v2, "cgroup.freeze"), "0\n");
    expect(statusOf(root, record("p3", { cgroup: { paths: [v2], systemd: false } }))).toBe("running");
  });
});

describe("the OCI state", () => {
  test("runc's fields in runc's order; annotations only when there are some", () => {
    expect(Object.keys(ociState(root, record("o1")))).toEqual(["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"]);
    const withA = ociState(root, record("o2", { annotations: { a: "b" } })) as Record<string, unknown>;
    expect(Object.keys(withA)).toEqual(["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]);
  });

  test("stopped: pid 0 (the init's pid may be someone else's by now)", () => {
    expect(ociState(root, record("o3", { pidStart: "1" }))).toMatchObject({ pid: 0, status: "stopped" });
    expect(ociState(root, record("o4"))).toMatchObject({ pid: process.pid, status: "running" });
  });
});

describe("records and the lock", () => {
  test("written atomically (no temporary file stays), read back whole", () => {
    const rec = record("w1", { annotations: { k: "v" } });
    writeRecord(root, rec);
    expect(readdirSync(join(root, "w1"))).toEqual(["state.json"]);
    expect(readRecord(root, "w1")).toEqual(rec);
  });

  test("a missing id: runc's message with the id; nothing is created by asking", async () => {
    expect(() => readRecord(root, "nope")).toThrow('container "nope" does not exist');
    await expect(withRecord(root, "nope", async () => 1)).rejects.toThrow('container "nope" does not exist');
    expect(existsSync(join(root, "nope"))).toBe(false);
  });

  test("withLock makes the directory and its lock file (create holds it before state.json)", async () => {
    expect(await withLock(root, "l1", async () => readdirSync(join(root, "l1")))).toEqual(["lock"]);
  });

  test("runc's id rule", () => {
    for (const ok of ["c1", "a.b-c_d+e", "X"]) expect(() => checkId(ok)).not.toThrow();
    for (const bad of ["", "a/b", "..", "a b", "ü"]) expect(() => checkId(bad)).toThrow();
  });
});

describe("list and ps output", () => {
  test("runc's table: tabwriter, 12 wide, padding 3, the last column unpadded", () => {
    expect(table([["ID", "PID"], ["c1", "42"]])).toBe("ID          PID\nc1          42\n");
    const long = listTable([{ id: "container-with-a-long-id", pid: 7, status: "running", bundle: "/b", created: "T", owner: "root" }]);
    expect(long.split("\n")[0]).toBe("ID                         PID         STATUS      BUNDLE      CREATED     OWNER");
  });

  test("ps: the header and the rows whose PID column is the container's", () => {
    const out = "UID  PID  PPID CMD\nroot 1    0    init\nroot 42   1    sh\nroot 43   42   sleep\n";
    expect(filterPs(out, [42, 43])).toBe("UID  PID  PPID CMD\nroot 42   1    sh\nroot 43   42   sleep\n");
    expect(() => filterPs("UID CMD\nroot x\n", [1])).toThrow("no PID column");
  });

  test("a record's cgroup directory → the driver's group path under its mountpoint", () => {
    const v1 = { version: 1 as const, hierarchies: { v1: [{ mountpoint: "/sys/fs/cgroup/memory", controllers: ["memory"] }] } };
    const v2 = { version: 2 as const, hierarchies: { v1: [], v2: "/sys/fs/cgroup" } };
    expect(groupOfDir(v1, "/sys/fs/cgroup/memory/k8s/c1")).toBe("k8s/c1");
    expect(groupOfDir(v2, "/sys/fs/cgroup/system.slice/tsd-c1.scope")).toBe("system.slice/tsd-c1.scope");
    expect(groupOfDir(v2, "/elsewhere/c1")).toBeUndefined();
    expect(groupOfDir(v2, "/sys/fs/cgroup")).toBeUndefined();
  });
});
