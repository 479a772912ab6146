// `tsd info [--format TEMPLATE]`: the engine's mode, storage, cgroups, network and host.
import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "../errors";
import { infoText, systemInfo } from "../system/info";
import { printFormatted } from "../format/inspect";

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
    printFormatted(f.format, info);
  },
});
