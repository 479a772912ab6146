// Network events (`tsd events`) as Docker's daemon logs them (moby daemon/events.go
// LogNetworkEventWithAttributes): the actor is the network id, with its name and type, and
// the container for connect and disconnect.
import type { Database } from "bun:sqlite";
import { recordEvent } from "../store/events";

export function networkEvent(db: Database, action: string, network: string, extra: Record<string, string> = {}): void {
  let id = network;
  try {
    id = (db.query("SELECT id FROM networks WHERE name = ?").get(network) as { id: string } | null)?.id ?? network;
  } catch {
    // The name then.
  }
  recordEvent(db, "network", action, id, { name: network, type: "bridge", ...extra });
}
