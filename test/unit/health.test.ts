// Health checks, the pure parts: Go durations, the --health-* flags (docker/cli's checks), the
// daemon's merge with the image's HEALTHCHECK and its checks, the monitor's argv, commit's
// HEALTHCHECK instruction, and how ps shows and filters a health state.
import { describe, expect, test } from "bun:test";
import {
  checkHealthConfig, healthFilterValue, healthFromFlags, healthSuffix, mergeHealthcheck, monitorHealthArgs,
  parseHealthState, probeArgv, withHealthcheck,
} from "../../src/container/health";
import { parseGoDuration, parseHealthcheckInstruction } from "../../src/image/healthcheck";
import { runOptionsFromFlags, type RunFlags } from "../../src/container/options";
import { applyChanges } from "../../src/image/commit";
import { psFilters } from "../../src/cli/ps";

describe("parseGoDuration", () => {
  test("Go's syntax, in nanoseconds", () => {
    expect(parseGoDuration("200ms")).toBe(200e6);
    expect(parseGoDuration("1m30s")).toBe(90e9);
    expect(parseGoDuration("1.5h")).toBe(5400e9);
    expect(parseGoDuration("10us")).toBe(10e3);
    expect(parseGoDuration("0")).toBe(0);
    expect(parseGoDuration("-1s")).toBe(-1e9);
    for (const bad of ["", "10", "s", "1x", "1s2", ".s"]) expect(parseGoDuration(bad)).toBeUndefined();
  });
});

describe("--health-* flags", () => {
  test("a command is CMD-SHELL; unset fields are 0 (the image's or the default)", () => {
    expect(healthFromFlags({ "health-cmd": "curl -f localhost || exit 1", "health-interval": "5s" })).toEqual({
      Test: ["CMD-SHELL", "curl -f localhost || exit 1"], Interval: 5e9, Timeout: 0, StartPeriod: 0, Retries: 0,
    });
    expect(healthFromFlags({ "health-retries": "4" })).toEqual({ Test: [], Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 4 });
    expect(healthFromFlags({})).toBeUndefined();
    expect(healthFromFlags({ "no-healthcheck": true })).toEqual({ Test: ["NONE"] });
  });
  test("docker/cli's errors", () => {
    expect(() => healthFromFlags({ "no-healthcheck": true, "health-cmd": "true" })).toThrow("--no-healthcheck conflicts with --health-* options");
    expect(() => healthFromFlags({ "health-interval": "-1s" })).toThrow("--health-interval cannot be negative");
    expect(() => healthFromFlags({ "health-retries": "-1" })).toThrow("--health-retries cannot be negative");
    expect(() => healthFromFlags({ "health-timeout": "5" })).toThrow('invalid argument "5" for "--health-timeout"');
  });
  test("run's options carry them", () => {
    const f = { rm: false, interactive: false, tty: false, env: [], "env-file": [], volume: [], tmpfs: [], "read-only": false, privileged: false, "cap-add": [], "cap-drop": [] } as RunFlags;
    expect(runOptionsFromFlags({ ...f, "health-cmd": "true" }, ["busybox"], {}, () => "").healthcheck?.Test).toEqual(["CMD-SHELL", "true"]);
    expect(runOptionsFromFlags(f, ["busybox"], {}, () => "").healthcheck).toBeUndefined();
  });
});

