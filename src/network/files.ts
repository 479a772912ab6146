// /etc/resolv.conf and /etc/hosts for a container. Pure: the host's file comes in as text.
import { parseIp } from "./ipv4";

export interface ResolvOptions {
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
}

// Docker's fallback when the host has only loopback resolvers (unreachable from a netns).
export const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

function isLoopback(ns: string): boolean {
  return ns.startsWith("127.") || ns === "::1" || ns === "0:0:0:0:0:0:0:1";
}

/**
 * The container's resolv.conf, as Docker builds it: the host's, with loopback nameservers
 * dropped (the fallback if none is left); --dns, --dns-search, --dns-option replace their
 * kind; `--dns-search .` means no search list. `keepLoopback` for --network host.
 */
export function resolvConf(host: string, o: ResolvOptions, keepLoopback = false): string {
  const ns: string[] = [];
  let search: string[] = [];
  let options: string[] = [];
  for (const raw of host.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === "nameserver" && rest[0]) ns.push(rest[0]);
    else if ((key === "search" || key === "domain") && rest.length) search = rest;
    else if (key === "options") options.push(...rest);
  }
  let servers = o.dns.length ? o.dns : keepLoopback ? ns : ns.filter((s) => !isLoopback(s));
  if (servers.length === 0) servers = FALLBACK_NAMESERVERS;
  if (o.dnsSearch.length) search = o.dnsSearch.filter((s) => s !== ".");
  if (o.dnsOptions.length) options = o.dnsOptions;
  const out = servers.map((s) => `nameserver ${s}`);
  if (search.length) out.push(`search ${search.join(" ")}`);
  if (options.length) out.push(`options ${options.join(" ")}`);
  return out.join("\n") + "\n";
}

export interface HostEntry {
  ip: string;
  names: string[];
}

/** `--add-host NAME:IP` (Docker also accepts NAME=IP); `host-gateway` is resolved by the caller. */
export function parseAddHost(s: string): HostEntry | undefined {
  const m = /^([^:=\s]+)[:=](.+)$/.exec(s);
  if (!m) return undefined;
  const ip = m[2]!.replace(/^\[(.*)\]$/, "$1");
  if (ip !== "host-gateway" && parseIp(ip) === undefined && !ip.includes(":")) return undefined;
  return { ip, names: [m[1]!] };
}

/**
 * /etc/hosts: localhost lines, the container's own address and name (none without an address,
 * as Docker's --network none: `hostname -i` fails there too), then peers on its user networks,
 * then --add-host entries.
 */
export function hostsFile(own: HostEntry | undefined, hostname: string, peers: HostEntry[], extra: HostEntry[]): string {
  const lines = [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
  ];
  if (own) lines.push(`${own.ip}\t${[...new Set([hostname, ...own.names])].join(" ")}`);
  for (const p of [...peers, ...extra]) lines.push(`${p.ip}\t${[...new Set(p.names)].join(" ")}`);
  return lines.join("\n") + "\n";
}
