// What a bundle keeps of its container beside config.json, so that the database can be rebuilt
// from the bundles (`tsd system repair`): the row's lasting part (container.json: name, image,
// options …) and, while it holds them, its network leases and published ports
// (network-state.json, with the networks' definitions). Written atomically (tmp + rename) by
// the commands that change them; never read in normal operation.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { containerDir } from "../store/paths";
import type { ContainerRow } from "./store";

export const RECORD_VERSION = 1;

/** The row's lasting part: what does not change while the container runs. */
export type ContainerRecord = { version: number } & Pick<ContainerRow, "id" | "name" | "image_id" | "image_ref" | "command" | "created_at" | "auto_remove" | "options">;

export interface NetworkState {
  version: number;
  networks: Record<string, unknown>[];
  endpoints: Record<string, unknown>[];
  ports: Record<string, unknown>[];
}

function writeAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

export function recordContainer(root: string, row: Pick<ContainerRow, keyof Omit<ContainerRecord, "version">>): void {
  const dir = containerDir(root, row.id);
  if (!existsSync(dir)) return;
  const { id, name, image_id, image_ref, command, created_at, auto_remove, options } = row;
  writeAtomic(join(dir, "container.json"), { version: RECORD_VERSION, id, name, image_id, image_ref, command, created_at, auto_remove, options } satisfies ContainerRecord);
}

export function readContainerRecord(root: string, id: string): ContainerRecord | undefined {
  const r = readJson<ContainerRecord>(join(containerDir(root, id), "container.json"));
  return r && r.version === RECORD_VERSION && r.id === id && typeof r.name === "string" ? r : undefined;
}

/** The container's endpoints, ports and their networks as the database has them now. */
export function recordNetworkState(db: Database, root: string, id: string): void {
  const dir = containerDir(root, id);
  if (!existsSync(dir)) return;
  const endpoints = db.query("SELECT * FROM endpoints WHERE container_id = ?").all(id) as Record<string, unknown>[];
  const path = join(dir, "network-state.json");
  if (endpoints.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  const names = [...new Set(endpoints.map((e) => e.network as string))];
  const networks = names.map((n) => db.query("SELECT * FROM networks WHERE name = ?").get(n) as Record<string, unknown>).filter(Boolean);
  const ports = db.query("SELECT * FROM ports WHERE container_id = ?").all(id) as Record<string, unknown>[];
  writeAtomic(path, { version: RECORD_VERSION, networks, endpoints, ports } satisfies NetworkState);
}

export function readNetworkState(root: string, id: string): NetworkState | undefined {
  const s = readJson<NetworkState>(join(containerDir(root, id), "network-state.json"));
  return s && s.version === RECORD_VERSION && Array.isArray(s.endpoints) ? s : undefined;
}
