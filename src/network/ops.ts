// The network commands' work (network inspect, rm, prune, connect, disconnect); src/cli/network.ts
// parses and prints.
import { networkEvent } from "./events";
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { endpointsOf, endpointsOn, findNetwork, listNetworks, networkByName, type NetworkRow } from "./networks";
import { attachEndpoint, detachEndpoint, tearDownNetwork } from "./attach";
import { recordNetworkState } from "./record";
import type { EndpointRequest, RequestOf } from "./request";

/** network inspect's record of one network, with the containers on it. */
export function inspectNetwork(db: Database, n: NetworkRow) {
  const containers: Record<string, object> = {};
  for (const e of endpointsOn(db, n.name)) {
    const c = db.query("SELECT name FROM containers WHERE id = ?").get(e.container_id) as { name: string } | null;
    containers[e.container_id] = { Name: c?.name ?? "", MacAddress: e.mac, IPv4Address: `${e.ip}/${n.subnet.split("/")[1]}`, Aliases: JSON.parse(e.aliases) };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: new Date(n.created_at).toISOString(),
    Scope: "local",
    Driver: "bridge",
    IPAM: { Driver: "default", Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Containers: containers,
    Options: { "com.docker.network.bridge.name": n.bridge, "com.docker.network.driver.mtu": String(n.mtu) },
  };
}

/** network rm: a user network without endpoints, its bridge and NAT with it. */
export function removeNetwork(db: Database, root: string, n: NetworkRow): void {
  if (n.builtin) throw new TsdError(`${n.name} is a pre-defined network and cannot be removed`);
  db.transaction(() => {
    const users = endpointsOn(db, n.name);
    if (users.length > 0) throw new TsdError(`error while removing network: network ${n.name} has active endpoints: stop or disconnect them first`);
    tearDownNetwork(root, n);
    networkEvent(db, "destroy", n.name);
    db.query("DELETE FROM networks WHERE name = ?").run(n.name);
  }).immediate();
}

/** network prune: every unused user network; the default one stays, its bridge and NAT go
 *  until the next container needs them. Returns the removed networks' names. The caller has
 *  released what stopped containers held (container/network-commands.ts pruneNetworks). */
export function pruneUnusedNetworks(db: Database, root: string, keep: (n: NetworkRow) => boolean = () => true): string[] {
  const removed: string[] = [];
  for (const n of listNetworks(db)) {
    if (endpointsOn(db, n.name).length > 0 || !keep(n)) continue;
    if (n.builtin) {
      db.transaction(() => {
        if (endpointsOn(db, n.name).length === 0) tearDownNetwork(root, n);
      }).immediate();
      continue;
    }
    removeNetwork(db, root, n);
    removed.push(n.name);
  }
  return removed;
}

/** network connect: one more network for a running container (eth1 …). */
export async function connectNetwork(db: Database, root: string, n: NetworkRow, c: EndpointRequest, o: { aliases: string[]; ip?: string; label: string }, requestOf: RequestOf): Promise<void> {
  if (endpointsOf(db, c.id).length === 0) throw new TsdError(`container ${o.label} has no bridge network namespace to add to (--network none, host or container:)`);
  await attachEndpoint(db, root, c, n, { aliases: o.aliases, ...(o.ip !== undefined ? { ip: o.ip } : {}), first: false }, requestOf);
  recordNetworkState(db, root, c.id);
}

/** A network by name or id, or the error naming it. */
export function mustFindNetwork(db: Database, ref: string): NetworkRow {
  const n = findNetwork(db, ref);
  if (!n) throw new TsdError(`network ${ref} not found`);
  return n;
}

/** network disconnect. */
export function disconnectNetwork(db: Database, root: string, n: NetworkRow, c: EndpointRequest, requestOf: RequestOf): void {
  detachEndpoint(db, root, c, n.name, requestOf);
}
