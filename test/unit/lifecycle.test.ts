import { describe, expect, test } from "bun:test";
import { parseLogOpts, parseSize, DEFAULT_LOG } from "../../src/container/log-options";
import { parseLogText, parseTimeArg } from "../../src/container/logs";
import { signalNumber } from "../../src/container/lifecycle";

describe("log options", () => {
  test("sizes as Docker's RAMInBytes", () => {
    expect(parseSize("10m")).toBe(10 * 1024 * 1024);
    expect(parseSize("512k")).toBe(512 * 1024);
    expect(parseSize("1g")).toBe(1024 ** 3);
    expect(parseSize("100")).toBe(100);
    expect(parseSize("lots")).toBeUndefined();
  });
  test("defaults and overrides; bad input is a usage error", () => {
    expect(parseLogOpts([])).toEqual(DEFAULT_LOG);
    expect(parseLogOpts(["max-size=1m", "max-file=3"])).toEqual({ maxSize: 1024 * 1024, maxFile: 3 });
    expect(parseLogOpts(["max-size=-1"]).maxSize).toBe(0);
    expect(() => parseLogOpts(["max-file=0"])).toThrow("max-file");
    expect(() => parseLogOpts(["mode=non-blocking"])).toThrow("unknown log opt");
  });
});

describe("logs", () => {
  test("time arguments: RFC 3339, Unix seconds, durations", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseTimeArg("since", "2025-12-31T23:00:00Z", now)).toBe(now - 3600e3);
    expect(parseTimeArg("since", "1767225600.5", now)).toBe(1767225600500);
    expect(parseTimeArg("since", "1h30m", now)).toBe(now - 5400e3);
    expect(parseTimeArg("since", "45s", now)).toBe(now - 45e3);
    expect(() => parseTimeArg("since", "yesterday", now)).toThrow("--since");
  });
  test("records parse; a partial last line waits", () => {
    const { records, rest } = parseLogText('{"log":"a\\n","stream":"stdout","time":"t"}\n{"log":"b');
    expect(records).toEqual([{ log: "a\n", stream: "stdout", time: "t" }]);
    expect(rest).toBe('{"log":"b');
  });
});

test("signal names and numbers", () => {
  expect(signalNumber("SIGTERM")).toBe(15);
  expect(signalNumber("kill")).toBe(9);
  expect(signalNumber("10")).toBe(10);
  expect(signalNumber("RTMIN+1")).toBe(35);
  expect(signalNumber("NOPE")).toBeUndefined();
  expect(signalNumber("99")).toBeUndefined();
});

import { execProcess, mergeEnv } from "../../src/container/exec";

describe("exec process", () => {
  const base = {
    terminal: false, user: { uid: 0, gid: 0 }, args: ["sleep"], env: ["PATH=/bin", "HOME=/root", "A=1"], cwd: "/app",
    capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"], inheritable: [], ambient: [] }, noNewPrivileges: true,
  };
  const o = { interactive: false, tty: false, detach: false, env: [], privileged: false, command: ["sh"] };
  test("env merges by name, later wins", () => expect(mergeEnv(["A=1", "B=2"], ["A=3", "C=4"])).toEqual(["A=3", "B=2", "C=4"]));
  test("the container's process with the exec flags", () => {
    const p = execProcess(base, { ...o, env: ["A=2"], workdir: "/tmp", tty: true }, undefined);
    expect(p).toMatchObject({ args: ["sh"], env: ["PATH=/bin", "HOME=/root", "A=2"], cwd: "/tmp", terminal: true, noNewPrivileges: true });
    expect(p.capabilities).toEqual(base.capabilities);
  });
  test("-u: the user's ids and home, no capabilities for a non-root uid", () => {
    const p = execProcess(base, o, { uid: 1000, gid: 100, additionalGids: [], home: "/home/u" });
    expect(p.user).toEqual({ uid: 1000, gid: 100, additionalGids: [] });
    expect(p.env).toContain("HOME=/home/u");
    expect(p.capabilities!.effective).toEqual([]);
    expect(p.capabilities!.bounding).toEqual(["CAP_KILL"]);
  });
  test("--privileged: every capability, no no_new_privs", () => {
    const p = execProcess(base, { ...o, privileged: true }, undefined);
    expect(p.capabilities!.effective).toContain("CAP_SYS_ADMIN");
    expect(p.noNewPrivileges).toBe(false);
  });
});

import { parseRestartPolicy, restartDelayMs, shouldRestart } from "../../src/container/restart-policy";

describe("restart policy", () => {
  test("parse", () => {
    expect(parseRestartPolicy("on-failure:3")).toEqual({ name: "on-failure", maximumRetryCount: 3 });
    expect(parseRestartPolicy("always")).toEqual({ name: "always", maximumRetryCount: 0 });
    expect(() => parseRestartPolicy("always:2")).toThrow("only on-failure");
    expect(() => parseRestartPolicy("sometimes")).toThrow("invalid restart policy");
  });
  test("decide", () => {
    const onFailure = { name: "on-failure" as const, maximumRetryCount: 2 };
    expect(shouldRestart(onFailure, 1, 0, false)).toBe(true);
    expect(shouldRestart(onFailure, 1, 2, false)).toBe(false);
    expect(shouldRestart(onFailure, 0, 0, false)).toBe(false);
    expect(shouldRestart({ name: "always", maximumRetryCount: 0 }, 0, 99, false)).toBe(true);
    expect(shouldRestart({ name: "unless-stopped", maximumRetryCount: 0 }, 1, 0, true)).toBe(false);
    expect(shouldRestart(undefined, 1, 0, false)).toBe(false);
    expect(restartDelayMs(0)).toBe(100);
    expect(restartDelayMs(3)).toBe(800);
    expect(restartDelayMs(50)).toBe(10000);
  });
});

