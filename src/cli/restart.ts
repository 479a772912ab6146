import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { restartContainer } from "../container/restart";

const flags = {
  time: { kind: "string", short: "t", description: "Seconds to wait before killing the container (default: its --stop-timeout, else 10)", valueHint: "SECONDS" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "restart", description: "Restart one or more containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("restart", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd restart" requires at least 1 argument: CONTAINER...`);
    const t = f.time;
    if (t !== undefined && !/^\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "-t, --time": a whole number of seconds`);
    const { root, db } = context();
    await eachRef(positionals, (ref) => restartContainer(db, root, ref, t === undefined ? undefined : Number(t)));
  },
});
