// runc's command line as tsd's runtime mode parses it (src/runtime/flags.ts, globals.ts,
// signals.ts, log.ts): every form containerd, CRI-O and conmon send, pure, without root.
import { describe, expect, test } from "bun:test";
import { parseFlags, type FlagSpec } from "../../src/runtime/flags";
import { defaultRoot, parseGlobals } from "../../src/runtime/globals";
import { parseSignal } from "../../src/runtime/signals";
import { logLine, logTime } from "../../src/runtime/log";
import { VERBS, runtimeMain } from "../../src/runtime/cli";

const SPEC: FlagSpec = { force: { kind: "bool", aliases: ["f"] }, format: { kind: "string" }, env: { kind: "list", aliases: ["e"] } };

describe("flags, as Go's flag package reads them", () => {
  test("-f and --f, --f V and --f=V, booleans with =false, lists repeat", () => {
    expect(parseFlags(["-f", "--format", "json", "id"], SPEC)).toEqual({ flags: { force: true, format: "json" }, args: ["id"] });
    expect(parseFlags(["--force=false", "-format=table", "id"], SPEC)).toEqual({ flags: { force: false, format: "table" }, args: ["id"] });
    expect(parseFlags(["-e", "A=1", "--env=B=2", "id"], SPEC).flags.env).toEqual(["A=1", "B=2"]);
  });

  test("interleaved (urfave's reordering): flags after positional arguments still count", () => {
    expect(parseFlags(["id", "9", "--force"], SPEC)).toEqual({ flags: { force: true }, args: ["id", "9"] });
  });

  test("not interleaved (exec, run): the first positional argument ends the flags", () => {
    expect(parseFlags(["-e", "A=1", "id", "ls", "-f", "--format"], SPEC, false)).toEqual({ flags: { env: ["A=1"] }, args: ["id", "ls", "-f", "--format"] });
  });

  test("-- ends the flags; a lone - is an argument", () => {
    expect(parseFlags(["--", "-f"], SPEC).args).toEqual(["-f"]);
    expect(parseFlags(["-", "x"], SPEC).args).toEqual(["-", "x"]);
  });

  test("Go's errors: an unknown flag, a missing value, a bad boolean", () => {
    expect(() => parseFlags(["--bogus", "id"], SPEC)).toThrow("flag provided but not defined: -bogus");
    expect(() => parseFlags(["--format"], SPEC)).toThrow("flag needs an argument: -format");
    expect(() => parseFlags(["--force=maybe"], SPEC)).toThrow('invalid boolean value "maybe" for -force');
  });
});

describe("global flags", () => {
  test("containerd's: --root, --log, --log-format json, --systemd-cgroup, then the verb", () => {
    const g = parseGlobals(["--root", "/run/x", "--log=/b/log.json", "--log-format", "json", "--systemd-cgroup", "create", "--bundle", "/b", "c1"], {}, 0);
    expect(g.globals).toEqual({ root: "/run/x", log: "/b/log.json", logFormat: "json", systemdCgroup: true, debug: false });
    expect(g.rest).toEqual(["create", "--bundle", "/b", "c1"]);
  });

  test("CRI-O's --root=DIR; --debug; --criu names CRIU; accepted without effect: --rootless", () => {
    const g = parseGlobals(["--root=/r", "--rootless", "false", "--criu", "/x", "--debug", "state", "c"], {}, 0);
    expect([g.globals.root, g.globals.debug, g.globals.criu, g.rest]).toEqual(["/r", true, "/x", ["state", "c"]]);
  });

  test("podman passes no --root: /run/tsd-runc for root, $XDG_RUNTIME_DIR/tsd-runc otherwise", () => {
    expect(parseGlobals(["list"], {}, 0).globals.root).toBe("/run/tsd-runc");
    expect(defaultRoot(1000, { XDG_RUNTIME_DIR: "/run/user/1000" })).toBe("/run/user/1000/tsd-runc");
    expect(defaultRoot(1000, {})).toBe("/tmp/tsd-runc-1000");
  });

  test("a bad --log-format and an empty --root are refused", () => {
    expect(() => parseGlobals(["--log-format", "xml", "list"], {}, 0)).toThrow("invalid log-format: xml");
    expect(() => parseGlobals(["--root=", "list"], {}, 0)).toThrow("--root must not be empty");
  });

  test("--version and --help are flags before any verb", () => {
    expect(parseGlobals(["--version"], {}, 0).version).toBe(true);
    expect(parseGlobals(["-h"], {}, 0).help).toBe(true);
  });
});

