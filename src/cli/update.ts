import { defineCommand } from "citty";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { resourceFlags } from "./resource-flags";
import { updateOptions } from "../container/store";
import { recordContainer } from "../container/record";
import { isRunning, lookup } from "../container/state";
import { containerGroup, hostCpus, hostDriver } from "../cgroup";
import { checkAgainstHost, resourcesFromFlags, type Resources } from "../cgroup/resources";
import { TsdError } from "../errors";
import { decodeOptions, encodeOptions } from "../container/options";

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
        const row = lookup(db, root, ref);
        if (!row) throw new TsdError(`no such container: ${ref}`);
        const options = decodeOptions(row.options);
        const merged = resourcesFromFlags(f, options.resources ?? {});
        checkAgainstHost(merged, hostCpus());
        // A running container gets the new limits now; a stopped one keeps them for later.
        if (isRunning(row)) hostDriver().update(containerGroup(row.id, options), merged);
        const updated = encodeOptions({ ...options, resources: merged });
        updateOptions(db, row.id, updated);
        recordContainer(root, { ...row, options: updated });
        console.log(ref);
      } catch (e) {
        if (positionals.length === 1) throw e;
        failures.push((e as Error).message);
      }
    }
    if (failures.length > 0) throw new TsdError(failures.join("; "));
  },
});
