// What create needs to know about a container's network before its spec is written: which
// namespace (new, the host's, a path to join), the resolv.conf, -P expanded from EXPOSE.
import { existsSync, readFileSync } from "node:fs";
import { hostname as hostHostname } from "node:os";
import { join } from "node:path";
import { containerDir } from "../store/paths";
import { netnsPath } from "./attach";
import { resolvConf } from "./files";
import { exposedPorts, parseNetworkMode, type PortSpec } from "./ports";
import type { JoinTarget, SetupRequest } from "./request";

export interface NetworkPlan {
  /** -p, and with -P the image's exposed ports. */
  publish: PortSpec[];
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

/** `target`: for --network container:REF, the running container resolved by the caller. */
export function networkPlan(root: string, req: SetupRequest, target?: JoinTarget): NetworkPlan {
  const mode = parseNetworkMode(req.network);
  const resolv = { dns: req.dns, dnsSearch: req.dnsSearch, dnsOptions: req.dnsOptions };
  if (mode.kind === "host") {
    return { publish: req.publish, netnsPath: null, hostname: hostHostname(), resolvConf: resolvConf(hostResolvConf(), resolv, true) };
  }
  if (mode.kind === "none") return { publish: req.publish, netnsPath: undefined, resolvConf: resolvConf(hostResolvConf(), resolv) };
  if (mode.kind === "container") {
    if (!target) throw new Error(`networkPlan: --network ${req.network} needs its target resolved`);
    return { publish: req.publish, ...joinPlan(root, target, resolv) };
  }
  const publish = withExposed(req);
  // pasta: a namespace of its own (network/pasta.ts attaches the stack to it) and the host's
  // resolvers (reached through pasta as any outbound traffic), loopback ones dropped.
  if (mode.kind === "pasta") return { publish, netnsPath: netnsPath(root, req.id), resolvConf: resolvConf(hostResolvConf(), resolv) };
  return { publish, netnsPath: netnsPath(root, req.id), resolvConf: resolvConf(hostResolvConf(), userNetworkDns(req, resolv)) };
}

/** -p, and with -P the exposed ports not published already. */
function withExposed(req: SetupRequest): PortSpec[] {
  const publish = [...req.publish];
  if (req.publishAll) {
    for (const p of exposedPorts(req.exposed)) {
      if (!publish.some((q) => q.containerPort === p.containerPort && q.proto === p.proto)) publish.push(p);
    }
  }
  return publish;
}

/**
 * On a user network the container asks the network's resolver (network/dns.ts) at the
 * gateway, with the host's search and options kept (Docker's embedded DNS); --dns names other
 * servers instead (then names resolve through /etc/hosts only). The default bridge: the host's.
 */
function userNetworkDns(req: SetupRequest, resolv: { dns: string[]; dnsSearch: string[]; dnsOptions: string[] }) {
  return req.gateway === undefined || resolv.dns.length > 0 ? resolv : { ...resolv, dns: [req.gateway] };
}

function joinPlan(root: string, target: JoinTarget, resolv: { dns: string[]; dnsSearch: string[]; dnsOptions: string[] }): Omit<NetworkPlan, "publish"> {
  const own = netnsPath(root, target.id);
  let shared = hostResolvConf();
  try {
    shared = readFileSync(join(containerDir(root, target.id), "resolv.conf"), "utf8");
  } catch {
    // An older container without one: the host's, filtered.
    shared = resolvConf(shared, resolv);
  }
  const hosts = join(containerDir(root, target.id), "hosts");
  return { netnsPath: existsSync(own) ? own : `/proc/${target.pid}/ns/net`, resolvConf: shared, ...(existsSync(hosts) ? { sharedHosts: hosts } : {}) };
}
