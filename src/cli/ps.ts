import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { listContainers, type ContainerRow } from "../container/store";
import { isRunning } from "../container/remove";
import { humanDuration, table } from "../format";

const flags = {
  all: { kind: "bool", short: "a", description: "Show all containers (default shows just running)" },
  quiet: { kind: "bool", short: "q", description: "Only display container IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  format: { kind: "string", description: "Format output: 'json' or 'table'", valueHint: "FORMAT" },
} satisfies FlagSpec;

export function statusText(row: ContainerRow, now: number): string {
  if (isRunning(row)) return `Up ${humanDuration(now - (row.started_at ?? row.created_at))}`;
  if (row.state === "created") return "Created";
  return `Exited (${row.exit_code ?? -1}) ${humanDuration(now - (row.finished_at ?? now))} ago`;
}

export default defineCommand({
  meta: { name: "ps", description: "List containers" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("ps", flags, rawArgs);
    const { db } = context();
    const now = Date.now();
    const rows = listContainers(db).filter((r) => f.all || isRunning(r));
    const id = (r: ContainerRow) => (f["no-trunc"] ? r.id : r.id.slice(0, 12));
    if (f.quiet) {
      if (rows.length) console.log(rows.map(id).join("\n"));
      return;
    }
    const cmd = (r: ContainerRow) => {
      const s = (JSON.parse(r.command) as string[]).join(" ");
      return JSON.stringify(f["no-trunc"] || s.length <= 20 ? s : `${s.slice(0, 19)}…`);
    };
    if (f.format === "json") {
      for (const r of rows) console.log(JSON.stringify({ ID: id(r), Image: r.image_ref, Command: cmd(r), Status: statusText(r, now), Names: r.name, State: isRunning(r) ? "running" : r.state }));
      return;
    }
    console.log(
      table(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        rows.map((r) => [id(r), r.image_ref, cmd(r), `${humanDuration(now - r.created_at)} ago`, statusText(r, now), "", r.name]),
      ),
    );
  },
});
