import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { resourceFlags } from "./resource-flags";
import { TsdError } from "../errors";
import { updateContainer } from "../container/update";

const flags = { ...resourceFlags } satisfies FlagSpec;

export default defineCommand({
  meta: { name: "update", description: "Update configuration of one or more containers" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("update", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd update" requires at least 1 argument: tsd update [OPTIONS] CONTAINER [CONTAINER...]`);
    if (Object.values(f).every((v) => v === undefined)) {
      throw new UsageError(`"tsd update" needs at least one flag to change: --memory, --cpus, --pids-limit …`);
    }
    const { db, root } = context();
    const failures: string[] = [];
    for (const ref of positionals) {
      try {
        updateContainer(db, root, ref, f);
        console.log(ref);
      } catch (e) {
        if (positionals.length === 1) throw e;
        failures.push((e as Error).message);
      }
    }
    if (failures.length > 0) throw new TsdError(failures.join("; "));
  },
});
