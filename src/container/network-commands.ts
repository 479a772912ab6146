// The network commands on containers (network connect, disconnect, prune): the container is
// resolved and its state decided here (state.ts), network/ops.ts does the rest on a request.
import type { Database } from "bun:sqlite";
import { networkByName } from "../network/networks";
import * as ops from "../network/ops";
import { endpointRequest, reconcileNetwork, requestsOf } from "./network";
import { mustFind, reconcile as reconcileContainers } from "./resolve";
import { decide } from "./state";
import type { ContainerRow } from "./store";
import type { NetworkRow } from "../network/networks";

/** network connect / disconnect apply to a running container. */
function runningContainer(db: Database, root: string, ref: string): ContainerRow {
  const row = mustFind(db, root, ref);
  decide("connect-network", row, ref);
  return row;
}

export async function connectNetwork(db: Database, root: string, netRef: string, ref: string, o: { aliases: string[]; ip?: string }): Promise<void> {
  const n = networkByName(db, root, netRef);
  const row = runningContainer(db, root, ref);
  await ops.connectNetwork(db, root, n, endpointRequest(root, row), { ...o, label: ref }, requestsOf(db, root));
}

export function disconnectNetwork(db: Database, root: string, netRef: string, ref: string): void {
  const n = ops.mustFindNetwork(db, netRef);
  const row = runningContainer(db, root, ref);
  ops.disconnectNetwork(db, root, n, endpointRequest(root, row), requestsOf(db, root));
}

/**
 * network prune: containers whose monitor died are cleaned up first (their cgroup's processes
 * killed) and stale leases released, so their endpoints count as unused.
 */
export function pruneNetworks(db: Database, root: string, keep?: (n: NetworkRow) => boolean): string[] {
  reconcileContainers(db, root);
  reconcileNetwork(db, root);
  return ops.pruneUnusedNetworks(db, root, keep);
}
