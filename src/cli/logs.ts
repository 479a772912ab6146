import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { mustFind } from "../container/resolve";
import { logPath, parseTimeArg, showLogs } from "../container/logs";
import { isRunning } from "../container/state";
import { containerById } from "../container/store";
import { decodeOptions } from "../container/options";
import { checkLogsReadable } from "../container/meta-options";

const flags = {
  follow: { kind: "bool", short: "f", description: "Follow log output (ends when the container exits)" },
  tail: { kind: "string", short: "n", description: 'Number of lines to show from the end of the logs (default "all")', valueHint: "N" },
  timestamps: { kind: "bool", short: "t", description: "Show timestamps" },
  since: { kind: "string", description: "Show logs since timestamp or relative (e.g. 42m)", valueHint: "TIME" },
  until: { kind: "string", description: "Show logs before a timestamp or relative (e.g. 42m)", valueHint: "TIME" },
  details: { kind: "bool", description: "Show extra details (none with the json-file log)" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "logs", description: "Fetch the logs of a container" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("logs", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd logs" requires exactly 1 argument: CONTAINER`);
    let tail: number | undefined;
    if (f.tail !== undefined && f.tail !== "all") {
      if (!/^\d+$/.test(f.tail)) throw new UsageError(`invalid --tail "${f.tail}": use a number of lines or "all"`);
      tail = Number(f.tail);
    }
    const now = Date.now();
    const since = f.since === undefined ? undefined : parseTimeArg("since", f.since, now);
    const until = f.until === undefined ? undefined : parseTimeArg("until", f.until, now);
    const { root, db } = context();
    const row = mustFind(db, root, positionals[0]!);
    checkLogsReadable(decodeOptions(row.options));
    await showLogs(logPath(root, row.id), {
      ...(tail !== undefined ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      timestamps: f.timestamps,
      follow: f.follow,
      running: () => {
        const now = containerById(db, row.id);
        return now !== undefined && isRunning(now);
      },
    });
  },
});
