// `tsd top`: the pids in a running container's cgroup (cli/top.ts filters the host's ps by them).
import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { bundleProcsPaths } from "../cgroup";
import { containerDir } from "../store/paths";
import { mustFind } from "./resolve";
import { decide } from "./state";

export function containerPids(db: Database, root: string, ref: string): Set<number> {
  const row = mustFind(db, root, ref);
  decide("top", row, ref);
  const pids = new Set<number>();
  for (const p of bundleProcsPaths(containerDir(root, row.id))) {
    try {
      for (const l of readFileSync(p, "utf8").split("\n")) if (l) pids.add(Number(l));
    } catch {
      // A hierarchy the group is not in.
    }
  }
  return pids;
}
