// `tsd info [--format TEMPLATE]`: the engine's mode, storage, cgroups, network and host.
import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "../errors";
import { infoText, systemInfo } from "../system/info";
import { renderInspect } from "../format/inspect";
import { TsdError } from "../errors";

const flags = {
  format: { kind: "string", short: "f", description: "Format the output using the given Go template", valueHint: "TEMPLATE" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "info", description: "Display system-wide information" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("info", flags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd info" accepts no arguments`);
    const { root, db } = context();
    const info = systemInfo(db, root);
    if (f.format === undefined) {
      console.log(infoText(info).trimEnd());
      return;
    }
    const r = renderInspect(f.format, [info]);
    process.stdout.write(r.out);
    if (r.errors.length) throw new TsdError(r.errors.join("\n"), 1);
  },
});
