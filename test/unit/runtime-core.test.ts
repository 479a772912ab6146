// The pure parts of the OCI-runtime mode's create/start/hooks (src/runtime/create.ts, hooks.ts):
// options from runc's flags, the cgroup path default, the hooks' state prefix, the monitor's
// report, times; no root needed. The real create/start: test/e2e/runtime-create.test.ts.
import { describe, expect, test } from "bun:test";
import { cgroupsPathOf, CREATE_FLAGS, createOptions, hookStatePrefix, monitorArgs, parseCreateReport, rfc3339Nanos } from "../../src/runtime/create";
import { envOf, hookFailure, hooksOf, runHooks } from "../../src/runtime/hooks";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFlags } from "../../src/runtime/flags";

describe("create's options", () => {
  test("containerd's call: --bundle, --pid-file, --console-socket, relative paths made absolute", () => {
    const p = parseFlags(["--bundle", "/b/c1", "--pid-file", "init.pid", "--console-socket=/s.sock", "--preserve-fds", "2", "--no-pivot", "c1"], CREATE_FLAGS);
    const o = createOptions(p, p.args[0]!);
    expect(o).toEqual({ id: "c1", bundle: "/b/c1", pidFile: `${process.cwd()}/init.pid`, consoleSocket: "/s.sock", noPivot: true, noNewKeyring: false, preserveFds: 2 });
    expect(createOptions(parseFlags(["-b", "x", "c2"], CREATE_FLAGS), "c2").bundle).toBe(`${process.cwd()}/x`);
  });
  test("bad ids and counts are refused", () => {
    expect(() => createOptions(parseFlags([], CREATE_FLAGS), "a/b")).toThrow("invalid container id format: a/b");
    expect(() => createOptions(parseFlags(["--preserve-fds", "x"], CREATE_FLAGS), "c")).toThrow('invalid value "x" for flag -preserve-fds');
    expect(() => createOptions(parseFlags(["--preserve-fds", "5000"], CREATE_FLAGS), "c")).toThrow("at most 1024");
  });
  test("the monitor's argv carries every option, each group's procs", () => {
    const argv = monitorArgs({ id: "c", bundle: "/b", noPivot: false, noNewKeyring: true, preserveFds: 0 }, "/r/c", ["/sys/fs/cgroup/pids/x/cgroup.procs"]);
    expect(argv).toEqual(["--create", "--bundle", "/b", "--id", "c", "--fifo", "/r/c/exec.fifo", "--hook-state", "/r/c/hook-state", "--cgroup-procs", "/sys/fs/cgroup/pids/x/cgroup.procs", "--no-new-keyring"]);
  });
});

describe("create's pure helpers", () => {
  test("cgroupsPath, or runc's default for each driver", () => {
    expect(cgroupsPathOf({ linux: { cgroupsPath: "/k8s/c" } }, "c", false)).toBe("/k8s/c");
    expect(cgroupsPathOf({}, "c", false)).toBe("/c");
    expect(cgroupsPathOf({ linux: {} }, "c", true)).toBe("system.slice:tsd-runc:c");
  });
  test("the hooks' state prefix is the OCI state's head, ending in a comma", () => {
    const prefix = hookStatePrefix({ ociVersion: "1.1.0", annotations: { a: "b" } }, "c", "/b");
    expect(prefix).toBe('{"ociVersion":"1.1.0","id":"c","bundle":"/b","annotations":{"a":"b"},');
    expect(JSON.parse(`${prefix}"status":"creating","pid":7}`)).toEqual({ ociVersion: "1.1.0", id: "c", bundle: "/b", annotations: { a: "b" }, status: "creating", pid: 7 });
    expect(hookStatePrefix({}, "c", "/b")).toContain('"annotations":{},');
  });
  test("the report: started, an error's message, or the monitor's silence", () => {
    expect(parseCreateReport("started 42\n")).toEqual({ pid: 42 });
    expect(parseCreateReport("error 127 cannot exec \"x\": no such file or directory\n")).toEqual({ error: 'cannot exec "x": no such file or directory' });
    expect(parseCreateReport("")).toEqual({ error: "the monitor ended without a report" });
    expect(parseCreateReport("what\n")).toEqual({ error: 'the monitor ended without a report (said "what")' });
  });
  test("created: RFC3339 with nine fraction digits", () => {
    expect(rfc3339Nanos(Date.UTC(2026, 0, 2, 3, 4, 5, 678), 123456n)).toBe("2026-01-02T03:04:05.678123456Z");
    expect(rfc3339Nanos(Date.UTC(2026, 0, 2, 3, 4, 5, 0), 7n)).toBe("2026-01-02T03:04:05.000000007Z");
  });
});

describe("hooks", () => {
  test("a spec's hooks of a kind, none when absent or malformed", () => {
    expect(hooksOf({ hooks: { poststart: [{ path: "/x" }] } }, "poststart")).toEqual([{ path: "/x" }]);
    expect(hooksOf({}, "poststop")).toEqual([]);
    expect(hooksOf({ hooks: { poststop: "no" as never } }, "poststop")).toEqual([]);
  });
  test("env entries split at the first =", () => {
    expect(envOf(["A=1", "B=x=y", "bad", "=v"])).toEqual({ A: "1", B: "x=y" });
  });
  test("a failure names the kind, the path, the status and the first line written", () => {
    expect(hookFailure("poststart", "/h", "exit status 2", "\n  no good  \nmore")).toBe("poststart hook /h failed: exit status 2: no good");
    expect(hookFailure("poststop", "/h", "killed by SIGKILL", "")).toBe("poststop hook /h failed: killed by SIGKILL");
  });
  test("runHooks: in order, the state on stdin, only the hook's env; a failure or a timeout stops them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsd-hooks-"));
    try {
      const log = join(dir, "log");
      const sh = (script: string, extra: object = {}) => ({ path: "/bin/sh", args: ["sh", "-c", script], env: ["X=1"], ...extra });
      await runHooks("poststart", [sh(`echo "a $(cat) $X $HOME" >> ${log}`), sh(`echo b >> ${log}`)], { id: "c" });
      expect(readFileSync(log, "utf8")).toBe('a {"id":"c"} 1 \nb\n');
      await expect(runHooks("poststop", [sh("echo bad >&2; exit 4"), sh(`echo never >> ${log}`)], {})).rejects.toThrow("poststop hook /bin/sh failed: exit status 4: bad");
      await expect(runHooks("poststop", [sh("exec sleep 5", { timeout: 1 })], {})).rejects.toThrow("poststop hook /bin/sh timed out after 1 s");
      await expect(runHooks("poststop", [{ path: "rel" }], {})).rejects.toThrow('poststop hook path "rel" is not absolute');
      expect(readFileSync(log, "utf8")).not.toContain("never");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
