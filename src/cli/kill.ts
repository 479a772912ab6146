import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { killContainer } from "../container/kill";
import { signalNumber } from "../container/lifecycle";
import { checkOnHost } from "../container/host-gate";

const flags = {
  signal: { kind: "string", short: "s", description: 'Signal to send to the container (default "KILL")', valueHint: "SIGNAL" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "kill", description: "Kill one or more running containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("kill", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd kill" requires at least 1 argument: CONTAINER...`);
    const sig = signalNumber(f.signal ?? "KILL");
    if (sig === undefined) throw new UsageError(`invalid signal "${f.signal}": use a name like SIGTERM or HUP, or a number`);
    const { root, db } = context();
    checkOnHost(db, root, "kill", positionals);
    await eachRef(positionals, (ref) => killContainer(db, root, ref, sig));
  },
});
