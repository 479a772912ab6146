// tsd as an OCI runtime: runc's command line (`tsd runtime VERB …`, or the binary called as
// `tsd-runc`), for containerd's shim, CRI-O, conmon (podman) and dockerd. Every verb is loaded
// on demand: `state`, `kill`, `--version` load no image or database code. An error is one line
// on stderr plus runc's log line in --log, and exit 1 (log.ts), whatever the verb.
import pkg from "../../package.json";
import { parseGlobals, type RuntimeGlobals } from "./globals";
import { TsdError } from "../errors";
import { EXEC_FAILED } from "./flags";
import { logError, type LogTarget } from "./log";

/** A verb: its own arguments after the verb name; resolves to the exit status. */
export type Verb = (g: RuntimeGlobals, argv: string[]) => Promise<number>;

interface VerbEntry {
  summary: string;
  usage: string;
  load: () => Promise<Verb>;
}

export const SPEC_VERSION = "1.3.0";

export const VERBS: Record<string, VerbEntry> = {
  create: { summary: "create a container", usage: "create [--bundle B] [--pid-file P] [--console-socket S] <container-id>", load: () => import("./create").then((m) => m.createCommand) },
  start: { summary: "executes the user defined process in a created container", usage: "start <container-id>", load: () => import("./start").then((m) => m.startCommand) },
  run: { summary: "create and run a container", usage: "run [--bundle B] [--detach] <container-id>", load: () => import("./run").then((m) => m.runCommand) },
  state: { summary: "output the state of a container", usage: "state <container-id>", load: () => import("./state").then((m) => m.stateCommand) },
  list: { summary: "lists containers started with the given root", usage: "list [--format table|json] [--quiet]", load: () => import("./list").then((m) => m.listCommand) },
  kill: { summary: "sends a signal (default: SIGTERM) to the container's init process", usage: "kill [--all] <container-id> [signal]", load: () => import("./kill").then((m) => m.killCommand) },
  delete: { summary: "delete any resources held by the container", usage: "delete [--force] <container-id>", load: () => import("./delete").then((m) => m.deleteCommand) },
  ps: { summary: "ps displays the processes running inside a container", usage: "ps [--format table|json] <container-id> [ps options]", load: () => import("./ps").then((m) => m.psCommand) },
  pause: { summary: "pause suspends all processes inside the container", usage: "pause <container-id>", load: () => import("./pause").then((m) => m.pauseCommand) },
  resume: { summary: "resumes all processes that have been previously paused", usage: "resume <container-id>", load: () => import("./pause").then((m) => m.resumeCommand) },
  update: { summary: "update container resource constraints", usage: "update [--resources FILE|-] [--memory N …] <container-id>", load: () => import("./update").then((m) => m.updateCommand) },
  exec: { summary: "execute new process inside the container", usage: "exec [--process FILE] [--detach] [--tty] <container-id> [command args…]", load: () => import("./exec").then((m) => m.execCommand) },
  features: { summary: "show the enabled features", usage: "features", load: () => import("./features").then((m) => m.featuresCommand) },
  install: { summary: "write DIR/tsd-runc, the runtime's front, running this tsd binary", usage: "install <dir>", load: () => import("./install").then((m) => m.installCommand) },
  spec: { summary: "create a new specification file", usage: "spec [--bundle B] [--rootless]", load: () => import("./spec").then((m) => m.specCommand) },
  checkpoint: { summary: "checkpoint a running container (CRIU)", usage: "checkpoint [--image-path P] [--work-path W] [--leave-running] [--pre-dump] <container-id>", load: () => import("./checkpoint").then((m) => m.checkpointCommand) },
  restore: { summary: "restore a container from a previous checkpoint (CRIU)", usage: "restore [--bundle B] [--image-path P] [--detach] [--pid-file F] <container-id>", load: () => import("./restore").then((m) => m.restoreCommand) },
};

export function versionText(): string {
  return `tsd-runc version ${pkg.version}\nspec: ${SPEC_VERSION}\n`;
}

export function usageText(): string {
  const width = Math.max(...Object.keys(VERBS).map((v) => v.length)) + 2;
  const verbs = Object.entries(VERBS).map(([v, e]) => `   ${v.padEnd(width)}${e.summary}`);
  return [
    "NAME:",
    "   tsd-runc - tsd as an OCI runtime (runc's command line)",
    "",
    "USAGE:",
    "   tsd-runc [global options] command [command options] [arguments...]",
    "   tsd runtime [global options] command [command options] [arguments...]",
    "",
    "COMMANDS:",
    ...verbs,
    "",
    "GLOBAL OPTIONS:",
    "   --root value        root directory for container state (default: /run/tsd-runc; $XDG_RUNTIME_DIR/tsd-runc for non-root)",
    "   --log value         the log file (default: stderr)",
    "   --log-format value  text (default) or json",
    "   --systemd-cgroup    cgroupsPath is systemd's slice:prefix:name",
    "   --debug             debug lines in the log",
    "   --criu value        the CRIU binary checkpoint and restore run (default: criu on PATH)",
    "",
  ].join("\n");
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** runc's command line; resolves to the exit status (errors: 1, exec's 255: runc's). */
export async function runtimeMain(argv: string[]): Promise<number> {
  let target: LogTarget = { format: "text", debug: false };
  try {
    const { globals, rest, help, version } = parseGlobals(argv, process.env, process.getuid?.() ?? 0);
    target = { file: globals.log, format: globals.logFormat, debug: globals.debug };
    if (version) {
      process.stdout.write(versionText());
      return 0;
    }
    const [verb, ...args] = rest;
    if (verb === undefined || help || verb === "help" || verb === "h") {
      process.stdout.write(usageText());
      return 0;
    }
    const entry = VERBS[verb];
    if (!entry) throw new Error(`unknown command "${verb}" (see 'tsd-runc --help')`);
    if (args[0] === "--help" || args[0] === "-h") {
      process.stdout.write(`USAGE:\n   tsd-runc ${entry.usage}\n`);
      return 0;
    }
    const run = await entry.load();
    return await run(globals, args);
  } catch (e) {
    logError(target, messageOf(e));
    if (target.debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    // exec's failures are runc's 255 (exec.ts); every other error 1.
    return e instanceof TsdError && e.exitCode === EXEC_FAILED ? EXEC_FAILED : 1;
  }
}
