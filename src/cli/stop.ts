import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { stopByRef } from "../container/stop";
import { checkOnHost } from "../container/host-gate";

const flags = {
  time: { kind: "string", short: "t", description: "Seconds to wait before killing the container (default: its --stop-timeout, else 10)", valueHint: "SECONDS" },
  signal: { kind: "string", short: "s", description: "Signal to send to the container", valueHint: "SIGNAL" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "stop", description: "Stop one or more running containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("stop", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd stop" requires at least 1 argument: CONTAINER...`);
    const t = f.time;
    if (t !== undefined && !/^-?\d+$/.test(t)) throw new UsageError(`invalid argument "${t}" for "-t, --time": a whole number of seconds`);
    const { root, db } = context();
    checkOnHost(db, root, "stop", positionals);
    // In parallel, as docker does: ten containers that ignore SIGTERM take 10 s, not 100.
    await eachRef(positionals, (ref) => stopByRef(db, root, ref, t === undefined ? undefined : Math.max(0, Number(t)), f.signal), { parallel: true });
  },
});
