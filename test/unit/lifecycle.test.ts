import { describe, expect, test } from "bun:test";
import { parseLogOpts, parseSize, DEFAULT_LOG } from "../../src/container/log-options";
import { parseLogText, parseTimeArg } from "../../src/container/logs";
import { signalNumber } from "../../src/container/ops";

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
