// The pure parts of tsd events, system df and system prune: Docker's event filter, line and
// time format; the df summary; the prune filters and warning.
import { describe, expect, test } from "bun:test";
import { eventFilter, eventJson, eventTime, prettyEvent } from "../../src/system/events";
import { summarise, type DiskUsage } from "../../src/system/df";
import { pruneFilter, pruneWarning } from "../../src/system/prune";
import { reclaimableText } from "../../src/cli/system-df";
import { timeArg } from "../../src/cli/events";
import type { EventRecord } from "../../src/store/events";

const ev = (type: EventRecord["type"], action: string, actorId: string, attributes: Record<string, string>): EventRecord =>
  ({ id: 1, timeNano: 1796564212210141123n, type, action, actorId, attributes });

const start = ev("container", "start", "abc123", { image: "busybox:1", name: "web", team: "a" });
const tag = ev("image", "tag", "sha256:ff", { name: "app:2" });
const connect = ev("network", "connect", "n1id", { name: "app", type: "bridge", container: "abc123" });
const exec = ev("container", "exec_create: sh -c ls", "abc123", { image: "busybox:1", name: "web", execID: "e" });

describe("event filter (moby daemon/events/filter.go)", () => {
  const pick = (f: string[]) => [start, tag, connect, exec].filter(eventFilter(f)).map((e) => e.action);
  test("none: everything", () => expect(pick([])).toHaveLength(4));
  test("type, event (exact, fuzzy for exec_create)", () => {
    expect(pick(["type=image"])).toEqual(["tag"]);
    expect(pick(["event=start", "event=tag"])).toEqual(["start", "tag"]);
    expect(pick(["event=exec_create"])).toEqual(["exec_create: sh -c ls"]);
  });
  test("container by id prefix or name; network by name", () => {
    expect(pick(["container=abc"])).toEqual(["start", "exec_create: sh -c ls"]);
    expect(pick(["container=web", "type=container", "event=start"])).toEqual(["start"]);
    // Docker's fuzzy match is a prefix of the actor id or its name, whatever the type: the
    // image named app:2 matches network=app too.
    expect(pick(["network=app"])).toEqual(["tag", "connect"]);
    expect(pick(["network=app", "type=network"])).toEqual(["connect"]);
  });
  test("image: the id, the name attribute, with or without its tag", () => {
    expect(pick(["image=busybox"])).toEqual(["start", "exec_create: sh -c ls"]);
    expect(pick(["image=app"])).toEqual(["tag"]);
    expect(pick(["image=sha256:ff"])).toEqual(["tag"]);
  });
  test("label: a key or key=value among the attributes", () => {
    expect(pick(["label=team"])).toEqual(["start"]);
    expect(pick(["label=team=b"])).toEqual([]);
  });
  test("an unknown key", () => expect(() => eventFilter(["colour=red"])).toThrow("Invalid filter 'colour'"));
});

describe("event output", () => {
  test("Docker's line: fixed 9-digit fraction, the zone, sorted attributes", () => {
    expect(prettyEvent(start, 0)).toBe("2026-12-06T13:36:52.210141123Z container start abc123 (image=busybox:1, name=web, team=a)");
    expect(eventTime(1796564212000000005n, 60)).toBe("2026-12-06T14:36:52.000000005+01:00");
    expect(eventTime(1796564212000000005n, -330)).toBe("2026-12-06T08:06:52.000000005-05:30");
    expect(prettyEvent(ev("volume", "create", "v", {}), 0)).toBe("2026-12-06T13:36:52.210141123Z volume create v");
  });
  test("json: Docker's Message with the legacy fields for containers and an exact timeNano", () => {
    expect(eventJson(start)).toBe(
      '{"status":"start","id":"abc123","from":"busybox:1","Type":"container","Action":"start","Actor":{"ID":"abc123","Attributes":{"image":"busybox:1","name":"web","team":"a"}},"scope":"local","time":1796564212,"timeNano":1796564212210141123}',
    );
    expect(JSON.parse(eventJson(connect))).not.toHaveProperty("status");
  });
  test("--since/--until: Unix seconds with a fraction and RFC 3339 with nanoseconds, exactly", () => {
    expect(timeArg("since", "1796564212.5", 0)).toBe(1796564212500000000n);
    expect(timeArg("since", "2026-12-06T13:36:52.210141123Z", 0)).toBe(1796564212210141123n);
    expect(timeArg("since", "10s", 1796564212000)).toBe(1796564202000000000n);
  });
});

describe("system df summary (the Docker CLI's disk_usage.go)", () => {
  const image = (id: string, layers: string[], size: number) => ({ id, layers, size, config: {} as never, loadedAt: 0 });
  const u: DiskUsage = {
    layersSize: 300,
    images: [
      { image: image("a", ["l1", "l2"], 200), tags: ["a"], size: 200, sharedSize: 100, containers: 1 },
      { image: image("b", ["l1", "l3"], 200), tags: [], size: 200, sharedSize: 100, containers: 0 },
    ],
    containers: [
      { row: {} as never, sizeRw: 10, localVolumes: 0, active: true },
      { row: {} as never, sizeRw: 30, localVolumes: 1, active: false },
    ],
    volumes: [{ name: "v", links: 1, size: 5 }, { name: "w", links: 0, size: 0 }],
  };
  test("totals, actives, sizes and what is reclaimable", () => {
    const s = summarise(u);
    expect(s.map((r) => [r.type, r.total, r.active, r.size, r.reclaimable])).toEqual([
      ["Images", 2, 1, 300, 200], ["Containers", 2, 1, 40, 30], ["Local Volumes", 2, 1, 5, 0], ["Build Cache", 0, 0, 0, 0],
    ]);
    expect(s.map(reclaimableText)).toEqual(["200B (66%)", "30B (75%)", "0B (0%)", "0B"]);
  });
});

describe("system prune", () => {
  const parse = (t: string) => Date.parse(t);
  test("until and label filters", () => {
    const keep = pruneFilter(["until=2026-01-01T00:00:00Z", "label=x=1"], parse);
    expect(keep(parse("2025-06-01T00:00:00Z"), { x: "1" })).toBe(true);
    expect(keep(parse("2026-06-01T00:00:00Z"), { x: "1" })).toBe(false);
    expect(keep(parse("2025-06-01T00:00:00Z"), { x: "2" })).toBe(false);
    const not = pruneFilter(["label!=keep"], parse);
    expect([not(0, {}), not(0, { keep: "" })]).toEqual([true, false]);
    expect(() => pruneFilter(["dangling=true"], parse)).toThrow("Invalid filter 'dangling'");
  });
  test("Docker's warning", () => {
    expect(pruneWarning({ all: true, volumes: true, filters: ["label=a"] })).toBe(
      "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all volumes not used by at least one container\n" +
        "  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label=a\n\nAre you sure you want to continue? [y/N] ",
    );
  });
});
