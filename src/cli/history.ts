import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { findImage, layerSize } from "../image/store";
import { humanDuration, humanSize, table } from "../format";
import { TsdError } from "../errors";

const flags = {
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  quiet: { kind: "bool", short: "q", description: "Only show image IDs" },
  human: { kind: "bool", short: "H", description: "Print sizes and dates in human readable format (default true)" },
  format: { kind: "string", description: "Format output: 'json' or 'table'", valueHint: "FORMAT" },
} satisfies FlagSpec;

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
    if (f.format && f.format !== "json" && f.format !== "table") throw new UsageError(`unsupported --format "${f.format}": use json or table`);
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
    if (f.format === "json") {
      rows.forEach(({ h, size }, i) =>
        console.log(JSON.stringify({ ID: id(i), CreatedAt: h.created ?? "", CreatedBy: h.created_by ?? "", Size: humanSize(size), Comment: h.comment ?? "" })),
      );
      return;
    }
    console.log(
      table(
        ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        rows.map(({ h, size }, i) => [
          id(i),
          h.created ? `${humanDuration(Date.now() - Date.parse(h.created))} ago` : "N/A",
          createdBy(h.created_by ?? ""),
          humanSize(size),
          h.comment ?? "",
        ]),
      ),
    );
  },
});
