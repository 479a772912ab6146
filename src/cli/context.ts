// What every command needs: the root dir, its database and the loaded core.
import type { Database } from "bun:sqlite";
import { globals } from "./globals";
import { openDb } from "../store/db";
import { useCoreRoot } from "../native/ffi";

export interface Context {
  root: string;
  db: Database;
}

export function context(): Context {
  const { root } = globals();
  useCoreRoot(root);
  return { root, db: openDb(root) };
}
