import { defineCommand } from "./command";
import { eachRef } from "./each";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { removeContainer } from "../container/remove";
import { checkOnHost } from "../container/host-gate";

const flags = {
  force: { kind: "bool", short: "f", description: "Force the removal of a running container (uses SIGKILL)" },
  volumes: { kind: "bool", short: "v", description: "Remove anonymous volumes associated with the container" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "rm", description: "Remove one or more containers" },
  args: cittyArgs(flags),
  async run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("rm", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd rm" requires at least 1 argument: CONTAINER...`);
    const { root, db } = context();
    checkOnHost(db, root, f.volumes ? "rm-volumes" : "rm", positionals);
    await eachRef(positionals, (name) => removeContainer(db, root, name, f.force, f.volumes));
  },
});
