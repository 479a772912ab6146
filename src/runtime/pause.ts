// `pause ID` / `resume ID`: the container's cgroup frozen or thawed through src/cgroup's driver
// (v1 freezer.state, v2 cgroup.freeze), as `tsd pause` does; the status follows (state-dir.ts).
import { TsdError } from "../errors";
import { recordGroup } from "./cgroup";
import { exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { statusOf, withRecord } from "./state-dir";

async function setFrozen(g: RuntimeGlobals, argv: string[], frozen: boolean): Promise<number> {
  const verb = frozen ? "pause" : "resume";
  const p = parseFlags(argv, {});
  exactArgs(verb, p.args, 1, "<container-id>");
  await withRecord(g.root, p.args[0]!, async (rec) => {
    const status = statusOf(g.root, rec);
    if (frozen && status !== "running") throw new TsdError("container not running", 1);
    if (!frozen && status !== "paused") throw new TsdError("container not paused", 1);
    const cg = recordGroup(rec);
    if (!cg || !(await cg.driver.freeze(cg.group, frozen))) {
      throw new TsdError(`cannot ${verb} container ${rec.id}: it has no cgroup with a freezer`, 1);
    }
  });
  return 0;
}

export async function pauseCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  return await setFrozen(g, argv, true);
}

export async function resumeCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  return await setFrozen(g, argv, false);
}
