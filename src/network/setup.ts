// What create needs to know about a container's network before its spec is written: which
// namespace (new, the host's, a path to join), the resolv.conf, -P expanded from EXPOSE.
import type { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { hostname as hostHostname } from "node:os";
import type { ImageConfig } from "../image/store";
import type { RunOptions } from "../container/options";
import { findContainer } from "../container/store";
import { TsdError } from "../errors";
import { netnsPath } from "./attach";
import { resolvConf, type ResolvOptions } from "./files";
import { findNetwork } from "./networks";
import { exposedPorts, parseNetworkMode } from "./ports";

export interface NetworkSetup {
  opts: RunOptions;
  netnsPath: string | null | undefined;
  hostname?: string;
  resolvConf: string;
  /** --network container: the target's hosts file, bound instead of the container's own. */
  sharedHosts?: string;
}

function hostResolvConf(): string {
  try {
    return readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
}

/**
 * On a user network the container asks the network's resolver (network/dns.ts) at the
 * gateway, with the host's search and options kept (Docker's embedded DNS); --dns names other
 * servers instead (then names resolve through /etc/hosts only). The default bridge: the host's.
 */
function userNetworkDns(db: Database, network: string, resolv: ResolvOptions): ResolvOptions {
  if (network === "bridge" || resolv.dns.length > 0) return resolv;
  const net = findNetwork(db, network);
  return net ? { ...resolv, dns: [net.gateway] } : resolv;
}

export function networkSetup(db: Database, root: string, id: string, opts: RunOptions, image: ImageConfig): NetworkSetup {
  const mode = parseNetworkMode(opts.network);
  const resolv = { dns: opts.dns ?? [], dnsSearch: opts.dnsSearch ?? [], dnsOptions: opts.dnsOption ?? [] };
  if (mode.kind === "host") {
    return { opts, netnsPath: null, hostname: hostHostname(), resolvConf: resolvConf(hostResolvConf(), resolv, true) };
  }
  if (mode.kind === "none") return { opts, netnsPath: undefined, resolvConf: resolvConf(hostResolvConf(), resolv) };
  if (mode.kind === "container") {
    const target = findContainer(db, mode.ref);
    if (!target) throw new TsdError(`no such container: ${mode.ref} (for --network container:${mode.ref})`);
    if (target.state !== "running" || target.pid <= 0 || !existsSync(`/proc/${target.pid}`)) {
      throw new TsdError(`cannot join the network of container ${mode.ref}: it is not running; start it first`);
    }
    const own = netnsPath(root, target.id);
    let shared = hostResolvConf();
    try {
      shared = readFileSync(`${root}/containers/${target.id}/resolv.conf`, "utf8");
    } catch {
      // An older container without one: the host's, filtered.
      shared = resolvConf(shared, resolv);
    }
    const hosts = `${root}/containers/${target.id}/hosts`;
    return { opts, netnsPath: existsSync(own) ? own : `/proc/${target.pid}/ns/net`, resolvConf: shared, ...(existsSync(hosts) ? { sharedHosts: hosts } : {}) };
  }
  const publish = [...(opts.publish ?? [])];
  if (opts.publishAll) {
    for (const p of exposedPorts(image.config?.ExposedPorts as Record<string, unknown> | undefined)) {
      if (!publish.some((q) => q.containerPort === p.containerPort && q.proto === p.proto)) publish.push(p);
    }
  }
  return { opts: { ...opts, publish }, netnsPath: netnsPath(root, id), resolvConf: resolvConf(hostResolvConf(), userNetworkDns(db, mode.network, resolv)) };
}
