// Outbound NAT (MASQUERADE) and published ports (DNAT) through nftables (table `ip tsd`) or
// iptables (chains TSD, TSD-POSTROUTING), whichever the host has. The fixed skeleton is made
// once; networks and ports are set/map elements (nft) or single rules (iptables), added and
// deleted symmetrically so a release can run twice.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { TsdError } from "../errors";

export interface NatNetwork {
  subnet: string; // CIDR
  bridge: string;
}

export interface NatPort {
  hostIp: string; // 0.0.0.0: every local address
  hostPort: number;
  proto: "tcp" | "udp";
  containerIp: string;
  containerPort: number;
}

export interface NatDriver {
  readonly name: "nftables" | "iptables";
  addNetwork(n: NatNetwork): void;
  removeNetwork(n: NatNetwork): void;
  /** All of a container's ports at once: one nft transaction, however many (-P of many). */
  addPorts(ps: NatPort[]): void;
  removePorts(ps: NatPort[]): void;
}

const SBIN = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

function findTool(name: string): string | undefined {
  for (const d of [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SBIN]) {
    if (existsSync(`${d}/${name}`)) return `${d}/${name}`;
  }
  return undefined;
}

function run(argv: string[], stdin?: string): { code: number; stderr: string } {
  const p = Bun.spawnSync(argv, { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "ignore", stderr: "pipe" });
  return { code: p.exitCode ?? 1, stderr: p.stderr.toString().trim() };
}

function must(argv: string[], what: string, stdin?: string): void {
  const r = run(argv, stdin);
  if (r.code !== 0) throw new TsdError(`${what}: ${argv[0]!.split("/").pop()} said: ${r.stderr.split("\n")[0]}`);
}

// One transaction: `create table` fails when the table exists, so concurrent first uses make
// the skeleton exactly once and never duplicate its rules.
export const NFT_SKELETON = `create table ip tsd
add set ip tsd nets { type ipv4_addr; flags interval; }
add set ip tsd bridges { type ifname; }
add map ip tsd ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
add map ip tsd ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
add chain ip tsd ports
add rule ip tsd ports dnat ip to ip daddr . meta l4proto . th dport map @ports_ip
add rule ip tsd ports dnat ip to meta l4proto . th dport map @ports_any
add chain ip tsd prerouting { type nat hook prerouting priority dstnat; policy accept; }
add rule ip tsd prerouting fib daddr type local jump ports
add chain ip tsd output { type nat hook output priority -100; policy accept; }
add rule ip tsd output fib daddr type local jump ports
add chain ip tsd postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule ip tsd postrouting ip saddr @nets oifname != @bridges masquerade
add rule ip tsd postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade
`;

// Added after the first skeleton shipped, so tables made by it get it too: the marker set's
// `create` fails when it exists, and with it the whole transaction. A container reaching a
// published port (its own, through hairpin mode, or another's on its bridge) must see the
// answer come from where it sent to: masquerade DNAT'd traffic from a subnet back into a bridge.
export const NFT_SKELETON_V2 = `create set ip tsd skeleton_v2 { type ipv4_addr; }
add rule ip tsd postrouting ip saddr @nets oifname @bridges ct status dnat masquerade
`;

// Networks are isolated from each other, as Docker's: nothing is forwarded from one tsd bridge
// to another (`same_bridge` holds "br" . "br" for each bridge: traffic within one passes).
export const NFT_SKELETON_V3 = `create set ip tsd skeleton_v3 { type ipv4_addr; }
add set ip tsd same_bridge { type ifname . ifname; }
add chain ip tsd forward { type filter hook forward priority filter; policy accept; }
add rule ip tsd forward iifname @bridges oifname @bridges iifname . oifname != @same_bridge drop
`;

// Containers must not reach the host's loopback-only services. A bridge has route_localnet
// (for published 127.0.0.1 ports), so the kernel no longer drops as martian a frame a container
// crafts (CAP_NET_RAW is in the default set) to the bridge's MAC with destination 127.0.0.1:
// the CVE-2020-8558 class. Drop it before conntrack (priority raw) sees it: a legitimate reply
// to a DNAT'd 127.0.0.1 connection carries the bridge's address on the wire, never 127/8.
export const NFT_SKELETON_V4 = `create set ip tsd skeleton_v4 { type ipv4_addr; }
add chain ip tsd guard { type filter hook prerouting priority raw; policy accept; }
add rule ip tsd guard iifname @bridges ip daddr 127.0.0.0/8 drop
`;

