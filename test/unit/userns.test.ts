// --userns/--uidmap/--gidmap parsing, the auto pool and range choice, and the spec they write
// (src/container/userns.ts): pure, no root.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { BUILTIN_POOL, allocateUserns, checkUsernsConflicts, applyUserns, parseIdMap, pickRange, releaseUserns, subidRange, usernsMode, usernsOptionsFromFlags, usernsPool, type UsernsPool } from "../../src/container/userns";
import { MIGRATIONS } from "../../src/store/db";
import type { OciSpec } from "../../src/container/spec";

describe("flags", () => {
  test("host and unset are the host's user namespace", () => {
    expect(usernsOptionsFromFlags({})).toEqual({});
    expect(usernsOptionsFromFlags({ userns: "host" })).toEqual({});
  });
  test("auto with an optional size", () => {
    expect(usernsOptionsFromFlags({ userns: "auto" })).toEqual({ userns: "auto", usernsSize: 65536 });
    expect(usernsOptionsFromFlags({ userns: "auto:size=1000" })).toEqual({ userns: "auto", usernsSize: 1000 });
    expect(() => usernsOptionsFromFlags({ userns: "auto:size=0" })).toThrow(/the size must be/);
    expect(() => usernsOptionsFromFlags({ userns: "keep-id" })).toThrow(/invalid --userns "keep-id": use host, auto or auto:size=N/);
  });
  test("--uidmap alone stands for both maps (Podman); with --userns it conflicts", () => {
    const o = usernsOptionsFromFlags({ uidmap: ["0:100000:1000", "1000:1000:1"] });
    expect(o.uidMaps).toEqual([{ containerID: 0, hostID: 100000, size: 1000 }, { containerID: 1000, hostID: 1000, size: 1 }]);
    expect(o.gidMaps).toEqual(o.uidMaps!);
    expect(usernsOptionsFromFlags({ uidmap: ["0:1:2"], gidmap: ["0:3:4"] }).gidMaps).toEqual([{ containerID: 0, hostID: 3, size: 4 }]);
    expect(() => usernsOptionsFromFlags({ userns: "auto", uidmap: ["0:1:2"] })).toThrow(/conflicts with --uidmap/);
  });
  test("a map is CONTAINER:HOST:SIZE within 32 bits", () => {
    expect(() => parseIdMap("0:100000", "uidmap")).toThrow(/invalid --uidmap "0:100000": use CONTAINER_ID:HOST_ID:SIZE/);
    expect(() => parseIdMap("0:4294967295:2", "gidmap")).toThrow(/invalid --gidmap/);
    expect(() => parseIdMap("0:1:0", "uidmap")).toThrow(/size at least 1/);
  });
  test("the host's pid or ipc namespace and --privileged are refused with a user namespace", () => {
    expect(() => checkUsernsConflicts({ userns: "auto", privileged: true })).toThrow(/privileged mode is incompatible with user namespaces/);
    expect(() => checkUsernsConflicts({ userns: "private", pidMode: "host" })).toThrow(/host's PID namespace/);
    expect(() => checkUsernsConflicts({ userns: "auto", ipcMode: "host" })).toThrow(/host's IPC namespace/);
    expect(() => checkUsernsConflicts({ privileged: true, pidMode: "host" })).not.toThrow();
  });
  test("inspect's UsernsMode", () => {
    expect(usernsMode({})).toBe("");
    expect(usernsMode({ userns: "auto", usernsSize: 65536 })).toBe("auto");
    expect(usernsMode({ userns: "auto", usernsSize: 10 })).toBe("auto:size=10");
  });
});

describe("the pool", () => {
  const files = (subuid: string, subgid: string) => (p: string) => (p === "/etc/subuid" ? subuid : p === "/etc/subgid" ? subgid : "");
  test("tsd's subordinate ranges first, then containers', else the built-in range", () => {
    expect(subidRange("a:1:2\ntsd:100000:65536\n", "tsd")).toEqual({ start: 100000, size: 65536 });
    expect(usernsPool(files("containers:5:6\ntsd:7:8\n", "tsd:9:10\n"))).toEqual({ uid: { start: 7, size: 8 }, gid: { start: 9, size: 10 }, source: "/etc/subuid and /etc/subgid (user tsd)" });
    expect(usernsPool(files("containers:5:6\n", "containers:50:60\n")).source).toBe("/etc/subuid and /etc/subgid (user containers)");
    // A user with a uid range but no gid range is not a pool.
    expect(usernsPool(files("tsd:7:8\n", "")).uid).toEqual(BUILTIN_POOL);
    expect(BUILTIN_POOL.start + BUILTIN_POOL.size).toBeLessThanOrEqual(2 ** 31);
  });
  const pool: UsernsPool = { uid: { start: 1000, size: 300 }, gid: { start: 5000, size: 300 }, source: "test" };
  test("the lowest free offset, disjoint in uids and gids", () => {
    expect(pickRange(pool, [], 100)).toEqual({ uidStart: 1000, gidStart: 5000, size: 100 });
    const first = { uidStart: 1000, gidStart: 5000, size: 100 };
    expect(pickRange(pool, [first], 100)).toEqual({ uidStart: 1100, gidStart: 5100, size: 100 });
    // A gap left by a removed container is reused.
    expect(pickRange(pool, [{ uidStart: 1100, gidStart: 5100, size: 100 }], 100)).toEqual(first);
    expect(pickRange(pool, [first, { uidStart: 1100, gidStart: 5100, size: 100 }], 150)).toBeUndefined();
  });
  test("recorded per container, released with it", () => {
    const db = new Database(":memory:");
    for (const m of MIGRATIONS) db.exec(m.sql);
    const a = allocateUserns(db, "a", { userns: "auto", usernsSize: 100 }, pool)!;
    const b = allocateUserns(db, "b", { userns: "auto", usernsSize: 100 }, pool)!;
    expect(a.uid).toEqual([{ containerID: 0, hostID: 1000, size: 100 }]);
    expect(b.gid).toEqual([{ containerID: 0, hostID: 5100, size: 100 }]);
    expect(() => allocateUserns(db, "c", { userns: "auto", usernsSize: 200 }, pool)).toThrow(/no free range of 200 ids left/);
    releaseUserns(db, "a");
    expect(allocateUserns(db, "c", { userns: "auto", usernsSize: 100 }, pool)!.uid[0]!.hostID).toBe(1000);
    // A range of no container whose creating CLI is gone is free again; a live one's is kept.
    db.query("INSERT INTO userns_ranges (container_id, uid_start, gid_start, size, owner_pid, owner_start) VALUES ('gone', 1200, 5200, 100, 2147483647, '1')").run();
    db.query("INSERT INTO userns_ranges (container_id, uid_start, gid_start, size, owner_pid, owner_start) VALUES ('live', 1100, 5100, 100, ?, NULL)").run(process.pid);
    releaseUserns(db, "b");
    releaseUserns(db, "c");
    expect(allocateUserns(db, "f", { userns: "auto", usernsSize: 100 }, pool)!.uid[0]!.hostID).toBe(1000);
    expect(allocateUserns(db, "g", { userns: "auto", usernsSize: 100 }, pool)!.uid[0]!.hostID).toBe(1200);
    expect(() => allocateUserns(db, "h", { userns: "auto", usernsSize: 100 }, pool)).toThrow(/no free range/);
    expect(allocateUserns(db, "d", {}, pool)).toBeUndefined();
    expect(() => allocateUserns(db, "e", { userns: "auto" }, pool, "6.1.0")).toThrow(/user namespaces need Linux 6.15 or later \(idmapped overlay layers\); this kernel is 6.1.0/);
  });
});

test("the spec: a user namespace with the maps, chosen binds idmapped", () => {
  const spec = {
    mounts: [{ destination: "/v", type: "bind", source: "/s", options: ["rbind"] }, { destination: "/h", type: "bind", source: "/h", options: ["rbind"] }, { destination: "/proc", type: "proc", source: "proc" }],
    linux: { namespaces: [{ type: "pid" }, { type: "mount" }] },
  } as unknown as OciSpec;
  const maps = { uid: [{ containerID: 0, hostID: 7, size: 9 }], gid: [{ containerID: 0, hostID: 8, size: 9 }] };
  const out = applyUserns(spec, maps, new Set(["/v"]));
  expect(out.linux.namespaces[0]).toEqual({ type: "user" });
  expect(out.linux.uidMappings).toEqual(maps.uid);
  expect(out.linux.gidMappings).toEqual(maps.gid);
  expect(out.mounts.map((m) => m.options)).toEqual([["rbind", "idmap"], ["rbind"], undefined]);
  expect(applyUserns(spec, undefined, new Set())).toBe(spec);
});
