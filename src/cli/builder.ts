import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { humanSize } from "../format";
import { reconcile } from "../container/resolve";
import { pruneBuildCacheImages } from "../image/remove";

const pruneFlags = {
  all: { kind: "bool", short: "a", description: "Remove all unused build cache, not just dangling ones (the same here)" },
  force: { kind: "bool", short: "f", description: "Do not prompt for confirmation (tsd never prompts)" },
} satisfies FlagSpec;

const prune = defineCommand({
  meta: { name: "prune", description: "Remove build cache" },
  args: cittyArgs(pruneFlags),
  run({ rawArgs }) {
    const { positionals } = parseFlags("builder prune", pruneFlags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd builder prune" accepts no arguments`);
    const { root, db } = context();
    reconcile(db, root); // the rows current first: image/remove.ts reads them
    const r = pruneBuildCacheImages(db, root);
    if (r.deleted.length > 0) {
      console.log("Deleted build cache objects:");
      for (const d of r.deleted) console.log(d.slice(7, 32));
      console.log("");
    }
    console.log(`Total reclaimed space: ${humanSize(r.reclaimed)}`);
  },
});

export default defineCommand({
  meta: { name: "builder", description: "Manage builds" },
  subCommands: {
    prune,
    build: () => import("./build").then((m) => m.default),
  },
});
