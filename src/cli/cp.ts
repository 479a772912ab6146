import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { copy, parseCpArg } from "../container/cp";

const flags = {
  archive: { kind: "bool", short: "a", description: "Archive mode (copy all uid/gid information, and setuid/setgid bits)" },
  "follow-link": { kind: "bool", short: "L", description: "Always follow symbol link in SRC_PATH (not supported)" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "cp", description: "Copy files/folders between a container and the local filesystem" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("cp", flags, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd cp" requires exactly 2 arguments: tsd cp CONTAINER:SRC_PATH DEST_PATH|- , or SRC_PATH|- CONTAINER:DEST_PATH`);
    if (f["follow-link"]) throw new UsageError("cp -L is not supported: copy the link's target path instead");
    const { root, db } = context();
    await copy(db, root, parseCpArg(positionals[0]!), parseCpArg(positionals[1]!), { archive: Boolean(f.archive) });
  },
});
