import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { mustFind, signalContainer, signalNumber, waitForMonitor } from "../container/ops";
import { markStoppedByUser } from "../container/restart";

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
    let failed = 0;
    for (const ref of positionals) {
      try {
        const row = mustFind(db, root, ref);
        markStoppedByUser(root, row.id);
        signalContainer(row, sig);
        // As Docker: after SIGKILL the command returns once the container is no longer
        // running (its exit recorded), so the next command sees it exited.
        if (sig === 9) await waitForMonitor(row, 10000);
        console.log(ref);
      } catch (e) {
        failed++;
        process.stderr.write(`tsd: ${(e as Error).message}\n`);
      }
    }
    if (failed > 0) process.exitCode = 1;
  },
});
