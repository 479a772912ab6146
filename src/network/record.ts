// A bundle's network-state.json: while a container holds them, its endpoints (leases), ports
// and their networks' definitions, so that `tsd system repair` can rebuild them (system/repair.ts).
// Written atomically after every change; never read in normal operation.
import type { Database } from "bun:sqlite";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { readJsonFile, writeJsonAtomic } from "../store/json-file";

export const NETWORK_STATE_VERSION = 1;

export interface NetworkState {
  version: number;
  networks: Record<string, unknown>[];
  endpoints: Record<string, unknown>[];
  ports: Record<string, unknown>[];
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
  writeJsonAtomic(path, { version: NETWORK_STATE_VERSION, networks, endpoints, ports } satisfies NetworkState);
}

export function readNetworkState(root: string, id: string): NetworkState | undefined {
  const s = readJsonFile<NetworkState>(join(containerDir(root, id), "network-state.json"));
  return s && s.version === NETWORK_STATE_VERSION && Array.isArray(s.endpoints) ? s : undefined;
}
