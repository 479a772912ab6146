// `tsd kill`: one signal to the init of a running container.
import type { Database } from "bun:sqlite";
import { markStoppedByUser, signalContainer } from "./lifecycle";
import { mustFind } from "./resolve";
import { decide } from "./state";

export function killContainer(db: Database, root: string, ref: string, signal: number): void {
  const row = mustFind(db, root, ref);
  decide("kill", row, ref);
  markStoppedByUser(root, row.id);
  signalContainer(row, signal);
}
