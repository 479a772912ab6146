// A container's network while it runs: its namespace file <root>/netns/<id>, one veth per
// network, the IPAM lease, published ports, and the generated hosts file. connect() runs
// before the monitor starts; release() runs from the cleanup command, rm, and reconcile,
// and is idempotent: every step tolerates what is already gone. Containers reach this module
// as narrow requests (request.ts) that container/network.ts builds from their rows.
import { networkEvent } from "./events";
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { netAttach, netBridge, netLinkDelete, netLinkDown, netnsRemove } from "../native/ffi";
import { containerDir } from "../store/paths";
import { contains, firstFree, formatIp, macForIp, parseIp, parseMac, parseSubnet, type Subnet } from "./ipv4";
import { defaultBridgeConfig, endpointsOf, endpointsOn, networkByName, type EndpointRow, type NetworkRow } from "./networks";
import { enableForwarding, natDriver, requireNat, type NatDriver } from "./nat";
import { hostsFile, parseAddHost, type HostEntry } from "./files";
import { recordNetworkState } from "./record";
import { parseNetworkMode, type PortSpec } from "./ports";
import type { EndpointRequest, RequestOf } from "./request";
import { dnsDir, reconcileResolvers, stopResolver, syncResolver } from "./dns";
import { claimPorts, type Reclaim } from "./claim";
import { connectPasta, pastaGateway, pastaHolders, stopPasta } from "./pasta";
import { rootlessMode } from "../store/rootless";

/** The root's NAT driver (its network.json may pin one); rootless tsd has none (no bridge). */
function natOf(root: string): NatDriver | null {
  return rootlessMode() ? null : natDriver(defaultBridgeConfig(root).nat);
}

export function netnsPath(root: string, id: string): string {
  return join(root, "netns", id);
}

/**
 * Sets up the container's networks before its start. On failure everything made here is
 * released and the error is thrown.
 */
export async function connectContainer(db: Database, root: string, req: EndpointRequest, requestOf: RequestOf, reclaim?: Reclaim): Promise<void> {
  const mode = parseNetworkMode(req.network);
  if (mode.kind === "pasta") return connectUserMode(db, root, req, requestOf, reclaim);
  if (mode.kind !== "bridge") {
    writeHosts(db, root, req, requestOf);
    return;
  }
  try {
    const net = networkByName(db, root, mode.network);
    await attachEndpoint(db, root, req, net, { aliases: req.aliases, ip: req.ip, mac: req.mac, first: true, reclaim }, requestOf);
    await publishPorts(db, root, req.id, req.publish, reclaim);
    recordNetworkState(db, root, req.id);
  } catch (e) {
    releaseContainer(db, root, req.id, requestOf);
    throw e;
  }
}

/** Rootless: the container's namespace with pasta attached (pasta.ts). */
async function connectUserMode(db: Database, root: string, req: EndpointRequest, requestOf: RequestOf, reclaim?: Reclaim): Promise<void> {
  try {
    await connectPasta(db, root, req.id, req.publish, reclaim);
    writeHosts(db, root, req, requestOf);
  } catch (e) {
    releaseContainer(db, root, req.id, requestOf);
    throw e;
  }
}

export interface EndpointOptions {
  aliases: string[];
  ip?: string;
  mac?: string;
  first: boolean; // gets the default route and creates the namespace
  /** Called once when no address is left (or the asked one is taken), then the lease is tried again. */
  reclaim?: Reclaim | undefined;
}

/**
 * Reclaim (claim.ts) frees what dead containers still hold (their leases and ports). A start
 * does not reconcile before it leases (that reads /proc once per address holder: O(N) per
 * run); it calls it only when an address or a host port it needs is taken, then tries once more.
 */
export type { Reclaim };

/** No address left on a network, or the asked one taken: what a reclaim may cure. */
export class Taken extends TsdError {}

type Who = Pick<EndpointRequest, "id" | "name">;

