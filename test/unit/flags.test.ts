import { describe, expect, test } from "bun:test";
import { HelpRequested, parseFlags } from "../../src/cli/flags";
import { runFlags } from "../../src/cli/run";
import { UsageError } from "../../src/cli/globals";
import { splitGlobals } from "../../src/cli/globals";

describe("parseFlags (pflag semantics)", () => {
  test("repeatable flags, clusters and stop at the image", () => {
    const { flags, positionals } = parseFlags("run", runFlags, ["--rm", "-it", "-e", "A=1", "-eB=2", "--env=C=3", "busybox", "ls", "-la", "--rm"], false);
    expect(flags.rm).toBe(true);
    expect(flags.interactive).toBe(true);
    expect(flags.tty).toBe(true);
    expect(flags.env).toEqual(["A=1", "B=2", "C=3"]);
    expect(positionals).toEqual(["busybox", "ls", "-la", "--rm"]);
  });
  test("-h is the hostname for run, --help asks for usage", () => {
    expect(parseFlags("run", runFlags, ["-h", "box", "img"], false).flags.hostname).toBe("box");
    expect(() => parseFlags("run", runFlags, ["--help"], false)).toThrow(HelpRequested);
    expect(() => parseFlags("ps", {}, ["-h"])).toThrow(HelpRequested);
  });
  test("a cluster ending in a value flag takes the rest or the next word", () => {
    expect(parseFlags("run", runFlags, ["-iw/tmp", "img"], false).flags.workdir).toBe("/tmp");
    expect(parseFlags("run", runFlags, ["-iw", "/srv", "img"], false).flags.workdir).toBe("/srv");
  });
  test("errors name the flag and the help", () => {
    expect(() => parseFlags("run", runFlags, ["--nope", "img"], false)).toThrow(/unknown flag: --nope \(see 'tsd run --help'\)/);
    expect(() => parseFlags("run", runFlags, ["-Q"], false)).toThrow(UsageError);
    expect(() => parseFlags("run", runFlags, ["--name"], false)).toThrow(/flag needs an argument: --name/);
    expect(() => parseFlags("run", runFlags, ["--rm=maybe", "img"], false)).toThrow(/expected true or false/);
  });
  test("-- ends flags", () => {
    expect(parseFlags("x", { all: { kind: "bool", short: "a", description: "" } }, ["--", "-a"]).positionals).toEqual(["-a"]);
  });
});

describe("splitGlobals", () => {
  test("--root before the command, TSD_ROOT otherwise", () => {
    expect(splitGlobals(["--root", "/x", "run", "--root", "y"], {})).toEqual({ globals: { root: "/x", debug: false }, rest: ["run", "--root", "y"] });
    expect(splitGlobals(["ps"], { TSD_ROOT: "/t" }).globals.root).toBe("/t");
    expect(splitGlobals(["ps"], {}).globals.root).toBe("/var/lib/tsd");
    expect(() => splitGlobals(["--root"], {})).toThrow(UsageError);
  });
});
