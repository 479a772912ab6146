// Networks in the database: the built-in "bridge" (made on first use from <root>/network.json
// or the defaults) and user-defined ones (network create). IPAM leases live in `endpoints`.
import { networkEvent } from "./events";
import type { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { randomId } from "../store/ids";
import { broadcast, contains, formatIp, formatSubnet, overlaps, parseIp, parseSubnet, type Subnet } from "./ipv4";

export interface NetworkRow {
  name: string;
  id: string;
  bridge: string;
  subnet: string;
  gateway: string;
  mtu: number;
  builtin: number;
  created_at: number;
}

export interface EndpointRow {
  container_id: string;
  network: string;
  ip: string;
  mac: string;
  ifname: string;
  host_ifname: string;
  aliases: string; // JSON array
}

export const DEFAULT_BRIDGE = "tsd0";
export const DEFAULT_SUBNET = "10.89.0.0/16";

/**
 * `<root>/network.json`: {"bridge": "tsd0", "subnet": "10.89.0.0/16", "mtu": 1500,
 * "nat": "nftables" | "iptables" | "none"}, all optional.
 */
export function defaultBridgeConfig(root: string): { bridge: string; subnet: string; mtu: number; nat?: string } {
  const path = join(root, "network.json");
  let cfg: { bridge?: string; subnet?: string; mtu?: number; nat?: string } = {};
  if (existsSync(path)) {
    try {
      cfg = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new TsdError(`${path}: ${(e as Error).message}: fix or remove it`);
    }
  }
  if (cfg.nat !== undefined && cfg.nat !== "nftables" && cfg.nat !== "iptables" && cfg.nat !== "none") {
    throw new TsdError(`${path}: "nat" must be "nftables", "iptables" or "none", not "${cfg.nat}"`);
  }
  return { bridge: cfg.bridge ?? DEFAULT_BRIDGE, subnet: cfg.subnet ?? DEFAULT_SUBNET, mtu: cfg.mtu ?? 1500, ...(cfg.nat ? { nat: cfg.nat } : {}) };
}

export function findNetwork(db: Database, ref: string): NetworkRow | undefined {
  const row = db.query("SELECT * FROM networks WHERE name = ? OR id = ?").get(ref, ref) as NetworkRow | null;
  if (row) return row;
  if (!/^[a-f0-9]+$/.test(ref)) return undefined;
  const rows = db.query("SELECT * FROM networks WHERE id LIKE ? || '%' LIMIT 2").all(ref) as NetworkRow[];
  return rows.length === 1 ? rows[0] : undefined;
}

export function listNetworks(db: Database): NetworkRow[] {
  return db.query("SELECT * FROM networks ORDER BY builtin DESC, name").all() as NetworkRow[];
}

/** The network a container asked for; "bridge" is made on first use. */
export function networkByName(db: Database, root: string, name: string): NetworkRow {
  if (name === "bridge") {
    const existing = findNetwork(db, "bridge");
    if (existing) return existing;
    const cfg = defaultBridgeConfig(root);
    const subnet = parseSubnet(cfg.subnet);
    if (!subnet) throw new TsdError(`invalid subnet "${cfg.subnet}" in ${join(root, "network.json")}: use a CIDR such as 10.89.0.0/16`);
    db.query("INSERT OR IGNORE INTO networks (name, id, bridge, subnet, gateway, mtu, builtin, created_at) VALUES ('bridge', ?, ?, ?, ?, ?, 1, ?)").run(
      randomId(), cfg.bridge, formatSubnet(subnet), formatIp(subnet.network + 1), cfg.mtu, Date.now(),
    );
    return findNetwork(db, "bridge")!;
  }
  const row = findNetwork(db, name);
  if (!row) throw new TsdError(`network ${name} not found: create it with 'tsd network create ${name}'`);
  return row;
}

export interface CreateNetwork {
  name: string;
  subnet?: string;
  gateway?: string;
  bridge?: string;
  mtu?: number;
}

/** A subnet no other network and no host route uses: 10.90.N.0/24, N counting up. */
function autoSubnet(taken: Subnet[]): Subnet {
  for (let n = 0; n < 256; n++) {
    const s = { network: parseIp(`10.90.${n}.0`)!, prefix: 24 };
    if (!taken.some((t) => overlaps(t, s))) return s;
  }
  throw new TsdError("no free subnet left in 10.90.0.0/16: give one with --subnet");
}

/** The IPv4 routes of the host's main table (/proc/net/route), to avoid overlapping them. */
export function hostRoutes(text: string): Subnet[] {
  return text.split("\n").slice(1).flatMap((line) => {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) return [];
    const dst = Number.parseInt(f[1]!, 16);
    const m = Number.parseInt(f[7]!, 16);
    if (!m) return []; // the default route overlaps everything by definition
    const le = (x: number) => (((x & 255) << 24) | (((x >>> 8) & 255) << 16) | (((x >>> 16) & 255) << 8) | (x >>> 24)) >>> 0;
    const prefix = le(m).toString(2).replace(/0+$/, "").length;
    return [{ network: le(dst), prefix }];
  });
}

