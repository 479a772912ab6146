// `-p` and `--network` values → typed forms. Pure.
import { UsageError } from "../errors";
import { parseIp } from "./ipv4";

export interface PortSpec {
  hostIp: string; // 0.0.0.0: every address
  hostPort: number; // 0: pick a free one
  containerPort: number;
  proto: "tcp" | "udp";
}

function port(s: string, what: string, spec: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new UsageError(`invalid ${what} "${s}" in "${spec}": use a number 1-65535`);
  return n;
}

/** `[IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]` (port ranges are not supported). */
export function parsePublish(spec: string): PortSpec {
  const slash = spec.lastIndexOf("/");
  const protoText = slash < 0 ? "tcp" : spec.slice(slash + 1).toLowerCase();
  if (protoText !== "tcp" && protoText !== "udp") throw new UsageError(`invalid protocol "${protoText}" in "${spec}": use tcp or udp`);
  const body = slash < 0 ? spec : spec.slice(0, slash);
  const parts = body.split(":");
  if (parts.length > 3 || parts.some((p, i) => p === "" && !(parts.length === 3 && i === 1))) {
    throw new UsageError(`invalid publish "${spec}": use [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]`);
  }
  const containerPort = port(parts[parts.length - 1]!, "container port", spec);
  let hostIp = "0.0.0.0";
  let hostPort = 0;
  if (parts.length === 3) {
    hostIp = parts[0]!;
    if (parseIp(hostIp) === undefined) throw new UsageError(`invalid host address "${hostIp}" in "${spec}": use an IPv4 address`);
    if (parts[1] !== "") hostPort = port(parts[1]!, "host port", spec);
  } else if (parts.length === 2) {
    hostPort = port(parts[0]!, "host port", spec);
  }
  return { hostIp, hostPort, containerPort, proto: protoText };
}

/** Image ExposedPorts keys ("80/tcp") → specs with random host ports, for -P. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): PortSpec[] {
  return Object.keys(exposed ?? {}).flatMap((k) => {
    const m = /^(\d+)(?:\/(tcp|udp))?$/i.exec(k);
    if (!m) return [];
    return [{ hostIp: "0.0.0.0", hostPort: 0, containerPort: Number(m[1]), proto: (m[2]?.toLowerCase() ?? "tcp") as "tcp" | "udp" }];
  });
}

/** Modes that publish ports: a bridge (NAT) and pasta (its port forwarding). */
export function publishes(mode: NetworkMode): boolean {
  return mode.kind === "bridge" || mode.kind === "pasta";
}

export type NetworkMode =
  | { kind: "none" }
  | { kind: "host" }
  | { kind: "container"; ref: string }
  | { kind: "pasta" } // rootless tsd's user-mode stack (network/pasta.ts), its default
  | { kind: "bridge"; network: string }; // "bridge" is the default network

export function parseNetworkMode(s: string | undefined): NetworkMode {
  if (s === undefined || s === "" || s === "default" || s === "bridge") return { kind: "bridge", network: "bridge" };
  if (s === "none") return { kind: "none" };
  if (s === "host") return { kind: "host" };
  if (s === "pasta") return { kind: "pasta" };
  if (s.startsWith("container:")) {
    const ref = s.slice("container:".length);
    if (!ref) throw new UsageError(`invalid network "${s}": use container:NAME|ID`);
    return { kind: "container", ref };
  }
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s)) throw new UsageError(`invalid network name "${s}"`);
  return { kind: "bridge", network: s };
}
