import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { findImage, layerSize } from "../image/store";
import { humanDuration, humanSize } from "../format";
import { context as formatContext, printList, type ListSpec } from "../format/list";
import { TsdError } from "../errors";

const flags = {
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  quiet: { kind: "bool", short: "q", description: "Only show image IDs" },
  human: { kind: "bool", short: "H", description: "Print sizes and dates in human readable format (default true)" },
  format: { kind: "string", description: "Pretty-print history using a Go template, or json", valueHint: "FORMAT" },
} satisfies FlagSpec;

/** Docker's history columns (historyContext's header map). */
const HISTORY_SPEC: ListSpec = {
  table: "{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
  headers: { ID: "IMAGE", CreatedSince: "CREATED", CreatedAt: "CREATED AT", CreatedBy: "CREATED BY", Size: "SIZE", Comment: "COMMENT" },
};

interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export default defineCommand({
  meta: { name: "history", description: "Show the history of an image" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("history", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd history" requires exactly 1 argument: tsd history [OPTIONS] IMAGE`);
    const { db } = context();
    const image = findImage(db, positionals[0]!);
    if (!image) throw new TsdError(`no such image: ${positionals[0]}`);
    const history = (image.config.history ?? []) as HistoryEntry[];
    // Entries that made a layer take the layers in order; the rest are 0 B (ENV, CMD …).
    let layer = 0;
    const rows = history.map((h) => {
      const size = h.empty_layer ? 0 : (layerSize(db, image.layers[layer++] ?? "") ?? 0);
      return { h, size };
    });
    rows.reverse();
    const id = (i: number) => (i === 0 ? (f["no-trunc"] ? `sha256:${image.id}` : image.id.slice(0, 12)) : "<missing>");
    if (f.quiet) {
      console.log(id(0));
      return;
    }
    const createdBy = (s: string) => (f["no-trunc"] || s.length <= 45 ? s : `${s.slice(0, 44)}…`);
    const contexts = rows.map(({ h, size }, i) =>
      formatContext("*formatter.historyContext", {
        ID: id(i),
        CreatedSince: h.created ? `${humanDuration(Date.now() - Date.parse(h.created))} ago` : "N/A",
        CreatedAt: h.created ? new Date(h.created).toISOString().replace(/\.\d+Z$/, "Z") : "",
        CreatedBy: createdBy(h.created_by ?? ""),
        Size: humanSize(size),
        Comment: h.comment ?? "",
      }),
    );
    printList(f.format, contexts, HISTORY_SPEC);
  },
});
