// The TS side of the contract tests (zig/contract.zig is the other): the CLI's writers still
// make the committed fixtures the Zig side parses, and the CLI's readers take what the Zig
// writers make. After a deliberate change of a TS writer: `bun test/contract/generate.ts`.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { arch } from "node:os";
import { contractCreateArgv, contractHookState, contractMonitorArgv, contractResolverArgv, contractSpec } from "./cases";
import { parseCreateReport } from "../../src/runtime/create";
import { ociState, type RuntimeRecord } from "../../src/runtime/state-dir";
import { parseReport } from "../../src/container/start";
import { parseExitStatus } from "../../src/container/cleanup";
import { parseLogText } from "../../src/container/logs";
import { parseHealthState } from "../../src/container/health";
import { HelperError, helperFailure, helperFailures } from "../../src/native/helper-status";
import { helperWriteError } from "../../src/image/output";
import { BrokenPipe, TsdError } from "../../src/errors";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");
const regenerate = "the TS writer changed: if that is meant, run `bun test/contract/generate.ts` and let zig/contract.zig check the Zig side reads it";

describe("the CLI writes what the Zig side was tested on", () => {
  test.skipIf(arch() !== "x64")("config.json (buildSpec): the seccomp syscalls are x86_64's", () => {
    const want = JSON.parse(fixture("spec.json"));
    const got = JSON.parse(JSON.stringify(contractSpec()));
    if (!Bun.deepEquals(got, want)) console.error(regenerate);
    expect(got).toEqual(want);
  });
  test("the monitor's argv (monitorArgv)", () => {
    expect(contractMonitorArgv()).toEqual(JSON.parse(fixture("monitor-argv.json")));
  });
  test("tsd-monitor --create's argv (runtime/create.ts monitorArgs)", () => {
    expect(contractCreateArgv()).toEqual(JSON.parse(fixture("create-argv.json")));
  });
  test("the hooks' state prefix (runtime/create.ts hookStatePrefix)", () => {
    expect(contractHookState()).toBe(fixture("hook-state.txt"));
  });
  test("the runtime's `state` of a stopped record (state-dir.ts ociState, printed as state.ts does)", () => {
    const rec = JSON.parse(fixture("runtime-state.json")) as RuntimeRecord;
    expect(`${JSON.stringify(ociState("/nonexistent-root", rec), null, "  ")}\n`).toBe(fixture("runtime-state.out"));
  });
  test("the resolver's argv (resolverArgv)", () => {
    expect(contractResolverArgv()).toEqual(JSON.parse(fixture("resolver-argv.json")));
  });
});

describe("the CLI reads what the Zig writers make", () => {
  test("report lines (parseReport)", () => {
    const lines = fixture("report.txt").split("\n").filter(Boolean);
    expect(lines.map(parseReport)).toEqual([
      { kind: "started", pid: 4242 },
      { kind: "error", status: 127, message: 'cannot exec "/bin/nope": no such file or directory' },
      { kind: "exited", status: 137 },
      { kind: "detached" },
      { kind: "output-closed", stream: "stdout" },
      { kind: "output-closed", stream: "stderr" },
    ]);
  });
  test("report lines as create reads them (parseCreateReport)", () => {
    const lines = fixture("report.txt").split("\n").filter(Boolean);
    expect(parseCreateReport(`${lines[0]}\n`)).toEqual({ pid: 4242 });
    expect(parseCreateReport(`${lines[1]}\n`)).toEqual({ error: 'cannot exec "/bin/nope": no such file or directory' });
  });
  test("exit.json (parseExitStatus)", () => {
    expect(parseExitStatus(fixture("exit.json"))).toEqual({ pid: 7, exitCode: 137, signal: 9, startedAt: 1700000000123456789, finishedAt: 1700000001987654321 });
    expect(parseExitStatus(fixture("exit-error.json"))).toEqual({ pid: 0, exitCode: 127, signal: 0, startedAt: 1, finishedAt: 2, error: 'cannot exec "/bin/nope": no such file or directory' });
  });
  test("json-file log records (parseLogText)", () => {
    const { records, rest } = parseLogText(fixture("log.jsonl"));
    expect(rest).toBe("");
    expect(records).toEqual([
      { log: "hello\n", stream: "stdout", time: "2023-11-14T22:13:20.123456789Z" },
      { log: 'a "b"\t\u0001\n', stream: "stderr", time: "2023-11-14T22:13:21.000000001Z" },
    ]);
  });
});

