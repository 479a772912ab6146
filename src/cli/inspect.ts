import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { TsdError } from "../errors";
import { inspectContainer } from "../container/inspect";
import { lookup } from "../container/resolve";
import { findImage } from "../image/store";
import { imageInspect } from "../image/inspect";
import { printInspect } from "../format/inspect";

const flags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go template ({{.State.Pid}}, {{json .Config}}, {{range .Mounts}}…{{end}})", valueHint: "TEMPLATE" },
  type: { kind: "string", description: "Only inspect objects of this type (container or image)", valueHint: "TYPE" },
  size: { kind: "bool", short: "s", description: "Display total file sizes (accepted; not computed)" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "inspect", description: "Return low-level information on containers or images" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("inspect", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd inspect" requires at least 1 argument: tsd inspect [OPTIONS] NAME|ID [NAME|ID...]`);
    if (f.type !== undefined && f.type !== "container" && f.type !== "image") throw new UsageError(`unknown --type "${f.type}": use container or image`);
    const { root, db } = context();
    const out: unknown[] = [];
    const missing: string[] = [];
    for (const ref of positionals) {
      const row = f.type === "image" ? undefined : lookup(db, root, ref);
      if (row) {
        out.push(inspectContainer(db, root, row));
        continue;
      }
      const image = f.type === "container" ? undefined : findImage(db, ref);
      if (image) out.push(imageInspect(db, image));
      else missing.push(ref);
    }
    const errors = printInspect(f.format, out);
    if (missing.length > 0) errors.push(`no such object: ${missing.join(", ")}`);
    if (errors.length > 0) throw new TsdError(errors.join("\n"), 1);
  },
});
