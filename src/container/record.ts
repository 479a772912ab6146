// What a bundle keeps of its container beside config.json, so that the database can be rebuilt
// from the bundles (`tsd system repair`): the row's lasting part (container.json: name, image,
// options …); its network leases and ports are network/record.ts's network-state.json.
// Written atomically (tmp + rename) by the commands that change them; never read in normal
// operation.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { readJsonFile, writeJsonAtomic } from "../store/json-file";
import type { ContainerRow } from "./store";

export const RECORD_VERSION = 1;

/** The row's lasting part: what does not change while the container runs. */
export type ContainerRecord = { version: number } & Pick<ContainerRow, "id" | "name" | "image_id" | "image_ref" | "command" | "created_at" | "auto_remove" | "options">;

export function recordContainer(root: string, row: Pick<ContainerRow, keyof Omit<ContainerRecord, "version">>): void {
  const dir = containerDir(root, row.id);
  if (!existsSync(dir)) return;
  const { id, name, image_id, image_ref, command, created_at, auto_remove, options } = row;
  writeJsonAtomic(join(dir, "container.json"), { version: RECORD_VERSION, id, name, image_id, image_ref, command, created_at, auto_remove, options } satisfies ContainerRecord);
}

export function readContainerRecord(root: string, id: string): ContainerRecord | undefined {
  const r = readJsonFile<ContainerRecord>(join(containerDir(root, id), "container.json"));
  return r && r.version === RECORD_VERSION && r.id === id && typeof r.name === "string" ? r : undefined;
}
