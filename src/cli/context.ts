// What every command needs: the root dir, its database and the loaded core.
import type { Database } from "bun:sqlite";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { globals } from "./globals";
import { createdByUs, openDb } from "../store/db";
import { describeRepair, repairRoot } from "../system/repair";
import { useCoreRoot } from "../native/ffi";

export interface Context {
  root: string;
  db: Database;
}

export function context(): Context {
  const { root } = globals();
  useCoreRoot(root);
  const db = openDb(root);
  if (createdByUs(root) && hasBundles(root)) rebuildLostDatabase(db, root);
  return { root, db };
}

function hasBundles(root: string): boolean {
  const dir = join(root, "containers");
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/**
 * The database was gone while containers' bundles remain (deleted by hand, a lost disk): the
 * first command rebuilds it before doing anything else, as `tsd system repair` would.
 */
function rebuildLostDatabase(db: Database, root: string): void {
  const report = repairRoot(db, root);
  console.error(`tsd: the state database was missing and has been rebuilt from ${root}: ${describeRepair(report)}`);
}
