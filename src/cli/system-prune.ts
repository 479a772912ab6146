// `tsd system prune [-a] [--volumes] [-f] [--filter until=|label=]`: Docker 20.10's output.
// Without -f it asks as Docker does (its WARNING, then "[y/N]" read from stdin, a pipe too):
// unlike the one-domain prunes, this one removes across every domain (volumes' data with
// --volumes), and a script written for docker passes -f or answers on stdin already.
import { defineCommand } from "./command";
import { readSync } from "node:fs";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { humanSize } from "../format";
import { parseTimeArg } from "../container/logs";
import { pruneWarning, systemPrune, type PruneReport } from "../system/prune";

const flags = {
  all: { kind: "bool", short: "a", description: "Remove all unused images not just dangling ones" },
  volumes: { kind: "bool", description: "Prune volumes" },
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation" },
  filter: { kind: "list", description: "Provide filter values (e.g. 'label=<key>=<value>')", valueHint: "FILTER" },
} satisfies FlagSpec;

/** One line from stdin (up to 1 KiB), without blocking on more than it needs. */
function readAnswer(): string {
  const buf = Buffer.alloc(1);
  let line = "";
  for (let i = 0; i < 1024; i++) {
    let n = 0;
    try {
      n = readSync(0, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      return line;
    }
    if (n === 0 || buf[0] === 0x0a) return line;
    line += String.fromCharCode(buf[0]!);
  }
  return line;
}

/** Docker's report: each non-empty section followed by a blank line, then the total. */
export function pruneText(r: PruneReport): string {
  const out: string[] = [];
  if (r.containers.length) out.push(`Deleted Containers:\n${r.containers.join("\n")}\n`);
  if (r.networks.length) out.push(`Deleted Networks:\n${r.networks.join("\n")}\n`);
  if (r.volumes.length) out.push(`Deleted Volumes:\n${r.volumes.join("\n")}\n`);
  if (r.deleted.length) out.push(`Deleted Images:\n${[...r.untagged.map((u) => `untagged: ${u}`), ...r.deleted.map((d) => `deleted: ${d}`)].join("\n")}\n`);
  out.push(`Total reclaimed space: ${humanSize(r.reclaimed)}`);
  return out.join("\n") + "\n";
}

export default defineCommand({
  meta: { name: "prune", description: "Remove unused data" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("system prune", flags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd system prune" accepts no arguments`);
    const now = Date.now();
    const o = { all: f.all, volumes: f.volumes, filters: f.filter, now, parseTime: (t: string) => parseTimeArg("filter until", t, now) };
    if (!f.force) {
      process.stdout.write(pruneWarning(o));
      if (!/^y$/i.test(readAnswer().trim())) return;
    }
    const { root, db } = context();
    process.stdout.write(pruneText(systemPrune(db, root, o)));
  },
});
