import { defineCommand } from "./command";
import { parseFlags } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { rename } from "../container/rename";

export default defineCommand({
  meta: { name: "rename", description: "Rename a container" },
  run({ rawArgs }) {
    const { positionals } = parseFlags("rename", {}, rawArgs);
    if (positionals.length !== 2) throw new UsageError(`"tsd rename" requires exactly 2 arguments: CONTAINER NEW_NAME`);
    const { root, db } = context();
    rename(db, root, positionals[0]!, positionals[1]!);
  },
});