/** Leases an address on `net`, makes the bridge if needed, and plugs a veth into the namespace. */
export async function attachEndpoint(db: Database, root: string, c: Who, net: NetworkRow, o: EndpointOptions, requestOf: RequestOf): Promise<EndpointRow> {
  const subnet = parseSubnet(net.subnet)!;
  if (o.ip !== undefined && net.name === "bridge") {
    throw new TsdError("user specified IP address is supported on user defined networks only: create one with 'tsd network create --subnet CIDR NAME'");
  }
  if (o.mac !== undefined && !parseMac(o.mac)) throw new TsdError(`invalid MAC address "${o.mac}": use six unicast hex bytes, e.g. 02:42:0a:00:00:05`);
  let ep: EndpointRow;
  try {
    ep = lease(db, root, c, net, subnet, o);
  } catch (e) {
    if (!(e instanceof Taken) || !o.reclaim) throw e;
    o.reclaim();
    ep = lease(db, root, c, net, subnet, o);
  }
  plugVeth(db, root, c.id, net, subnet, ep, o.first);
  // A container reaching its own published port: the DNAT'd packet leaves through the port it
  // came in by (Docker sets this too when it publishes without its proxy).
  try {
    writeFileSync(`/sys/class/net/${ep.host_ifname}/brport/hairpin_mode`, "1");
  } catch {
    // Not a bridge port after all (cannot happen) or no sysfs: only the hairpin case is lost.
  }
  refreshHosts(db, root, net.name, c.id, requestOf);
  try {
    syncResolver(db, root, net, requestOf);
  } catch (e) {
    dropEndpoint(db, ep);
    refreshHosts(db, root, net.name, c.id, requestOf);
    syncResolverQuietly(db, root, net.name, requestOf);
    throw e;
  }
  return ep;
}

/** syncResolver where a failure must not stop a release: reported on stderr. */
function syncResolverQuietly(db: Database, root: string, network: string, requestOf: RequestOf): void {
  const net = db.query("SELECT * FROM networks WHERE name = ?").get(network) as NetworkRow | null;
  if (!net) return;
  try {
    syncResolver(db, root, net, requestOf);
  } catch (e) {
    console.error(`tsd: ${(e as Error).message}`);
  }
}

/** The next free (or the asked) address on `net`, or the error saying why there is none. */
function pickAddress(net: NetworkRow, subnet: Subnet, used: Set<number>, asked: string | undefined): number {
  if (asked === undefined) {
    const ip = firstFree(subnet, used);
    if (ip === undefined) throw new Taken(`no free address left on network ${net.name} (${net.subnet})`);
    return ip;
  }
  const ip = parseIp(asked);
  if (ip === undefined || !contains(subnet, ip)) throw new TsdError(`invalid --ip "${asked}": use an address inside ${net.subnet}`);
  if (used.has(ip)) throw new Taken(`address ${asked} is already in use on network ${net.name}`);
  return ip;
}

/**
 * The lease, and the bridge made inside the same write lock, so release() of the last
 * endpoint elsewhere (which deletes an empty bridge) cannot interleave with our use of it.
 */