describe("the CLI reads health.json as the monitor writes it", () => {
  test("parseHealthState", () => {
    expect(parseHealthState(fixture("health.json"))).toEqual({
      Status: "unhealthy",
      FailingStreak: 2,
      Log: [
        { Start: "2023-11-14T22:13:20.000000000Z", End: "2023-11-14T22:13:20.500000000Z", ExitCode: 0, Output: "ok\n" },
        { Start: "2023-11-14T22:13:21.000000000Z", End: "2023-11-14T22:13:21.500000000Z", ExitCode: -1, Output: "Health check exceeded timeout (300ms)" },
        { Start: "2023-11-14T22:13:22.000000000Z", End: "2023-11-14T22:13:22.500000000Z", ExitCode: 1, Output: 'a "b"\t\u0001\ufffd...' },
      ],
    });
  });
});

describe("the copy helper's exit statuses (zig/monitor/copy_status.zig)", () => {
  const rows = fixture("copy-status.txt")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ") as [string, string]);
  test("the CLI's table is the Zig table, status by status (helperFailure)", () => {
    expect(rows[0]).toEqual(["0", "ok"]);
    expect(Object.fromEntries(rows.slice(1).map(([status, name]) => [status, name]))).toEqual(Object.fromEntries(Object.entries(helperFailures)));
    for (const [status, name] of rows.slice(1)) expect(helperFailure(Number(status))).toBe(name as never);
    expect(helperFailure(200)).toBe("failed");
  });
  test("export and save decide by the status, not the message (helperWriteError)", () => {
    const status = (name: string) => Number(rows.find((r) => r[1] === name)![0]);
    expect(helperWriteError(new HelperError("export failed: cannot write the archive", helperFailure(status("broken-pipe"))), "stdout")).toBeInstanceOf(BrokenPipe);
    const full = helperWriteError(new HelperError("export failed: cannot write the archive", helperFailure(status("no-space"))), "out.tar");
    expect((full as TsdError).message).toBe("no space left on device writing out.tar");
    const other = new HelperError("export failed: broken pipe in a file name", helperFailure(status("not-found")));
    expect(helperWriteError(other, "stdout")).toBe(other);
  });
});

describe("the FFI symbol table", () => {
  test("every symbol ffi.ts declares is exported by libtsd.so and listed in zig/CONTRACT.md, and the other way round", () => {
    const repo = join(import.meta.dir, "../..");
    const ffi = readFileSync(join(repo, "src/native/ffi.ts"), "utf8");
    const start = ffi.indexOf("const symbols = {");
    const declared = [...ffi.slice(start, ffi.indexOf("} as const;", start)).matchAll(/^\s+(tsd_\w+):/gm)].map((m) => m[1]!).sort();
    const nm = Bun.spawnSync(["nm", "-D", "--defined-only", join(repo, "zig-out/lib/libtsd.so")]);
    expect(nm.exitCode).toBe(0);
    const exported = nm.stdout.toString().split("\n").map((l) => l.split(" ").pop()!).filter((s) => s.startsWith("tsd_")).sort();
    const contract = readFileSync(join(repo, "zig/CONTRACT.md"), "utf8");
    const documented = [...new Set([...contract.matchAll(/`(tsd_\w+)[(`]/g)].map((m) => m[1]!))].sort();
    expect(declared).toEqual(exported);
    expect(documented).toEqual(exported);
  });
});