/** The table's upgrades in order: each fails as a whole once applied. */
const NFT_UPGRADES = [NFT_SKELETON_V2, NFT_SKELETON_V3, NFT_SKELETON_V4];
/** Named after the last upgrade: a tsd with a newer one runs its steps once. */
const NFT_UPGRADED_MARKER = "/run/tsd/nft-table-v4";

class Nftables implements NatDriver {
  readonly name = "nftables";
  constructor(private readonly nft: string) {}

  private upgraded = false;

  private makeSkeleton(): void {
    const r = run([this.nft, "-f", "-"], NFT_SKELETON + NFT_UPGRADES.join(""));
    // A parallel first use made it meanwhile: then it lists now.
    if (r.code !== 0 && run([this.nft, "list", "table", "ip", "tsd"]).code !== 0) {
      throw new TsdError(`cannot create the nftables table "ip tsd": ${r.stderr.split("\n")[0]}`);
    }
  }

  /** One nft transaction for all items (one process start); the table is made when missing. */
  private elements(op: "add" | "delete", items: [string, string][]): void {
    const script = items.map(([set, elem]) => `${op} element ip tsd ${set} { ${elem} }`).join("\n") + "\n";
    let r = run([this.nft, "-f", "-"], script);
    if (r.code === 0) return;
    if (op === "add") {
      this.makeSkeleton();
      r = run([this.nft, "-f", "-"], script);
      if (r.code !== 0) throw new TsdError(`nft: ${script.split("\n")[0]}: ${r.stderr.split("\n")[0]}`);
      return;
    }
    // A delete fails as a whole when one element is gone already (the idempotent case):
    // retry them one by one, ignoring those.
    for (const [set, elem] of items) {
      const one = run([this.nft, "delete", "element", "ip", "tsd", set, `{ ${elem} }`]);
      if (one.code !== 0 && !/does not exist|No such file/i.test(one.stderr)) {
        throw new TsdError(`nft delete element ${set} { ${elem} }: ${one.stderr.split("\n")[0]}`);
      }
    }
  }

  /**
   * Brings a table made by an older tsd up to date; each step fails once done (or with no table
   * yet). Each step is an nft process (~10 ms): a marker under /run (gone with the table at a
   * reboot) says it was done since boot. A table flushed by hand meanwhile is remade whole by the
   * first failing add (makeSkeleton).
   */
  private upgrade(): void {
    if (this.upgraded) return;
    this.upgraded = true;
    if (existsSync(NFT_UPGRADED_MARKER)) return;
    for (const step of NFT_UPGRADES) run([this.nft, "-f", "-"], step);
    try {
      mkdirSync(dirname(NFT_UPGRADED_MARKER), { recursive: true, mode: 0o755 });
      writeFileSync(NFT_UPGRADED_MARKER, "");
    } catch {
      // A read-only /run: the steps run again next time, which is only slower.
    }
  }

  addNetwork(n: NatNetwork): void {
    this.upgrade();
    this.elements("add", networkElements(n));
  }
  removeNetwork(n: NatNetwork): void {
    this.elements("delete", networkElements(n));
  }
  addPorts(ps: NatPort[]): void {
    if (ps.length === 0) return;
    this.upgrade();
    this.elements("add", ps.map(portElement));
  }
  removePorts(ps: NatPort[]): void {
    if (ps.length > 0) this.elements("delete", ps.map(portElement));
  }
}

export function networkElements(n: NatNetwork): [string, string][] {
  return [["nets", n.subnet], ["bridges", `"${n.bridge}"`], ["same_bridge", `"${n.bridge}" . "${n.bridge}"`]];
}

export function portElement(p: NatPort): [string, string] {
  const value = `${p.containerIp} . ${p.containerPort}`;
  if (p.hostIp === "0.0.0.0") return ["ports_any", `${p.proto} . ${p.hostPort} : ${value}`];
  return ["ports_ip", `${p.hostIp} . ${p.proto} . ${p.hostPort} : ${value}`];
}

class Iptables implements NatDriver {
  readonly name = "iptables";
  private ready = false;
  constructor(private readonly ipt: string) {}

  private base(): void {
    if (this.ready) return;
    // -N fails when the chain exists: whoever makes it adds the jumps.
    for (const [chain, jumps] of [
      ["TSD", [["PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL"], ["OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL"]]],
      ["TSD-POSTROUTING", [["POSTROUTING"]]],
    ] as const) {
      if (run([this.ipt, "-w", "-t", "nat", "-N", chain]).code === 0) {
        for (const [from, ...match] of jumps) this.ensure(["-t", "nat", from, ...match, "-j", chain]);
      }
    }
    this.ready = true;
  }