export function createNetwork(db: Database, c: CreateNetwork): NetworkRow {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(c.name)) throw new TsdError(`invalid network name "${c.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (["bridge", "host", "none", "default", "pasta"].includes(c.name)) throw new TsdError(`network name "${c.name}" is reserved: choose another`);
  const id = randomId();
  const bridge = c.bridge ?? `br-${id.slice(0, 12)}`;
  if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw new TsdError(`invalid bridge name "${bridge}": at most 15 of [a-zA-Z0-9_.-]`);
  return db.transaction((): NetworkRow => {
    if (findNetwork(db, c.name)) throw new TsdError(`network with name ${c.name} already exists`);
    const others = listNetworks(db).map((n) => parseSubnet(n.subnet)!);
    let subnet: Subnet;
    if (c.subnet !== undefined) {
      const s = parseSubnet(c.subnet);
      if (!s) throw new TsdError(`invalid subnet "${c.subnet}": use a CIDR with a prefix of 8-30, e.g. 10.91.0.0/24`);
      if (others.some((o) => overlaps(o, s))) throw new TsdError(`subnet ${c.subnet} overlaps another network: choose another`);
      subnet = s;
    } else {
      let routes: Subnet[] = [];
      try {
        routes = hostRoutes(readFileSync("/proc/net/route", "utf8"));
      } catch {
        // No procfs route table: only the networks' own subnets are avoided.
      }
      subnet = autoSubnet([...others, ...routes]);
    }
    let gateway = subnet.network + 1;
    if (c.gateway !== undefined) {
      const g = parseIp(c.gateway);
      if (g === undefined || !contains(subnet, g) || g === subnet.network || g === broadcast(subnet)) {
        throw new TsdError(`invalid gateway "${c.gateway}": use a host address inside ${formatSubnet(subnet)}`);
      }
      gateway = g;
    }
    if (db.query("SELECT 1 FROM networks WHERE bridge = ?").get(bridge)) throw new TsdError(`bridge ${bridge} is used by another network`);
    db.query("INSERT INTO networks (name, id, bridge, subnet, gateway, mtu, builtin, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)").run(
      c.name, id, bridge, formatSubnet(subnet), formatIp(gateway), c.mtu ?? 1500, Date.now(),
    );
    networkEvent(db, "create", c.name);
    return findNetwork(db, c.name)!;
  }).immediate();
}

export function endpointsOf(db: Database, containerId: string): EndpointRow[] {
  return db.query("SELECT * FROM endpoints WHERE container_id = ? ORDER BY ifname").all(containerId) as EndpointRow[];
}

export function endpointsOn(db: Database, network: string): EndpointRow[] {
  return db.query("SELECT * FROM endpoints WHERE network = ? ORDER BY ip").all(network) as EndpointRow[];
}