import { DetachMatcher, deframe, parseDetachKeys } from "../../src/container/attach";

describe("attach client", () => {
  test("detach keys", () => {
    expect(parseDetachKeys("ctrl-p,ctrl-q")).toEqual([16, 17]);
    expect(parseDetachKeys("ctrl-@,a")).toEqual([0, 97]);
    expect(() => parseDetachKeys("ctrl-pp")).toThrow("detach keys");
    expect(parseDetachKeys(Array(16).fill("x").join(","))).toHaveLength(16);
    expect(() => parseDetachKeys(Array(17).fill("x").join(","))).toThrow("at most 16 keys");
    const m = new DetachMatcher([16, 17]);
    expect(m.feed(Uint8Array.from([1, 16]))).toEqual({ forward: Uint8Array.from([1]), detach: false });
    expect(m.feed(Uint8Array.from([2]))).toEqual({ forward: Uint8Array.from([16, 2]), detach: false });
    expect(m.feed(Uint8Array.from([16, 17, 9])).detach).toBe(true);
  });
  test("stdcopy frames, split anywhere", () => {
    const frame = (s: number, text: string) => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)]);
    const all = Buffer.concat([frame(1, "out"), frame(2, "err!")]);
    const got: string[] = [];
    const rest = deframe(all.subarray(0, 13), (s, p) => got.push(`${s}:${p}`));
    deframe(Buffer.concat([rest, all.subarray(13)]), (s, p) => got.push(`${s}:${p}`));
    expect(got).toEqual(["1:out", "2:err!"]);
  });
});

import { containerSource, hostTarget, isStdio, namesDirectory, parseCpArg, streamName } from "../../src/container/cp";
import { readOnlyOverlay } from "../../src/container/helper";
import { psFilters } from "../../src/cli/ps";
import { filterPs } from "../../src/cli/top";

describe("cp, ps, top helpers", () => {
  test("cp arguments", () => {
    expect(parseCpArg("box:/etc/passwd")).toEqual({ container: "box", path: "/etc/passwd" });
    expect(parseCpArg("box:")).toEqual({ container: "box", path: "/" });
    expect(parseCpArg("./a:b")).toEqual({ path: "./a:b" });
    expect(parseCpArg("/tmp/x")).toEqual({ path: "/tmp/x" });
  });
  test("cp naming: Docker's rules as the helper's directory and name", () => {
    // Out of the container: into an existing directory under the source's name, else the new name.
    expect(hostTarget("/etc/passwd", "/out", true)).toEqual({ dir: "/out", name: "passwd" });
    expect(hostTarget("/etc/", "/out", true)).toEqual({ dir: "/out", name: "etc" });
    expect(hostTarget("/etc/passwd", "/out/pw", false)).toEqual({ dir: "/out", name: "pw" });
    expect(hostTarget("/etc/.", "/out/e", false)).toEqual({ dir: "/out", name: "e" });
    expect(hostTarget("/", "/out", true)).toEqual({ dir: "/out", name: "" });
    // Streams (docker cp's "-"): the tar's top name; a trailing "/" asserts a directory.
    expect(isStdio({ path: "-" })).toBe(true);
    expect(isStdio({ container: "c", path: "-" })).toBe(false);
    expect(streamName("/etc")).toBe("etc");
    expect(streamName("/etc/")).toBe("etc");
    expect(streamName("/etc/.")).toBe(".");
    expect(streamName("/")).toBe(".");
    expect(namesDirectory("/etc/")).toBe(true);
    expect(namesDirectory("/etc/.")).toBe(true);
    expect(namesDirectory("/etc/passwd")).toBe(false);
    expect(namesDirectory("/")).toBe(false);
    // The container side: the parent (resolved inside the rootfs) and the base (never followed).
    expect(containerSource("/out/link/passwd")).toEqual({ dir: "/out/link", name: "passwd" });
    expect(containerSource("etc")).toEqual({ dir: "/", name: "etc" });
    expect(containerSource("/etc/.")).toEqual({ dir: "/etc", name: "." });
    expect(containerSource("/data/")).toEqual({ dir: "/", name: "data" });
    expect(containerSource("/")).toEqual({ dir: "/", name: "." });
  });
  test("a read-only overlay stacks the upper dir on the lower ones", () => {
    expect(readOnlyOverlay("lowerdir=layers/l/A:layers/l/B,upperdir=containers/x/upper,workdir=containers/x/work")).toBe(
      "lowerdir=containers/x/upper:layers/l/A:layers/l/B",
    );
    expect(() => readOnlyOverlay("upperdir=u")).toThrow("no lowerdir");
  });
  test("ps filters", () => {
    const f = psFilters(["status=exited", "name=web", "status=created"]);
    expect(f.get("status")).toEqual(["exited", "created"]);
    expect(f.get("name")).toEqual(["web"]);
    // The daemon's texts (moby 20.10), status 1; a value without "=" is the CLI's flag error.
    expect(() => psFilters(["color=red"])).toThrow("Invalid filter 'color'");
    expect(() => psFilters(["status=sleeping"])).toThrow("Invalid filter 'status=sleeping'");
    expect(() => psFilters(["exited=x"])).toThrow('strconv.Atoi: parsing "x": invalid syntax');
    expect(() => psFilters(["status"])).toThrow("bad format of filter (expected name=value)");
  });
  test("top keeps the container's rows", () => {
    const ps = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 42 sh\n";
    expect(filterPs(ps, new Set([42]))).toBe("UID PID PPID CMD\nroot 42 1 sleep");
  });
});