function lease(db: Database, root: string, c: Who, net: NetworkRow, subnet: Subnet, o: EndpointOptions): EndpointRow {
  return db.transaction((): EndpointRow => {
    const mine = endpointsOf(db, c.id);
    if (mine.some((e) => e.network === net.name)) throw new TsdError(`container ${c.name} is already connected to network ${net.name}`);
    const used = new Set(endpointsOn(db, net.name).map((e) => parseIp(e.ip)!));
    used.add(parseIp(net.gateway)!);
    const ip = pickAddress(net, subnet, used, o.ip);
    const index = mine.length;
    if (index > 9) throw new TsdError(`container ${c.name} has too many networks (10 at most)`);
    const e: EndpointRow = {
      container_id: c.id,
      network: net.name,
      ip: formatIp(ip),
      mac: o.mac?.toLowerCase() ?? macForIp(ip),
      ifname: `eth${index}`,
      host_ifname: `tv${c.id.slice(0, 12)}${index}`,
      aliases: JSON.stringify(o.aliases),
    };
    db.query("INSERT INTO endpoints (container_id, network, ip, mac, ifname, host_ifname, aliases) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
      e.container_id, e.network, e.ip, e.mac, e.ifname, e.host_ifname, e.aliases,
    );
    networkEvent(db, "connect", e.network, { container: e.container_id });
    // Inside the write lock: a prune (which deletes an unused bridge under the same lock)
    // cannot interleave with making it here.
    bringUpNetwork(root, net);
    return e;
  }).immediate();
}

/** The veth pair into the container's namespace (made by the first); the lease goes on failure. */
function plugVeth(db: Database, root: string, id: string, net: NetworkRow, subnet: Subnet, ep: EndpointRow, first: boolean): void {
  const ns = netnsPath(root, id);
  mkdirSync(join(root, "netns"), { recursive: true, mode: 0o711 });
  // A restart right after an exit can find this container's previous pair still there: its
  // release only took it down and left the deletion to the namespace's (asynchronous) end.
  if (existsSync(`/sys/class/net/${ep.host_ifname}`)) netLinkDelete(ep.host_ifname);
  for (let attempt = 0; ; attempt++) {
    try {
      netAttach({
        nsPath: ns,
        create: !existsSync(ns),
        ifname: ep.ifname,
        hostIfname: ep.host_ifname,
        bridge: net.bridge,
        ip: parseIp(ep.ip)!,
        prefix: subnet.prefix,
        gateway: first ? parseIp(net.gateway)! : 0,
        mac: parseMac(ep.mac),
        mtu: net.mtu,
      });
      return;
    } catch (e) {
      // Another root sharing this bridge name deleted it between our lease and the attach.
      if (attempt < 3 && /find the bridge/.test((e as Error).message)) {
        bringUpNetwork(root, net);
        continue;
      }
      dropEndpoint(db, ep);
      throw e;
    }
  }
}

/**
 * The bridge and its NAT, made together when the bridge is missing; they then stay while the
 * network exists (as docker0 does): making and deleting them per run cost ~65 ms (bench/).
 * `network rm` and `network prune` take them down.
 */
function bringUpNetwork(root: string, net: NetworkRow): void {
  if (existsSync(`/sys/class/net/${net.bridge}`)) return;
  const subnet = parseSubnet(net.subnet)!;
  netBridge(net.bridge, parseIp(net.gateway)!, subnet.prefix, net.mtu);
  const nat = natOf(root);
  if (nat) {
    // The loopback guard comes with the network's rules: in place before route_localnet opens.
    nat.addNetwork({ subnet: net.subnet, bridge: net.bridge });
    enableForwarding(net.bridge);
  }
}

/** Deletes an endpoint's veth and its lease. */
function dropEndpoint(db: Database, ep: EndpointRow): void {
  netLinkDelete(ep.host_ifname);
  db.query("DELETE FROM endpoints WHERE container_id = ? AND network = ?").run(ep.container_id, ep.network);
  networkEvent(db, "disconnect", ep.network, { container: ep.container_id });
}

/** A network's bridge and NAT rules (network rm, prune): the caller holds the write lock and saw no endpoint. */
export function tearDownNetwork(root: string, net: NetworkRow): void {
  stopResolver(dnsDir(root, net.id));
  natOf(root)?.removeNetwork({ subnet: net.subnet, bridge: net.bridge });
  // Another root may share the bridge name (its own leases are not ours to see): a bridge with
  // ports left is still in use.
  // Ports taken down by a release (their namespace is being destroyed) do not count.
  let ports: string[] = [];
  try {
    ports = readdirSync(`/sys/class/net/${net.bridge}/brif`).filter((p) => isUp(p));
  } catch {
    // Gone already, or no sysfs: delete is idempotent.
  }
  if (ports.length === 0) netLinkDelete(net.bridge);
}

