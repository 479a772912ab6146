import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { listImages } from "../image/store";
import { familiarRepository, parseReference } from "../image/reference";
import { humanDuration, humanSize, table } from "../format";

const flags = {
  quiet: { kind: "bool", short: "q", description: "Only show image IDs" },
  "no-trunc": { kind: "bool", description: "Don't truncate output" },
  format: { kind: "string", description: "Format output: 'json' or 'table'", valueHint: "FORMAT" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "images", description: "List images" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("images", flags, rawArgs);
    const { db } = context();
    const rows = listImages(db).flatMap(({ image, tags }) => {
      const id = f["no-trunc"] ? `sha256:${image.id}` : image.id.slice(0, 12);
      const created = image.created ? `${humanDuration(Date.now() - Date.parse(image.created))} ago` : "N/A";
      const base = { id, created, size: humanSize(image.size), fullId: image.id };
      if (tags.length === 0) return [{ ...base, repository: "<none>", tag: "<none>" }];
      return tags.map((t) => {
        const ref = parseReference(t);
        return { ...base, repository: familiarRepository(ref), tag: ref.tag ?? "<none>" };
      });
    });
    if (f.quiet) {
      console.log([...new Set(rows.map((r) => r.id))].join("\n"));
    } else if (f.format === "json") {
      for (const r of rows) console.log(JSON.stringify({ Repository: r.repository, Tag: r.tag, ID: r.id, CreatedSince: r.created, Size: r.size }));
    } else {
      console.log(table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows.map((r) => [r.repository, r.tag, r.id, r.created, r.size])));
    }
  },
});
