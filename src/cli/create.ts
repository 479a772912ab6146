import { defineCommand } from "./command";
import { readFileSync } from "node:fs";
import { cittyArgs, parseFlags } from "./flags";
import { context } from "./context";
import { runFlags } from "./run";
import { runOptionsFromFlags } from "../container/options";
import { createWithMeta } from "../container/meta-create";
import { markIdle } from "../container/store";
import { ensureImage } from "../image/registry/ensure";

// `run`'s flags; -d and --rm keep their meaning for the later `start`.
export default defineCommand({
  meta: { name: "create", description: "Create a new container (start it with tsd start)" },
  args: cittyArgs(runFlags),
  async run({ rawArgs }) {
    const { flags, positionals } = parseFlags("create", runFlags, rawArgs, false);
    const opts = runOptionsFromFlags(flags, positionals, process.env, (p) => readFileSync(p, "utf8"));
    const { root, db } = context();
    await ensureImage(db, root, opts.image, { policy: flags.pull, ...(opts.platform ? { platform: opts.platform } : {}) });
    const { id } = createWithMeta(db, root, opts, { startsNow: false });
    markIdle(db, id);
    console.log(id);
  },
});