function isUp(link: string): boolean {
  try {
    return (Number.parseInt(readFileSync(`/sys/class/net/${link}/flags`, "utf8"), 16) & 1) === 1;
  } catch {
    return false;
  }
}

/** Reserves each host port (db row + a bind test) and adds its DNAT. A taken port is an error. */
async function publishPorts(db: Database, root: string, id: string, specs: PortSpec[], reclaim?: Reclaim): Promise<void> {
  if (specs.length === 0) return;
  const nat = requireNat("publishing ports (-p/-P)", defaultBridgeConfig(root).nat);
  const ep = endpointsOf(db, id)[0];
  if (!ep) throw new TsdError("publishing ports needs a bridge network: drop -p or use --network bridge|NAME");
  // Claimed one by one, published at once.
  nat.addPorts(await claimPorts(db, id, specs, ep.ip, reclaim));
}

export interface PortRow {
  container_id: string;
  host_ip: string;
  host_port: number;
  proto: "tcp" | "udp";
  container_ip: string;
  container_port: number;
}

export function portsOf(db: Database, id: string): PortRow[] {
  return db.query("SELECT * FROM ports WHERE container_id = ? ORDER BY container_port, proto").all(id) as PortRow[];
}

/** One published port as Docker's PORTS column prints it: "0.0.0.0:8080->80/tcp". */
const portText = (p: PortRow) => `${p.host_ip}:${p.host_port}->${p.container_port}/${p.proto}`;

/** ps's Networks field (the networks each container holds an address on, by ifname) and its
 *  PORTS column ("0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp"), every container in two queries. */
export function listingTexts(db: Database): { networks: Map<string, string>; ports: Map<string, string> } {
  const networks = new Map<string, string>();
  const eps = db.query("SELECT container_id, network FROM endpoints ORDER BY container_id, ifname").all() as { container_id: string; network: string }[];
  for (const e of eps) networks.set(e.container_id, networks.has(e.container_id) ? `${networks.get(e.container_id)},${e.network}` : e.network);
  const ports = new Map<string, string>();
  const rows = db.query("SELECT * FROM ports ORDER BY container_id, container_port, proto").all() as PortRow[];
  for (const p of rows) {
    const text = portText(p);
    ports.set(p.container_id, ports.has(p.container_id) ? `${ports.get(p.container_id)}, ${text}` : text);
  }
  return { networks, ports };
}

/** Everything connect() made, in reverse; safe to run again and on a half-made container. */
export function releaseContainer(db: Database, root: string, id: string, requestOf: RequestOf): void {
  if (rootlessMode()) stopPasta(root, id); // pasta is rootless only (container/network.ts)
  const ports = portsOf(db, id);
  natOf(root)?.removePorts(ports.map((p) => ({ hostIp: p.host_ip, hostPort: p.host_port, proto: p.proto, containerIp: p.container_ip, containerPort: p.container_port })));
  db.query("DELETE FROM ports WHERE container_id = ?").run(id);
  const eps = endpointsOf(db, id);
  // Down, not deleted: a delete waits out an RCU grace period (~30 ms, bench/network.sh), while
  // the namespace going away below deletes every veth pair in it, asynchronously and batched.
  // Down at once, so a reused address never meets the old pair on the bridge.
  for (const ep of eps) {
    netLinkDown(ep.host_ifname);
    db.query("DELETE FROM endpoints WHERE container_id = ? AND network = ?").run(ep.container_id, ep.network);
    networkEvent(db, "disconnect", ep.network, { container: ep.container_id });
  }
  netnsRemove(netnsPath(root, id));
  recordNetworkState(db, root, id);
  for (const ep of eps) refreshHosts(db, root, ep.network, id, requestOf);
  for (const ep of eps) syncResolverQuietly(db, root, ep.network, requestOf);
}

