// Whether a group is frozen, from its directories alone: small on purpose, so the OCI-runtime
// verbs' status (src/runtime/state-dir.ts) reads it without loading the drivers.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Whether any of a group's directories is frozen (v2 cgroup.freeze, v1 freezer.state). */
export function cgroupFrozen(dirs: readonly string[]): boolean {
  for (const dir of dirs) {
    if (readText(join(dir, "cgroup.freeze")) === "1") return true;
    const v1 = readText(join(dir, "freezer.state"));
    if (v1 === "FROZEN" || v1 === "FREEZING") return true;
  }
  return false;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}