describe("merge with the image (the daemon's)", () => {
  const image = { Test: ["CMD", "/bin/check"], Interval: 10e9, Timeout: 2e9, StartPeriod: 0, Retries: 5 };
  test("the container's fields win, the image's fill the rest", () => {
    expect(mergeHealthcheck(undefined, image)).toEqual(image);
    expect(mergeHealthcheck({ Test: [], Interval: 1e9, Timeout: 0, StartPeriod: 0, Retries: 0 }, image)).toEqual({ ...image, Interval: 1e9 });
    expect(mergeHealthcheck({ Test: ["CMD-SHELL", "true"], Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 0 }, image)).toEqual({ ...image, Test: ["CMD-SHELL", "true"] });
    expect(probeArgv(mergeHealthcheck({ Test: ["NONE"] }, image))).toBeUndefined();
    expect(mergeHealthcheck(undefined, null)).toBeUndefined();
  });
  test("the daemon's checks", () => {
    expect(() => withHealthcheck({ healthcheck: { Test: ["CMD", "x"], Interval: 500e3 } }, undefined)).toThrow("Interval in Healthcheck cannot be less than 1ms");
    expect(() => checkHealthConfig({ Test: ["WAT"] })).toThrow('unknown Healthcheck type "WAT"');
    const plain: { a: number; healthcheck?: undefined } = { a: 1 };
    expect(withHealthcheck(plain, undefined)).toEqual({ a: 1 });
  });
});

describe("the monitor's --health-* argv", () => {
  test("CMD as is, CMD-SHELL through /bin/sh -c, Docker's defaults applied", () => {
    expect(monitorHealthArgs({ Test: ["CMD", "cat", "/ok"] })).toEqual([
      "--health-cmd", "2", "cat", "/ok", "--health-interval", "30000000000", "--health-timeout", "30000000000",
      "--health-start-period", "0", "--health-retries", "3",
    ]);
    expect(monitorHealthArgs({ Test: ["CMD-SHELL", "exit 1"], Interval: 2e8, Retries: 1 }).slice(0, 7)).toEqual([
      "--health-cmd", "3", "/bin/sh", "-c", "exit 1", "--health-interval", "200000000",
    ]);
    expect(monitorHealthArgs({ Test: ["NONE"] })).toEqual([]);
    expect(monitorHealthArgs({ Test: [] })).toEqual([]);
    expect(monitorHealthArgs(undefined)).toEqual([]);
  });
});

describe("commit --change HEALTHCHECK", () => {
  test("options, CMD (exec and shell form), NONE", () => {
    expect(parseHealthcheckInstruction("--interval=5s --retries=2 CMD wget -q localhost || exit 1")).toEqual({
      Test: ["CMD-SHELL", "wget -q localhost || exit 1"], Interval: 5e9, Timeout: 0, StartPeriod: 0, Retries: 2,
    });
    expect(parseHealthcheckInstruction('CMD ["cat", "/ok"]').Test).toEqual(["CMD", "cat", "/ok"]);
    expect(parseHealthcheckInstruction("NONE")).toEqual({ Test: ["NONE"] });
    expect(applyChanges({}, ["HEALTHCHECK --timeout=1s CMD true"]).Healthcheck?.Timeout).toBe(1e9);
    expect(() => parseHealthcheckInstruction("NONE x")).toThrow("HEALTHCHECK NONE takes no arguments");
    expect(() => parseHealthcheckInstruction("--retries=0 CMD true")).toThrow("--retries must be at least 1");
    expect(() => parseHealthcheckInstruction("--color=red CMD true")).toThrow("unknown flag --color");
    expect(() => parseHealthcheckInstruction("true")).toThrow("HEALTHCHECK needs CMD");
  });
});

describe("ps", () => {
  test("STATUS suffix and the health filter, as Docker's", () => {
    const s = (Status: "starting" | "healthy" | "unhealthy") => ({ Status, FailingStreak: 0, Log: [] });
    expect(healthSuffix(s("starting"))).toBe(" (health: starting)");
    expect(healthSuffix(s("healthy"))).toBe(" (healthy)");
    expect(healthSuffix(s("unhealthy"))).toBe(" (unhealthy)");
    expect(healthSuffix(undefined)).toBe("");
    expect(healthFilterValue(undefined)).toBe("none");
    expect(psFilters(["health=healthy", "health=none"]).get("health")).toEqual(["healthy", "none"]);
    expect(() => psFilters(["health=sick"])).toThrow("Unrecognised filter value for health: sick");
  });
  test("health.json that is not the monitor's is ignored", () => {
    expect(parseHealthState("{")).toBeUndefined();
    expect(parseHealthState('{"Status":"sick","Log":[]}')).toBeUndefined();
  });
});
