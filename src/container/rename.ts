// `tsd rename`: a new name for a container in any state.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { recordContainer } from "./record";
import { mustFind } from "./resolve";
import { renameContainer } from "./store";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function rename(db: Database, root: string, ref: string, newName: string): void {
  const name = newName.replace(/^\//, "");
  if (!NAME.test(name)) throw new TsdError(`invalid container name "${newName}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  const row = mustFind(db, root, ref);
  if (row.name === name) throw new TsdError(`renaming a container with the same name as its current name: ${name}`);
  renameContainer(db, row.id, name);
  recordContainer(root, { ...row, name });
}