describe("signals (kill)", () => {
  test("numbers, names with and without SIG, any case", () => {
    expect([parseSignal("15"), parseSignal("9"), parseSignal("KILL"), parseSignal("SIGTERM"), parseSignal("hup"), parseSignal("sigusr1")]).toEqual([15, 9, 9, 15, 1, 10]);
    expect([parseSignal("WINCH"), parseSignal("CHLD"), parseSignal("IOT")]).toEqual([28, 17, 6]);
  });

  test("real-time signals: RTMIN, RTMIN+N, SIGRTMAX-N", () => {
    expect([parseSignal("RTMIN"), parseSignal("RTMIN+3"), parseSignal("SIGRTMAX-1"), parseSignal("64")]).toEqual([34, 37, 63, 64]);
  });

  test("unknown names and numbers out of range are refused", () => {
    expect(() => parseSignal("FOO")).toThrow('unknown signal "FOO"');
    expect(parseSignal("0")).toBe(0);
    expect(() => parseSignal("65")).toThrow("invalid signal: 65");
    expect(() => parseSignal("RTMAX+1")).toThrow("unknown signal");
  });
});

describe("log lines (runc's logrus)", () => {
  const when = new Date("2026-12-06T15:03:20.123Z");
  test("time in RFC3339 UTC to the second", () => {
    expect(logTime(when)).toBe("2026-12-06T15:03:20Z");
  });

  test("json: level, msg, time, in that order (containerd reads the last error line)", () => {
    expect(logLine("json", "error", 'container "c1" does not exist', logTime(when))).toBe('{"level":"error","msg":"container \\"c1\\" does not exist","time":"2026-12-06T15:03:20Z"}');
  });

  test("text: time=… level=… msg=…, values quoted", () => {
    expect(logLine("text", "error", "container not running", logTime(when))).toBe('time="2026-12-06T15:03:20Z" level=error msg="container not running"');
  });
});

const NO_CRIU = "checkpoint/restore need CRIU: --criu /nonexistent/criu: no such file (install it: apt-get install criu, CRIU 4.1 or later on kernels 6.13+; or name the binary with tsd-runc --criu PATH)";

describe("the verb table", () => {
  test("runc's verbs are all there", () => {
    for (const v of ["create", "start", "run", "state", "list", "kill", "delete", "ps", "pause", "resume", "update", "exec", "features", "spec", "checkpoint", "restore"]) {
      expect(VERBS[v]).toBeDefined();
    }
  });

  test("an unknown verb and a checkpoint without CRIU: one error, exit 1", async () => {
    const dir = `/tmp/tsd-unit-runtime-${process.pid}`;
    const log = `${dir}.log`;
    const writes: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
    try {
      expect(await runtimeMain(["--root", dir, "--log", log, "--log-format", "json", "frobnicate"])).toBe(1);
      expect(await runtimeMain(["--root", dir, "--log", log, "--log-format", "json", "--criu", "/nonexistent/criu", "restore", "--image-path", "/", "c1"])).toBe(1);
    } finally {
      process.stderr.write = write;
    }
    expect(writes).toEqual([`unknown command "frobnicate" (see 'tsd-runc --help')\n`, `${NO_CRIU}\n`]);
    const lines = (await Bun.file(log).text()).trim().split("\n").map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([["error", `unknown command "frobnicate" (see 'tsd-runc --help')`], ["error", NO_CRIU]]);
    await Bun.file(log).delete();
  });
});
