import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { pauseContainer } from "../container/pause";

const flags = {} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "pause", description: "Pause all processes within one or more containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { positionals } = parseFlags("pause", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd pause" requires at least 1 argument: CONTAINER...`);
    const { root, db } = context();
    await eachRef(positionals, async (ref) => {
      await pauseContainer(db, root, ref);
    });
  },
});
