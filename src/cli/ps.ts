import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { listContainers, type ContainerRow } from "../container/store";
import { isRunning, reconcile, shownState } from "../container/state";
import { humanDuration, table } from "../format";
import { findImage } from "../image/store";
import { renderTemplate } from "../image/inspect";
import { networksText, portsText } from "../network/attach";
import type { Database } from "bun:sqlite";
import { decodeOptions } from "../container/options";
import { labelMatches } from "../container/meta-options";

const flags = {
  all: { kind: "bool", short: "a", description: "Show all containers (default shows just running)" },
  quiet: { kind: "bool", short: "q", description: "Only display container IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  filter: { kind: "list", short: "f", description: "Filter output (status=, name=, id=, ancestor=, label=KEY[=VALUE])", valueHint: "KEY=VALUE" },
  format: { kind: "string", description: "Format output: 'json', 'table' or a template ('{{.ID}} {{.Names}}')", valueHint: "FORMAT" },
} satisfies FlagSpec;

export function statusText(row: ContainerRow, now: number, root?: string): string {
  const state = shownState(row, root);
  if (state === "running") return `Up ${humanDuration(now - (row.started_at ?? row.created_at))}`;
  if (state === "created") return "Created";
  const word = state === "restarting" ? "Restarting" : "Exited";
  return `${word} (${row.exit_code ?? -1}) ${humanDuration(now - (row.finished_at ?? now))} ago`;
}

const FILTER_KEYS = ["status", "name", "id", "ancestor", "label"] as const;
type FilterKey = (typeof FILTER_KEYS)[number];

/** Docker's --filter: the same key ORs, different keys AND. */
export function parseFilters(list: string[]): Map<FilterKey, string[]> {
  const out = new Map<FilterKey, string[]>();
  for (const f of list) {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq) as FilterKey;
    if (eq < 1 || !FILTER_KEYS.includes(key)) throw new UsageError(`invalid filter "${f}": use status=, name=, id=, ancestor= or label=`);
    const value = f.slice(eq + 1);
    if (key === "status" && !["created", "restarting", "running", "removing", "paused", "exited", "dead"].includes(value)) {
      throw new UsageError(`invalid filter "${f}": status is one of created, restarting, running, removing, paused, exited, dead`);
    }
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

function matches(db: Database, root: string, row: ContainerRow, filters: Map<FilterKey, string[]>): boolean {
  for (const [key, values] of filters) {
    // Docker: every label filter must match (the other keys OR their values).
    if (key === "label") {
      const labels = decodeOptions(row.options).labels ?? {};
      if (!values.every((v) => labelMatches(labels, v))) return false;
      continue;
    }
    const ok = values.some((v) => {
      switch (key) {
        case "status":
          return shownState(row, root) === v;
        case "name":
          // Docker matches a regular expression anywhere in the name.
          try {
            return new RegExp(v).test(row.name);
          } catch {
            return row.name.includes(v);
          }
        case "id":
          return row.id.startsWith(v);
        case "ancestor": {
          const image = findImage(db, v);
          return row.image_ref === v || (image !== undefined && image.id === row.image_id);
        }
      }
    });
    if (!ok) return false;
  }
  return true;
}

export default defineCommand({
  meta: { name: "ps", description: "List containers" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("ps", flags, rawArgs);
    const filters = parseFilters(f.filter);
    if (f.format !== undefined && f.format !== "json" && f.format !== "table" && !f.format.includes("{{")) {
      throw new UsageError(`unsupported --format "${f.format}": use json, table or a template like '{{.ID}} {{.Names}}'`);
    }
    const { root, db } = context();
    reconcile(db, root);
    const now = Date.now();
    const showAll = f.all || filters.has("status");
    const rows = listContainers(db).filter((r) => (showAll || isRunning(r)) && matches(db, root, r, filters));
    const id = (r: ContainerRow) => (f["no-trunc"] ? r.id : r.id.slice(0, 12));
    if (f.quiet) {
      if (rows.length) console.log(rows.map(id).join("\n"));
      return;
    }
    const cmd = (r: ContainerRow) => {
      const s = (JSON.parse(r.command) as string[]).join(" ");
      return JSON.stringify(f["no-trunc"] || s.length <= 20 ? s : `${s.slice(0, 19)}…`);
    };
    const record = (r: ContainerRow) => ({
      Command: cmd(r), CreatedAt: new Date(r.created_at).toISOString(), ID: id(r), Image: r.image_ref, Labels: "", LocalVolumes: "0",
      Mounts: "", Names: r.name, Networks: networksText(db, r.id), Ports: portsText(db, r.id), RunningFor: `${humanDuration(now - r.created_at)} ago`, Size: "", State: shownState(r, root), Status: statusText(r, now, root),
    });
    if (f.format === "json") {
      for (const r of rows) console.log(JSON.stringify(record(r)));
      return;
    }
    if (f.format !== undefined && f.format.includes("{{")) {
      // Docker's "table " prefix adds a header; we print the rows only, one line per container.
      const tpl = f.format.replace(/^table\s+/, "").replaceAll("\\t", "\t");
      for (const r of rows) console.log(renderTemplate(tpl, record(r)));
      return;
    }
    console.log(
      table(
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        rows.map((r) => [id(r), r.image_ref, cmd(r), `${humanDuration(now - r.created_at)} ago`, statusText(r, now, root), portsText(db, r.id), r.name]),
      ),
    );
  },
});
