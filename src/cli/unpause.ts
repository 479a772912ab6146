import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { unpauseContainer } from "../container/pause";

const flags = {} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "unpause", description: "Unpause all processes within one or more containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { positionals } = parseFlags("unpause", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd unpause" requires at least 1 argument: CONTAINER...`);
    const { root, db } = context();
    await eachRef(positionals, async (ref) => {
      await unpauseContainer(db, root, ref);
    });
  },
});
