import { defineCommand } from "./command";
import { parseFlags } from "./flags";
import { context } from "./context";
import { UsageError } from "./globals";
import { waitContainer } from "../container/wait";
import { checkOnHost } from "../container/host-gate";
import { NeedsNamespace } from "../store/rootless";

export default defineCommand({
  meta: { name: "wait", description: "Block until one or more containers stop, then print their exit codes" },
  async run({ rawArgs }) {
    const { positionals } = parseFlags("wait", {}, rawArgs);
    if (positionals.length === 0) throw new UsageError(`"tsd wait" requires at least 1 argument: CONTAINER...`);
    const { root, db } = context();
    checkOnHost(db, root, "wait", positionals);
    let failed = 0;
    for (const ref of positionals) {
      try {
        console.log(await waitContainer(db, root, ref));
      } catch (e) {
        if (e instanceof NeedsNamespace) throw e;
        failed++;
        process.stderr.write(`tsd: ${(e as Error).message}\n`);
      }
    }
    if (failed > 0) process.exitCode = 1;
  },
});
