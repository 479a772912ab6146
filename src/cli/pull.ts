import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { pullImage } from "../image/registry/pull";
import { makeProgress } from "../image/progress";
import { stdout } from "../io";
import { canonical } from "../image/reference";

const flags = {
  quiet: { kind: "bool", short: "q", description: "Suppress verbose output" },
  platform: { kind: "string", description: "Set platform if the image is multi-platform (e.g. linux/arm64)", valueHint: "OS/ARCH[/VARIANT]" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "pull", description: "Download an image from a registry" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("pull", flags, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd pull" requires exactly 1 argument: tsd pull [OPTIONS] NAME[:TAG|@DIGEST]`);
    const { root, db } = context();
    const progress = makeProgress(stdout, f.quiet);
    const r = await pullImage(db, root, positionals[0]!, { progress, ...(f.platform ? { platform: f.platform } : {}) });
    console.log(canonical(r.ref));
  },
});
