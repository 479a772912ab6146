import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { globals } from "./globals";
import { versionInfo, versionLine } from "./version";
import { printFormatted } from "../format/inspect";

const flags = {
  format: { kind: "string", short: "f", description: "Format the output using a Go template ({{.Client.Version}})", valueHint: "TEMPLATE" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "version", description: "Show the tsd and core versions" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f } = parseFlags("version", flags, rawArgs);
    if (f.format === undefined) {
      console.log(versionLine(globals().root));
      return;
    }
    printFormatted(f.format, versionInfo(globals().root));
  },
});
