// `tsd wait`: blocks until the container's exit is recorded, returns its exit code.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { containerDir } from "../store/paths";
import { readExitStatus } from "./cleanup";
import { mustFind, reconcile } from "./resolve";
import { verdict, stateOf } from "./state";
import { containerById } from "./store";

export async function waitContainer(db: Database, root: string, ref: string): Promise<number> {
  const row = mustFind(db, root, ref);
  let last = row;
  let code: number | undefined;
  let pause = 10;
  for (;;) {
    const now = containerById(db, row.id);
    if (!now) {
      // Removed (--rm): the exit.json read while it was there is the answer.
      return code ?? last.exit_code ?? 0;
    }
    last = now;
    // A dead monitor, or a start whose CLI died, is settled here too.
    if (reconcile(db, root, [now])) continue;
    if (verdict("wait", stateOf(now)) === "go") return now.exit_code ?? -1;
    const status = existsSync(containerDir(root, row.id)) ? readExitStatus(root, row.id) : undefined;
    if (status) code = status.exitCode;
    await Bun.sleep(pause);
    pause = Math.min(pause * 2, 100);
  }
}
