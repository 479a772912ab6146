import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { importTarball } from "../image/import";
import { parseReference } from "../image/reference";
import { isatty } from "../io";

const flags = {
  change: { kind: "list", short: "c", description: "Apply Dockerfile instruction to the created image", valueHint: "INSTR" },
  message: { kind: "string", short: "m", description: "Set commit message for imported image", valueHint: "TEXT" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "import", description: "Import the contents from a tarball to create a filesystem image" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("import", flags, rawArgs);
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError(`"tsd import" requires 1 or 2 arguments: tsd import [OPTIONS] FILE|- [REPOSITORY[:TAG]]`);
    if (positionals[0] === "-" && isatty(0)) throw new UsageError("tsd import - reads a tarball from stdin, and stdin is a terminal");
    const ref = positionals[1] ? parseReference(positionals[1]) : undefined;
    const { root, db } = context();
    const id = await importTarball(db, root, positionals[0]!, { changes: f.change, ...(ref ? { ref } : {}), ...(f.message ? { message: f.message } : {}) });
    console.log(`sha256:${id}`);
  },
});
