import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { containerById } from "../container/store";
import { sampleContainer, statsTargets } from "../container/stats";
import { statsRow, type StatsRow } from "../cgroup/stats";
import { context as formatContext, formatList, type ListSpec } from "../format/list";
import { TsdError } from "../errors";
import { stdout } from "../io";

const flags = {
  all: { kind: "bool", short: "a", description: "Show all containers (default shows just running)" },
  "no-stream": { kind: "bool", description: "Disable streaming stats and only pull the first result" },
  "no-trunc": { kind: "bool", description: "Do not truncate output" },
  format: { kind: "string", description: "Pretty-print stats using a Go template ('table {{.Name}}\\t{{.CPUPerc}}'), or json", valueHint: "FORMAT" },
} satisfies FlagSpec;

/** Docker's stats columns (statsContext's header map). */
const STATS_SPEC: ListSpec = {
  table: "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
  headers: {
    ID: "CONTAINER ID", Name: "NAME", Container: "CONTAINER", CPUPerc: "CPU %", MemUsage: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET I/O",
    BlockIO: "BLOCK I/O", PIDs: "PIDS",
  },
};

/** Docker samples once a second; the first row needs two samples for a CPU figure. */
const INTERVAL_MS = 1000;

const ZERO: StatsRow = { ID: "", Name: "", Container: "", CPUPerc: "0.00%", MemUsage: "0B / 0B", MemPerc: "0.00%", NetIO: "0B / 0B", BlockIO: "0B / 0B", PIDs: "0" };

export default defineCommand({
  meta: { name: "stats", description: "Display a live stream of container(s) resource usage statistics" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("stats", flags, rawArgs);
    // A template error shows before any sampling, as docker's does.
    formatList(f.format, [], STATS_SPEC);
    const { db, root } = context();
    const pick = () => statsTargets(db, root, positionals, Boolean(f.all));
    const stream = !f["no-stream"];
    let targets = pick();
    let previous = new Map(targets.map((t) => [t.row.id, sampleContainer(root, t.row)]));
    let stopped = false;
    process.once("SIGINT", () => {
      stopped = true;
    });
    for (;;) {
      await Bun.sleep(INTERVAL_MS);
      const rows = targets.map((t) => {
        const a = previous.get(t.row.id);
        const b = sampleContainer(root, t.row);
        previous.set(t.row.id, b);
        const r = a && b ? statsRow(t.row.id, t.row.name, t.asked, a, b) : { ...ZERO, ID: t.row.id.slice(0, 12), Name: t.row.name, Container: t.asked };
        if (f["no-trunc"]) r.ID = t.row.id;
        return r;
      });
      // On a terminal each refresh replaces the last, as docker stats does.
      const clear = stream && stdout.isTTY ? "\x1b[2J\x1b[H" : "";
      stdout.write(clear + formatList(f.format, rows.map((r) => formatContext("*formatter.statsContext", { ...r })), STATS_SPEC));
      if (!stream || stopped) return;
      if (positionals.length === 0) {
        // New containers join, exited ones leave, as in docker stats without arguments.
        targets = pick();
        previous = new Map(targets.map((t) => [t.row.id, previous.get(t.row.id) ?? sampleContainer(root, t.row)]));
      } else {
        targets = targets.map((t) => ({ ...t, row: containerById(db, t.row.id) ?? t.row }));
      }
    }
  },
});
