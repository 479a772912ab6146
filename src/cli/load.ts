import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { loadArchive } from "../image/load";
import { isatty } from "../io";
import { familiarName } from "../image/reference";
import { UsageError } from "./globals";

const flags = {
  input: { kind: "string", short: "i", description: "Read from a tar archive file instead of stdin", valueHint: "FILE" },
  quiet: { kind: "bool", short: "q", description: "Suppress the load output" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "load", description: "Load an image from a docker save archive or an OCI layout tar" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("load", flags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd load" accepts no arguments (use -i FILE)`);
    // isatty, not process.stdin: touching that makes Bun switch stdin to non-blocking.
    if (!f.input && isatty(0)) throw new UsageError("tsd load reads an archive from stdin or -i FILE, and stdin is a terminal: pipe an archive in or give -i FILE");
    const { root, db } = context();
    const loaded = await loadArchive(db, root, f.input ?? "-");
    if (f.quiet) return;
    for (const img of loaded) {
      if (img.names.length === 0) console.log(`Loaded image ID: sha256:${img.id}`);
      for (const n of img.names) console.log(`Loaded image: ${familiarName(n)}`);
    }
  },
});
