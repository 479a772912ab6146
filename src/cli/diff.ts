// `tsd diff CONTAINER`: the files a container added (A), changed (C) or deleted (D).
import { defineCommand } from "./command";
import { parseFlags } from "./flags";
import { context } from "./context";
import { UsageError } from "../errors";
import { mustFind } from "../container/resolve";
import { containerChanges } from "../container/diff";

export default defineCommand({
  meta: { name: "diff", description: "Inspect changes to files or directories on a container's filesystem" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("diff", {}, rawArgs);
    if (positionals.length !== 1) throw new UsageError(`"tsd diff" requires exactly 1 argument: tsd diff CONTAINER`);
    const { root, db } = context();
    const row = mustFind(db, root, positionals[0]!);
    const lines = containerChanges(root, row.id).map((c) => `${c.kind} ${c.path}`);
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
  },
});
