import { defineCommand } from "./command";
import { cittyArgs, parseFlags, type FlagSpec } from "./flags";
import { globals, UsageError } from "./globals";
import { closeDb, DatabaseDamaged, openDb } from "../store/db";
import { useCoreRoot } from "../native/ffi";
import { describeRepair, repairRoot, setAsideDatabase } from "../system/repair";
import { reconcile } from "../container/resolve";
import { reconcileNetwork } from "../container/network";

const repairFlags = {} satisfies FlagSpec;

const repair = defineCommand({
  meta: { name: "repair", description: "Rebuild the state database from the root dir and release what no container owns" },
  args: cittyArgs(repairFlags),
  run({ rawArgs }) {
    const { positionals } = parseFlags("system repair", repairFlags, rawArgs);
    if (positionals.length > 0) throw new UsageError(`"tsd system repair" takes no arguments`);
    const { root } = globals();
    useCoreRoot(root);
    let db;
    try {
      db = openDb(root);
      const check = (db.query("PRAGMA quick_check").get() as { quick_check: string }).quick_check;
      if (check !== "ok") throw new DatabaseDamaged(check);
    } catch (e) {
      if (!(e instanceof DatabaseDamaged)) throw e;
      closeDb(root);
      console.error(`tsd: the damaged database is kept as ${setAsideDatabase(root)}`);
      db = openDb(root);
    }
    const report = repairRoot(db, root);
    // Then what every command does: dead monitors recorded, stale leases released.
    reconcile(db, root);
    reconcileNetwork(db, root);
    console.log(describeRepair(report));
  },
});

export default defineCommand({
  meta: { name: "system", description: "Manage tsd's state" },
  subCommands: {
    repair,
    info: () => import("./info").then((m) => m.default),
    events: () => import("./events").then((m) => m.default),
    df: () => import("./system-df").then((m) => m.default),
    prune: () => import("./system-prune").then((m) => m.default),
  },
});
