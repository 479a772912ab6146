import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { startContainer } from "../container/restart";
import { checkOnHost } from "../container/host-gate";

const flags = {
  attach: { kind: "bool", short: "a", description: "Attach STDOUT/STDERR and forward signals" },
  interactive: { kind: "bool", short: "i", description: "Attach container's STDIN" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "start", description: "Start one or more stopped containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("start", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd start" requires at least 1 argument: CONTAINER...`);
    const attach = f.attach || f.interactive;
    if (attach && positionals.length > 1) throw new UsageError("you cannot start and attach multiple containers at once");
    const { root, db } = context();
    checkOnHost(db, root, "start", positionals);
    if (attach) {
      process.exitCode = await startContainer(db, root, positionals[0]!, { attach: true, interactive: f.interactive });
      return;
    }
    // Docker's CLI: a start that failed (a missing command too) is status 1.
    await eachRef(positionals, async (ref) => {
      await startContainer(db, root, ref, { attach: false, interactive: false });
    });
  },
});
