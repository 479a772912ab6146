import { defineCommand } from "./command";
import { context } from "./context";
import { parseFlags } from "./flags";
import { UsageError } from "./globals";
import { cleanupContainer } from "../container/cleanup";
import { maybeRestart } from "../container/restart";
import { cittyArgs, type FlagSpec } from "./flags";
import { pruneContainers } from "../container/prune";
import { humanSize } from "../format";

const pruneFlags = {
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation (tsd never prompts)" },
} satisfies FlagSpec;

const cleanup = defineCommand({
  meta: { name: "cleanup", description: "Record a container's exit and release what it held (run by its monitor)", hidden: true },
  async run({ rawArgs }) {
    const { positionals } = parseFlags("container cleanup", {}, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd container cleanup" requires exactly 1 argument: ID`);
    const { root, db } = context();
    cleanupContainer(db, root, positionals[0]!);
    // The monitor runs this at every exit: the restart policy is carried out here.
    await maybeRestart(db, root, positionals[0]!);
  },
});

const prune = defineCommand({
  meta: { name: "prune", description: "Remove all stopped containers" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    parseFlags("container prune", pruneFlags, rawArgs);
    const { root, db } = context();
    const { removed, bytes } = pruneContainers(db, root);
    if (removed.length) console.log(`Deleted Containers:\n${removed.join("\n")}\n`);
    console.log(`Total reclaimed space: ${humanSize(bytes)}`);
  },
});

export default defineCommand({
  meta: { name: "container", description: "Manage containers" },
  subCommands: {
    cleanup,
    prune,
    ls: () => import("./ps").then((m) => m.default),
    ps: () => import("./ps").then((m) => m.default),
    rm: () => import("./rm").then((m) => m.default),
    start: () => import("./start").then((m) => m.default),
    stop: () => import("./stop").then((m) => m.default),
    restart: () => import("./restart").then((m) => m.default),
    kill: () => import("./kill").then((m) => m.default),
    wait: () => import("./wait").then((m) => m.default),
    rename: () => import("./rename").then((m) => m.default),
    logs: () => import("./logs").then((m) => m.default),
    exec: () => import("./exec").then((m) => m.default),
    inspect: () => import("./inspect").then((m) => m.default),
    top: () => import("./top").then((m) => m.default),
    cp: () => import("./cp").then((m) => m.default),
    attach: () => import("./attach").then((m) => m.default),
    create: () => import("./create").then((m) => m.default),
    diff: () => import("./diff").then((m) => m.default),
    run: () => import("./run").then((m) => m.default),
    commit: () => import("./commit").then((m) => m.default),
    export: () => import("./export").then((m) => m.default),
    port: () => import("./port").then((m) => m.default),
    stats: () => import("./stats").then((m) => m.default),
    update: () => import("./update").then((m) => m.default),
    list: () => import("./ps").then((m) => m.default),
    remove: () => import("./rm").then((m) => m.default),
    pause: () => import("./pause").then((m) => m.default),
    unpause: () => import("./unpause").then((m) => m.default),
  },
});
