// Names by DNS on user networks: one resolver per user network (`tsd-monitor --dns`,
// zig/monitor/dns_server.zig), started with the network's first endpoint and stopped with its
// last, like Podman's aardvark-dns. It listens on the bridge's gateway address, port 53/udp,
// answers the names, short ids and aliases of the network's containers from
// <root>/networks/<id>/dns-hosts (written here, atomically, on every change of the network's
// endpoints) and relays everything else to the host's resolvers (or network.json's
// "dns_upstream"). Its pid and start time are in <root>/networks/<id>/dns.pid; it exits by
// itself once that file stops naming it or dns-hosts is gone, so a CLI killed half-way leaves
// nothing the next command's reconcile does not end. The default bridge has none (as Docker's).
import type { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { helperExecutable } from "../native/embedded";
import { parseIp } from "./ipv4";
import { endpointsOf, endpointsOn, type NetworkRow } from "./networks";
import type { RequestOf } from "./request";

export const HOSTS_FILE = "dns-hosts";
export const PID_FILE = "dns.pid";
const MAX_UPSTREAMS = 4;
// Docker's fallback when the host has no usable resolver (as the default bridge's resolv.conf).
const FALLBACK_UPSTREAMS = ["8.8.8.8", "8.8.4.4"];

export function dnsDir(root: string, networkId: string): string {
  return join(root, "networks", networkId);
}

export interface DnsName {
  ip: string;
  names: string[];
  /** Answered only to the container at this address on the network (a name of one of its
   *  other networks): the line is `@CLIENT IP NAME…`. */
  client?: string;
}

/** dns-hosts: `[@CLIENT ]IP NAME…` a line, the container's name first (the PTR answer). Pure. */
export function dnsHostsText(entries: DnsName[]): string {
  const line = (e: DnsName) => `${e.client ? `@${e.client} ` : ""}${e.ip} ${[...new Set(e.names.filter((n) => /^[^\s#]+$/.test(n)))].join(" ")}\n`;
  return entries.map(line).join("");
}

/**
 * The resolver's upstreams: network.json's "dns_upstream" (a list of "IP" or "IP:PORT"), else
 * the IPv4 nameservers of the host's resolv.conf, loopback ones included (the resolver runs in
 * the host's network namespace, where 127.0.0.53 is reachable), else Docker's fallback. Pure.
 */
export function upstreams(configured: unknown, hostResolv: string): string[] {
  if (configured !== undefined) {
    const list = typeof configured === "string" ? [configured] : configured;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_UPSTREAMS || !list.every(validUpstream)) {
      throw new TsdError(`network.json: "dns_upstream" must be 1-${MAX_UPSTREAMS} addresses "IP" or "IP:PORT" (IPv4)`);
    }
    return list as string[];
  }
  const found: string[] = [];
  for (const raw of hostResolv.split("\n")) {
    const [key, value] = raw.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (key === "nameserver" && value && parseIp(value) !== undefined && !found.includes(value)) found.push(value);
  }
  return found.length ? found.slice(0, MAX_UPSTREAMS) : FALLBACK_UPSTREAMS;
}

function validUpstream(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(s);
  return !!m && parseIp(m[1]!) !== undefined && (m[2] === undefined || (Number(m[2]) > 0 && Number(m[2]) < 65536));
}

function configuredUpstreams(root: string): string[] {
  let configured: unknown;
  try {
    configured = (JSON.parse(readFileSync(join(root, "network.json"), "utf8")) as { dns_upstream?: unknown }).dns_upstream;
  } catch {
    // Absent or unreadable: defaultBridgeConfig reports a broken network.json.
  }
  let host = "";
  try {
    host = readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    // No resolv.conf: the fallback.
  }
  return upstreams(configured, host);
}

/** The names of `network`'s endpoints: each container's name, short id and aliases. */
function ownNames(db: Database, network: string, requestOf: RequestOf): DnsName[] {
  return endpointsOn(db, network).flatMap((e) => {
    const req = requestOf(e.container_id);
    if (!req) return [];
    return [{ ip: e.ip, names: [req.name, e.container_id.slice(0, 12), ...(JSON.parse(e.aliases) as string[])] }];
  });
}

/** The network's names, then, for each of its containers on other user networks too, those
 *  networks' names scoped to that container (Docker resolves all of a container's networks). */
function namesOn(db: Database, network: string, requestOf: RequestOf): DnsName[] {
  const own = ownNames(db, network, requestOf);
  const scoped = endpointsOn(db, network).flatMap((e) =>
    endpointsOf(db, e.container_id)
      .filter((o) => o.network !== network && !builtin(db, o.network))
      .flatMap((o) => ownNames(db, o.network, requestOf).map((n) => ({ ...n, client: e.ip }))),
  );
  return [...own, ...scoped];
}

/** The default bridge: no names by DNS there (Docker's has no embedded resolver either). */
function builtin(db: Database, network: string): boolean {
  return Boolean((db.query("SELECT builtin FROM networks WHERE name = ?").get(network) as { builtin: number } | null)?.builtin);
}

