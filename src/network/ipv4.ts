// IPv4 addresses as numbers and CIDR subnets: the arithmetic IPAM and the rules need. Pure.

export interface Subnet {
  network: number; // the first address, host order
  prefix: number;
}

export function parseIp(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.88.0.0/16" → the subnet; host bits set ("10.88.0.1/16") are cleared, as Docker does. */
export function parseSubnet(s: string): Subnet | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 30 || prefix < 8) return undefined;
  return { network: (ip & mask(prefix)) >>> 0, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.network)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.prefix)) >>> 0) === s.network;
}

export function broadcast(s: Subnet): number {
  return (s.network | (~mask(s.prefix) >>> 0)) >>> 0;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.network & mask(p)) >>> 0) === ((b.network & mask(p)) >>> 0);
}

/** The lowest address of `s` that is neither the network, the broadcast nor in `used`. */
export function firstFree(s: Subnet, used: Set<number>): number | undefined {
  const last = broadcast(s);
  for (let ip = s.network + 1; ip < last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** Docker's MAC for an address: 02:42 then the four address bytes. */
export function macForIp(ip: number): string {
  return ["02", "42", ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, "0"))].join(":");
}

export function parseMac(s: string): number[] | undefined {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s)) return undefined;
  const bytes = s.split(":").map((b) => parseInt(b, 16));
  if ((bytes[0]! & 1) !== 0) return undefined; // multicast
  return bytes;
}
