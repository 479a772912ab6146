// tsd: the CLI entry. Global flags first (`--root`, `--debug`), then one command per file in
// src/cli/ (citty's CommandDef; run by cli/command.ts, citty renders the top-level help).
import pkg from "../package.json";
import { BrokenPipe, EXIT_BROKEN_PIPE, EXIT_ENGINE, TsdError } from "./errors";
import { globals, splitGlobals, setGlobals, UsageError } from "./cli/globals";
import { basename } from "node:path";
import { commands } from "./cli/commands";
import { defineCommand, runCommand } from "./cli/command";
import { HelpRequested } from "./cli/flags";
import { dockerHelp, subCommand } from "./cli/help";
import { isatty, printLine } from "./io";
import { commandPath, engineErrorStatus } from "./cli/exit-status";
import { NeedsNamespace, rootlessMode, rootlessPaths } from "./store/rootless";

/** The command being run (for its error statuses: cli/exit-status.ts). */
let command = "";

const main = defineCommand({
  meta: { name: "tsd", version: pkg.version, description: "A daemonless container engine" },
  subCommands: commands,
});

/** runc's command line (issue 12, src/runtime/cli.ts): `tsd runtime …`, or the binary called
 *  through a link named `tsd-runc` (process.argv0 is the name it was called by; argv[1] is
 *  the bundle's own path in a compiled binary). Before citty and the engine's globals. */
function runtimeArgv(): string[] | undefined {
  const args = process.argv.slice(2);
  if (basename(process.argv0) === "tsd-runc") return args;
  return args[0] === "runtime" ? args.slice(1) : undefined;
}

async function entry(): Promise<void> {
  const runtimeArgs = runtimeArgv();
  if (runtimeArgs) {
    const { runtimeMain } = await import("./runtime/cli");
    process.exit(await runtimeMain(runtimeArgs));
  }
  // One stdout writer (src/io.ts): a closed reader ends any command with 141, quietly.
  console.log = printLine;
  // Also when the write happens in a callback (a timer, a stream's handler).
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  try {
    // A non-root user's default root is its own even before it enters its namespace (`tsd version`).
    const uid = process.geteuid?.() ?? 0;
    const { globals, rest } = splitGlobals(process.argv.slice(2), process.env, rootlessMode()?.paths.data ?? (uid !== 0 ? rootlessPaths(process.env, uid).data : undefined));
    setGlobals(globals);
    if (rest[0] === "--version" || rest[0] === "-v" || (rest[0] === "version" && rest.length === 1)) {
      const { versionLine } = await import("./cli/version");
      console.log(versionLine(globals.root));
      return;
    }
    // `tsd help run`, `tsd help container ls`: the command's own --help (Docker's `help`).
    if (rest[0] === "help" && rest.length > 1) rest.splice(0, rest.length, ...rest.slice(1).filter((a) => !a.startsWith("-")), "--help");
    const [name, ...args] = rest;
    command = commandPath(rest);
    if (!name || name === "--help" || name === "-h" || name === "help") {
      const { renderUsage } = await import("citty");
      printUsage(await renderUsage(main));
      return;
    }
    const load = commands[name];
    if (!load) throw new UsageError(`unknown command "${name}" (see 'tsd --help')`);
    // Rootless (issue 13): a non-root user's tsd re-execs as root in the user's own namespaces.
    // The hot commands stay on the host (the fast path) while the pause process lives.
    if (process.geteuid?.() !== 0) {
      const { enterRootless, stayOnHost } = await import("./system/rootless-enter");
      if (!stayOnHost(name, globals.root, process.env, args)) enterRootless(process.argv.slice(2));
    }
    const cmd = await load();
    if (cmd.subCommands && !(await subCommand(cmd, args))) {
      // `tsd network`, `tsd volume --help`: the group's commands, as docker prints them.
      const bad = args.find((a) => !a.startsWith("-"));
      if (bad) throw new UsageError(`unknown command "${name} ${bad}" (see 'tsd ${name} --help')`);
      printUsage(await dockerHelp(cmd, [name]));
      return;
    }
    try {
      await runCommand(cmd, args);
    } catch (err) {
      if (!(err instanceof HelpRequested)) throw err;
      const sub = await subCommand(cmd, args);
      printUsage(sub ? await dockerHelp(sub[0], [name, sub[1]]) : await dockerHelp(cmd, [name]));
    }
  } catch (err) {
    // The fast path met something that needs root in the user's namespaces: start over there.
    if (err instanceof NeedsNamespace) {
      if (process.env.TSD_DEBUG) console.error(`tsd: rootless: into the namespace: ${err.message}`);
      const { enterRootless } = await import("./system/rootless-enter");
      enterRootless(process.argv.slice(2));
    }
    fail(err);
  }
}

/** citty colours its help: plain text when stdout is not a terminal (a pipe, a file) or NO_COLOR is set. */
function printUsage(text: string): void {
  const colour = isatty(1) && !process.env.NO_COLOR;
  console.log(colour ? text : text.replace(/\x1b\[[0-9;]*m/g, ""));
}

/** --debug (or TSD_DEBUG): an unexpected error prints its stack after the one line. */
function debugging(): boolean {
  if (process.env.TSD_DEBUG) return true;
  try {
    return globals().debug;
  } catch {
    return false;
  }
}

function rootDir(): string {
  try {
    return globals().root;
  } catch {
    return "(unknown)";
  }
}

/** A full disk, wherever it was met (a write, SQLite's "database or disk is full"). */
export function diskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "ENOSPC" || e?.code === "SQLITE_FULL" || /no space left on device|database or disk is full/i.test(String(e?.message ?? ""));
}

export function fail(err: unknown): never {
  if (err instanceof BrokenPipe || (err as NodeJS.ErrnoException | undefined)?.code === "EPIPE") process.exit(EXIT_BROKEN_PIPE);
  if (!(err instanceof TsdError) && diskFull(err)) {
    const path = (err as { path?: unknown }).path;
    const where = typeof path === "string" ? `writing ${path}` : `on the device of the root dir ${rootDir()}`;
    process.stderr.write(`tsd: no space left ${where}: free space there${typeof path === "string" ? "" : ", or move the root (--root DIR or TSD_ROOT)"}\n`);
    process.exit(engineErrorStatus(command, EXIT_ENGINE));
  }
  if (err instanceof TsdError || err instanceof UsageError) {
    process.stderr.write(`tsd: ${err.message}\n`);
    process.exit(err instanceof TsdError ? engineErrorStatus(command, err.exitCode) : EXIT_ENGINE);
  }
  process.stderr.write(`tsd: ${err instanceof Error ? err.message : String(err)}\n`);
  if (debugging() && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(engineErrorStatus(command, EXIT_ENGINE));
}

await entry();