/** Detaches one network from a running container (network disconnect). */
export function detachEndpoint(db: Database, root: string, c: Pick<EndpointRequest, "id">, network: string, requestOf: RequestOf): void {
  const ep = endpointsOf(db, c.id).find((e) => e.network === network);
  if (!ep) throw new TsdError(`container ${c.id.slice(0, 12)} is not connected to network ${network}`);
  dropEndpoint(db, ep);
  recordNetworkState(db, root, c.id);
  refreshHosts(db, root, network, c.id, requestOf);
  syncResolverQuietly(db, root, network, requestOf);
  // Its other networks' resolvers no longer answer it this network's names.
  for (const e of endpointsOf(db, c.id)) syncResolverQuietly(db, root, e.network, requestOf);
}

/**
 * Frees what containers that can no longer use it still hold. `holds` says which may (their
 * state is container/state.ts's to decide: mayHoldNetwork); rows that are gone hold nothing.
 */
export function reconcile(db: Database, root: string, holds: (id: string) => boolean, requestOf: RequestOf): void {
  for (const id of holderIds(db, root)) if (!holds(id)) releaseContainer(db, root, id, requestOf);
  reconcileResolvers(db, root, requestOf);
}

/** The containers that hold a lease, a port or (rootless) a pasta. */
export function holderIds(db: Database, root: string): Set<string> {
  const held = db
    .query("SELECT DISTINCT container_id FROM endpoints UNION SELECT DISTINCT container_id FROM ports")
    .all() as { container_id: string }[];
  return new Set([...held.map((h) => h.container_id), ...(rootlessMode() ? pastaHolders(root) : [])]);
}

/** Rewrites the hosts file of every other container on a user network (names come and go). */
function refreshHosts(db: Database, root: string, network: string, except: string, requestOf: RequestOf): void {
  if (network !== "bridge") {
    for (const e of endpointsOn(db, network)) {
      if (e.container_id === except) continue;
      const peer = requestOf(e.container_id);
      if (peer) writeHosts(db, root, peer, requestOf);
    }
  }
  const own = requestOf(except);
  if (own) writeHosts(db, root, own, requestOf);
}

/**
 * The container's /etc/hosts from its current leases: its own address and name, the names and
 * aliases of peers on its user networks, and --add-host. Written in place: it is bind-mounted.
 */
export function writeHosts(db: Database, root: string, req: EndpointRequest, requestOf: RequestOf): void {
  const path = join(containerDir(root, req.id), "hosts");
  if (!existsSync(path)) return;
  const mine = endpointsOf(db, req.id);
  const peers: HostEntry[] = [];
  for (const ep of mine) {
    if (ep.network === "bridge") continue;
    for (const other of endpointsOn(db, ep.network)) {
      if (other.container_id === req.id) continue;
      const name = requestOf(other.container_id)?.name;
      if (name === undefined) continue;
      peers.push({ ip: other.ip, names: [name, other.container_id.slice(0, 12), ...(JSON.parse(other.aliases) as string[])] });
    }
  }
  const gateway = mine[0] ? (db.query("SELECT gateway FROM networks WHERE name = ?").get(mine[0].network) as { gateway: string } | null)?.gateway : parseNetworkMode(req.network).kind === "pasta" ? pastaGateway() : undefined;
  const extra = req.addHost.flatMap((h) => {
    const e = parseAddHost(h);
    if (!e) return [];
    if (e.ip === "host-gateway") return gateway ? [{ ip: gateway, names: e.names }] : [];
    return [e];
  });
  const own = mine[0] ? { ip: mine[0].ip, names: [req.name, ...mine.flatMap((e) => JSON.parse(e.aliases) as string[])] } : undefined;
  writeFileSync(path, hostsFile(own, req.hostname, peers, extra));
}
