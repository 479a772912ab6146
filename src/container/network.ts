// The container side of networking: builds the narrow requests network/ works on
// (network/request.ts) from container rows and options, and decides from the container's state
// (state.ts) what may hold or join a network. network/ never reads container rows.
import type { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import type { ImageConfig } from "../image/store";
import * as attach from "../network/attach";
import { parseNetworkMode, publishes } from "../network/ports";
import { needNamespace, rootlessMode } from "../store/rootless";
import type { EndpointRequest, JoinTarget, RequestOf } from "../network/request";
import { networkPlan } from "../network/setup";
import { findNetwork } from "../network/networks";
import { decodeOptions, type RunOptions } from "./options";
import { decide, mayHoldNetwork, snapshotFacts } from "./state";
import { containerById, containersHoldingNetwork, findContainer, type ContainerRow } from "./store";

function optionsOf(row: ContainerRow): Partial<RunOptions> {
  try {
    return decodeOptions(row.options);
  } catch {
    return {};
  }
}

function hostnameOf(root: string, id: string): string {
  try {
    return readFileSync(join(containerDir(root, id), "hostname"), "utf8").trim() || id.slice(0, 12);
  } catch {
    return id.slice(0, 12);
  }
}

/** The container's networking as its options (older rows lack some fields) and bundle say. */
export function endpointRequest(root: string, row: ContainerRow): EndpointRequest {
  const o = optionsOf(row);
  return {
    id: row.id,
    name: row.name,
    hostname: hostnameOf(root, row.id),
    ...(o.network !== undefined ? { network: o.network } : {}),
    aliases: o.networkAliases ?? [],
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
    ...(o.macAddress !== undefined ? { mac: o.macAddress } : {}),
    publish: o.publish ?? [],
    addHost: o.addHost ?? [],
  };
}

/** Any container's request by id, as the database has it now. */
export function requestsOf(db: Database, root: string): RequestOf {
  return (id) => {
    const row = containerById(db, id);
    return row ? endpointRequest(root, row) : undefined;
  };
}

/** Sets up the container's networks before its start (released again on failure). */
export async function connectContainer(db: Database, root: string, id: string): Promise<void> {
  const row = containerById(db, id);
  if (!row) throw new TsdError(`no such container: ${id}`);
  // No reconcile first (one /proc read per address holder): only when an address or a host
  // port is taken are dead holders' leases reclaimed, and the lease tried once more.
  await attach.connectContainer(db, root, endpointRequest(root, row), requestsOf(db, root), () => reconcileNetwork(db, root));
}

/** Everything connectContainer made; idempotent, also on a half-made or removed container. */
export function releaseContainer(db: Database, root: string, id: string): void {
  attach.releaseContainer(db, root, id, requestsOf(db, root));
}

/** Frees the leases and ports of containers that can no longer use them. */
export function reconcileNetwork(db: Database, root: string): void {
  // Every holder's row in one query and each pid read once (run does this before every start:
  // with hundreds of containers on a bridge, one query per holder was most of the run's time).
  // The rows are read at the first question, after the holders were listed, never before: a
  // start that leased in between must be seen as the starting container it is, not as gone.
  let rows: Map<string, ContainerRow> | undefined;
  const facts = snapshotFacts();
  const holds = (id: string) => {
    rows ??= containersHoldingNetwork(db);
    return mayHoldNetwork(rows.get(id) ?? containerById(db, id), facts);
  };
  // The rootless fast path: a release stops a pasta and unmounts its namespace file inside.
  if (rootlessMode()?.pause) {
    for (const id of attach.holderIds(db, root)) if (!holds(id)) needNamespace(`the network of ${id.slice(0, 12)} is released in the namespace`);
  }
  attach.reconcile(db, root, holds, requestsOf(db, root));
}

export interface NetworkSetup {
  opts: RunOptions;
  netnsPath: string | null | undefined;
  hostname?: string;
  resolvConf: string;
  /** --network container: the target's hosts file, bound instead of the container's own. */
  sharedHosts?: string;
}

/** A user network's gateway (its resolver's address); none for the default bridge and the other modes. */
function userGateway(db: Database, mode: ReturnType<typeof parseNetworkMode>): { gateway?: string } {
  if (mode.kind !== "bridge" || mode.network === "bridge") return {};
  const net = findNetwork(db, mode.network);
  return net ? { gateway: net.gateway } : {};
}

/** Before a create: the namespace, resolv.conf and ports (-P expanded) for `opts`. */
export function networkSetup(db: Database, root: string, id: string, opts: RunOptions, image: ImageConfig): NetworkSetup {
  const mode = parseNetworkMode(opts.network);
  if (mode.kind === "pasta" && !rootlessMode()) throw new TsdError("--network pasta is rootless tsd's network: as root use a bridge network (the default)");
  const target = mode.kind === "container" ? joinTarget(db, mode.ref) : undefined;
  const plan = networkPlan(
    root,
    {
      id,
      ...(opts.network !== undefined ? { network: opts.network } : {}),
      dns: opts.dns ?? [],
      dnsSearch: opts.dnsSearch ?? [],
      dnsOptions: opts.dnsOption ?? [],
      publish: opts.publish ?? [],
      publishAll: Boolean(opts.publishAll),
      // The image's EXPOSE and the run's --expose (-P publishes both).
      exposed: { ...(image.config?.ExposedPorts ?? {}), ...Object.fromEntries((opts.expose ?? []).map((k) => [k, {}])) },
      ...userGateway(db, mode),
    },
    target,
  );
  const { publish, ...rest } = plan;
  return { opts: publishes(mode) ? { ...opts, publish } : opts, ...rest };
}

/**
 * --network container:REF: a running container. Not reconciled here (resolve.ts would import
 * this module back through cleanup.ts): the derived state already says whether it runs.
 */
function joinTarget(db: Database, ref: string): JoinTarget {
  const row = findContainer(db, ref);
  if (!row) throw new TsdError(`no such container: ${ref} (for --network container:${ref})`);
  decide("join-network", row, ref);
  return { id: row.id, pid: row.pid };
}