/** The user networks that share a container with `network` (their scoped names name its). */
function neighbours(db: Database, network: string): NetworkRow[] {
  return db
    .query(
      "SELECT DISTINCT n.* FROM endpoints a JOIN endpoints b ON a.container_id = b.container_id JOIN networks n ON n.name = b.network WHERE a.network = ? AND b.network != ?",
    )
    .all(network, network) as NetworkRow[];
}

/**
 * Field 22 of /proc/PID/stat, undefined for no such pid or a zombie (container/proc.ts has the
 * same; network/ does not import container/).
 */
function startTime(pid: number): string | undefined {
  if (!(pid > 0)) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" || fields[0] === "X" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function sameProcess(pid: number, start: string | undefined): boolean {
  return start !== undefined && startTime(pid) === start;
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  chmodSync(tmp, 0o644); // the umask must not hide it from the resolver (nobody)
  renameSync(tmp, path);
}

/** The recorded resolver when it still runs (pid and start time: a recycled pid never counts). */
export function runningResolver(dir: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, PID_FILE), "utf8");
  } catch {
    return undefined;
  }
  const [pid, start] = text.trim().split(" ");
  const n = Number(pid);
  return start && sameProcess(n, start) ? n : undefined;
}

/**
 * After any change of `net`'s endpoints: the names rewritten and the resolver started, or,
 * with no endpoint left, stopped. Under the database's write lock, so two commands never
 * start two. A resolver that cannot start is an error (the containers' resolv.conf names it).
 */
export function syncResolver(db: Database, root: string, net: NetworkRow, requestOf: RequestOf): void {
  if (net.builtin) return; // the default bridge has no resolver (nor do its neighbours' tables name it)
  syncOne(db, root, net, requestOf);
  for (const n of neighbours(db, net.name)) syncOne(db, root, n, requestOf);
}

function syncOne(db: Database, root: string, net: NetworkRow, requestOf: RequestOf): void {
  if (net.builtin) return;
  db.transaction(() => {
    const names = namesOn(db, net.name, requestOf);
    const dir = dnsDir(root, net.id);
    if (names.length === 0) return stopResolver(dir);
    mkdirSync(join(root, "networks"), { recursive: true, mode: 0o711 });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    writeAtomic(join(dir, HOSTS_FILE), dnsHostsText(names));
    if (runningResolver(dir) === undefined) startResolver(root, net, dir);
  }).immediate();
}

/** `tsd-monitor --dns …` (zig/CONTRACT.md; zig/contract.zig parses the fixture made from it). */
export function resolverArgv(dir: string, net: Pick<NetworkRow, "gateway" | "subnet">, ups: string[]): string[] {
  return ["--dns", "--dir", dir, "--listen", net.gateway, "--subnet", net.subnet, ...ups.flatMap((u) => ["--upstream", u])];
}

function startResolver(root: string, net: NetworkRow, dir: string): void {
  const args = resolverArgv(dir, net, configuredUpstreams(root));
  // The resolver is one long-lived process per network: no donor to share a copy with.
  const exe = helperExecutable();
  try {
    const r = Bun.spawnSync([exe.path, ...args], { argv0: exe.argv0, stdio: ["ignore", "ignore", "pipe"], env: {} });
    if (r.exitCode !== 0) {
      const why = r.stderr.toString().trim().split("\n")[0]?.replace(/^tsd-monitor: --dns: /, "") || `exit ${r.exitCode}`;
      throw new TsdError(`cannot start the DNS resolver of network ${net.name}: ${why}: is ${net.gateway}:53 taken by another program?`);
    }
  } finally {
    exe.close();
  }
}

/** Ends the resolver of `dir` (SIGTERM, then SIGKILL after 1 s) and removes its files. */
export function stopResolver(dir: string): void {
  const pid = runningResolver(dir);
  // Removed first: should the signal miss (a pid met between read and kill is another's only
  // if its start time changed, which runningResolver checked), the resolver still exits
  // within a second when it finds its files gone.
  rmSync(dir, { recursive: true, force: true });
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return; // gone already
  }
  const start = startTime(pid);
  for (let i = 0; i < 100 && sameProcess(pid, start); i++) Bun.sleepSync(10);
  if (sameProcess(pid, start)) process.kill(pid, "SIGKILL");
}

/**
 * The reconcile: a resolver whose network is gone or has no endpoint left is stopped (a CLI
 * killed between the release and the stop); a network with endpoints whose resolver died is
 * given a new one. Problems are reported, never fatal to the command that reconciles.
 */
export function reconcileResolvers(db: Database, root: string, requestOf: RequestOf): void {
  const base = join(root, "networks");
  const dirs = existsSync(base) ? readdirSync(base) : [];
  const nets = db.query("SELECT * FROM networks WHERE builtin = 0").all() as NetworkRow[];
  for (const id of dirs) {
    if (!nets.some((n) => n.id === id)) stopResolver(join(base, id));
  }
  for (const net of nets) {
    const used = (db.query("SELECT 1 FROM endpoints WHERE network = ? LIMIT 1").get(net.name) ?? undefined) !== undefined;
    const dir = dnsDir(root, net.id);
    if (used === (runningResolver(dir) !== undefined) && (used || !existsSync(dir))) continue;
    try {
      syncResolver(db, root, net, requestOf);
    } catch (e) {
      console.error(`tsd: ${(e as Error).message}`);
    }
  }
}
