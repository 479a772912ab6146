import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { context } from "./context";
import { reconcile } from "../container/resolve";
import { UsageError } from "./globals";
import { removeImage } from "../image/remove";
import { TsdError } from "../errors";

const flags = {
  force: { kind: "bool", short: "f", description: "Force removal of the image (even if stopped containers use it)" },
  "no-prune": { kind: "bool", description: "Do not delete untagged parents" },
} satisfies FlagSpec;

export default defineCommand({
  meta: { name: "rmi", description: "Remove one or more images" },
  args: cittyArgs(flags),
  run({ rawArgs }) {
    const { flags: f, positionals } = parseFlags("rmi", flags, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd rmi" requires at least 1 argument: tsd rmi [OPTIONS] IMAGE [IMAGE...]`);
    const { root, db } = context();
    // The rows current first (a container whose monitor died is exited): image/remove.ts
    // decides "in use by a running container" from them.
    reconcile(db, root);
    let failed: TsdError | undefined;
    for (const name of positionals) {
      try {
        const r = removeImage(db, root, name, f.force, f["no-prune"]);
        for (const u of r.untagged) console.log(`Untagged: ${u}`);
        for (const d of r.deleted) console.log(`Deleted: ${d}`);
      } catch (e) {
        if (!(e instanceof TsdError)) throw e;
        // Like docker: report each failure, go on with the rest, fail at the end.
        if (failed) process.stderr.write(`tsd: ${failed.message}\n`);
        failed = e;
      }
    }
    if (failed) throw failed;
  },
});