  private ensure(rule: readonly string[]): void {
    const [t, table, chain, ...spec] = rule;
    if (run([this.ipt, "-w", t!, table!, "-C", chain!, ...spec]).code === 0) return;
    must([this.ipt, "-w", t!, table!, "-A", chain!, ...spec], `iptables -A ${chain}`);
  }

  private remove(rule: readonly string[]): void {
    const [t, table, chain, ...spec] = rule;
    // -D deletes one copy; loop in case a race added two. Bounded.
    for (let i = 0; i < 4 && run([this.ipt, "-w", t!, table!, "-D", chain!, ...spec]).code === 0; i++);
  }

  private netRules(n: NatNetwork): string[][] {
    return [
      ["-t", "nat", "TSD-POSTROUTING", "-s", n.subnet, "!", "-o", n.bridge, "-j", "MASQUERADE"],
      ["-t", "nat", "TSD-POSTROUTING", "-s", "127.0.0.0/8", "-o", n.bridge, "-j", "MASQUERADE"],
      ["-t", "nat", "TSD-POSTROUTING", "-s", n.subnet, "-o", n.bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"],
      // The loopback guard (NFT_SKELETON_V4 says why), in raw: before conntrack undoes any NAT.
      ["-t", "raw", "PREROUTING", "-i", n.bridge, "-d", "127.0.0.0/8", "-j", "DROP"],
    ];
  }

  private portRule(p: NatPort): string[] {
    const dest = p.hostIp === "0.0.0.0" ? [] : ["-d", p.hostIp];
    return ["-t", "nat", "TSD", "-p", p.proto, ...dest, "--dport", String(p.hostPort), "-j", "DNAT", "--to-destination", `${p.containerIp}:${p.containerPort}`];
  }

  addNetwork(n: NatNetwork): void {
    this.base();
    this.netRules(n).forEach((r) => this.ensure(r));
  }
  removeNetwork(n: NatNetwork): void {
    this.netRules(n).forEach((r) => this.remove(r));
  }
  // One iptables process per rule (iptables-restore could batch them; nftables is the default).
  addPorts(ps: NatPort[]): void {
    if (ps.length === 0) return;
    this.base();
    for (const p of ps) this.ensure(this.portRule(p));
  }
  removePorts(ps: NatPort[]): void {
    for (const p of ps) this.remove(this.portRule(p));
  }
}

const cached = new Map<string, NatDriver | null>();

/**
 * The host's NAT tool: nftables first, then iptables. `prefer` ("nftables" | "iptables", from
 * <root>/network.json "nat") forces one, "none" turns NAT off (a host whose firewall is
 * managed by something else; containers then reach only the host and their networks): every command under a root must use the same one,
 * since the rules one adds are removed by another (the monitor's cleanup, rm, reconcile).
 */
export function natDriver(prefer?: string): NatDriver | null {
  const key = prefer ?? "";
  if (cached.has(key)) return cached.get(key)!;
  if (prefer === "none") {
    cached.set(key, null);
    return null;
  }
  const nft = prefer === "iptables" ? undefined : findTool("nft");
  const ipt = prefer === "nftables" ? undefined : findTool("iptables");
  let d: NatDriver | null = null;
  // The binary is enough: probing the kernel would cost a process start on every run.
  if (nft) d = new Nftables(nft);
  else if (ipt) d = new Iptables(ipt);
  cached.set(key, d);
  return d;
}

/** The driver, or the clear error when the user asked for something that needs one. */
export function requireNat(what: string, prefer?: string): NatDriver {
  if (prefer === "none") throw new TsdError(`${what} needs NAT, which this root turns off ("nat": "none" in network.json): set "nftables" or "iptables" there`);
  const d = natDriver(prefer);
  if (!d) throw new TsdError(`${what} needs nftables or iptables and this host has neither: install nftables (apt-get install nftables)`);
  return d;
}

export function enableForwarding(bridge: string): void {
  writeSysctl("/proc/sys/net/ipv4/ip_forward", "1");
  // 127.0.0.1:PORT → a container: DNAT'd packets keep their loopback source (then masqueraded)
  // and must be routable out of the bridge, as Docker's route_localnet does.
  writeSysctl(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, "1");
}

function writeSysctl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw new TsdError(`cannot set ${path.slice("/proc/sys/".length).replaceAll("/", ".")}=${value}: ${(e as Error).message}`);
  }
}
