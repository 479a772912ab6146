import { defineCommand } from "./command";
import { isatty } from "../io";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { exportContainer } from "../container/export";
import { writeOutput } from "../image/output";

const flags = {
  output: { kind: "string", short: "o", description: "Write to a file, instead of STDOUT", valueHint: "FILE" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "export", description: "Export a container's filesystem as a tar archive" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("export", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd export" requires exactly 1 argument: tsd export [OPTIONS] CONTAINER`);
    if (!f.output && isatty(1)) throw new UsageError("cowardly refusing to export to a terminal: use -o FILE or redirect stdout");
    const { root, db } = context();
    await writeOutput(f.output, (fd) => exportContainer(db, root, positionals[0]!, fd));
  },
});
