import { defineCommand } from "./command";
import { eachRef } from "./each";
import { parseFlags } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { waitContainer } from "../container/wait";
import { checkOnHost } from "../container/host-gate";

export default defineCommand({
  meta: { name: "wait", description: "Block until one or more containers stop, then print their exit codes" },
  async run({ rawArgs }) {
    const { positionals } = parseFlags("wait", {}, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd wait" requires at least 1 argument: CONTAINER...`);
    const { root, db } = context();
    checkOnHost(db, root, "wait", positionals);
    await eachRef(positionals, async (ref) => String(await waitContainer(db, root, ref)));
  },
});
