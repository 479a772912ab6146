// What network/ knows of a container: a narrow request built by container/network.ts from the
// container's row and options, so that network/ never reads container rows or decodes their
// options (test/unit/layers.test.ts: network/ does not import container/).
import type { PortSpec } from "./ports";

/** A container's networking as it asked for it at create. */
export interface EndpointRequest {
  id: string;
  name: string;
  /** The container's hostname (its own line in /etc/hosts). */
  hostname: string;
  /** --network as given (undefined: the default bridge). */
  network?: string;
  aliases: string[];
  ip?: string;
  mac?: string;
  publish: PortSpec[];
  /** --add-host HOST:IP entries. */
  addHost: string[];
}

/**
 * The request of any container by its id, undefined when there is no such container: how the
 * hosts files of a network's other containers are rewritten when a peer comes or goes.
 */
export type RequestOf = (id: string) => EndpointRequest | undefined;

/** Before a create: what decides the namespace, resolv.conf and the published ports. */
export interface SetupRequest {
  id: string;
  network?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  publish: PortSpec[];
  /** -P: every port the image exposes (its ExposedPorts keys) on a random host port. */
  publishAll: boolean;
  exposed?: Record<string, unknown>;
  /** A user network's gateway, where its resolver listens (network/dns.ts): the nameserver. */
  gateway?: string;
}

/** --network container:REF: the running container whose namespace is joined. */
export interface JoinTarget {
  id: string;
  pid: number;
}
