import { defineCommand } from "citty";
import { context } from "./context";
import { parseFlags } from "./flags";
import { UsageError } from "./globals";
import { cleanupContainer } from "../container/cleanup";

const cleanup = defineCommand({
  meta: { name: "cleanup", description: "Record a container's exit and release what it held (run by its monitor)", hidden: true },
  run({ rawArgs }) {
    const { positionals } = parseFlags("container cleanup", {}, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd container cleanup" requires exactly 1 argument: ID`);
    const { root, db } = context();
    cleanupContainer(db, root, positionals[0]!);
  },
});

export default defineCommand({
  meta: { name: "container", description: "Manage containers" },
  subCommands: { cleanup },
});
