// `list`: the containers under --root, as runc's table (tabwriter, 12 wide, padding 3), its
// JSON (an array of OCI states, `null` when there are none: runc's) or their ids (-q).
import { readdirSync } from "node:fs";
import { bool, FlagError, parseFlags, str } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { ociState, readRecord, type RuntimeRecord } from "./state-dir";

interface Row {
  id: string;
  pid: number;
  status: string;
  bundle: string;
  created: string;
  owner: string;
}

function records(root: string): RuntimeRecord[] {
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    return [];
  }
  const out: RuntimeRecord[] = [];
  for (const id of names) {
    try {
      out.push(readRecord(root, id));
    } catch {
      // Being created (no state.json yet), or not a container's directory.
    }
  }
  return out;
}

/** Go's tabwriter with runc's settings (minwidth 12, padding 3, blanks). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(12, widths[i]! + 3)))).join("")).join("\n") + "\n";
}

export function listTable(rows: Row[]): string {
  const head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];
  return table([head, ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])]);
}

export async function listCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { format: { kind: "string", aliases: ["f"] }, quiet: { kind: "bool", aliases: ["q"] } });
  const format = str(p, "format") ?? "table";
  if (format !== "table" && format !== "json") throw new FlagError(`invalid format option: ${format}`);
  const states = records(g.root).map((r) => ociState(g.root, r) as Row);
  if (bool(p, "quiet")) process.stdout.write(states.map((s) => `${s.id}\n`).join(""));
  else if (format === "json") process.stdout.write(`${states.length === 0 ? "null" : JSON.stringify(states)}\n`);
  else process.stdout.write(listTable(states));
  return 0;
}
