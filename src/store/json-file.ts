// The bundle's small JSON records (container/record.ts, network/record.ts): written whole
// (tmp + rename), read as undefined when missing or unreadable.
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

export function readJsonFile<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}
