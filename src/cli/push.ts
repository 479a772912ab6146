import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { pushImage } from "../image/registry/push";
import { makeProgress } from "../image/progress";
import { stdout } from "../io";

const flags = {
  quiet: { kind: "bool", short: "q", description: "Suppress verbose output" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "push", description: "Upload an image to a registry" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("push", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd push" requires exactly 1 argument: tsd push [OPTIONS] NAME[:TAG]`);
    const { root, db } = context();
    const r = await pushImage(db, root, positionals[0]!, makeProgress(stdout, f.quiet));
    if (f.quiet) console.log(r.digest);
  },
});
