// Registry settings tsd reads from its config file, /etc/tsd/config.json by default
// (TSD_CONFIG overrides the path). The keys follow Docker's daemon.json where it has one:
//
//   {
//     "registry-mirrors": ["https://mirror.example", "http://127.0.0.1:5001"],
//     "insecure-registries": ["registry.lan:5000"],
//     "registry-ca": { "registry.lan:5443": "/etc/tsd/registry-lan-ca.pem" },
//     "registry-timeout": 30,
//     "registry-retries": 3
//   }
//
// Mirrors serve docker.io only and are tried in order before Docker Hub itself. Insecure
// registries may be reached over plain HTTP (localhost and 127.0.0.0/8 always may). A CA file
// is trusted beside the system bundle for that registry. The timeout (seconds) bounds waiting
// for response headers and for each read of a body.
import { existsSync, readFileSync } from "node:fs";
import { TsdError } from "../../errors";

export const DEFAULT_CONFIG = "/etc/tsd/config.json";

export interface RegistryConfig {
  mirrors: string[];
  insecure: string[];
  ca: Record<string, string>;
  timeoutMs: number;
  retries: number;
}

export function configPath(env: Record<string, string | undefined> = process.env): string {
  return env.TSD_CONFIG || DEFAULT_CONFIG;
}

export function loadRegistryConfig(env: Record<string, string | undefined> = process.env): RegistryConfig {
  const path = configPath(env);
  if (!existsSync(path)) return parseRegistryConfig({}, path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new TsdError(`cannot read the tsd config ${path}: ${(e as Error).message}: fix or remove it`);
  }
  return parseRegistryConfig(raw, path);
}

export function parseRegistryConfig(raw: unknown, path: string): RegistryConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TsdError(`the tsd config ${path} is not a JSON object`);
  const o = raw as Record<string, unknown>;
  const strings = (key: string): string[] => {
    const v = o[key] ?? [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) throw new TsdError(`"${key}" in ${path} must be a list of strings`);
    return v as string[];
  };
  const mirrors = strings("registry-mirrors").map((m) => {
    let u: URL;
    try {
      u = new URL(m);
    } catch {
      throw new TsdError(`registry mirror "${m}" in ${path} is not a URL (want https://host[:port])`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TsdError(`registry mirror "${m}" in ${path} must be http:// or https://`);
    return `${u.protocol}//${u.host}`;
  });
  const ca = o["registry-ca"] ?? {};
  if (typeof ca !== "object" || ca === null || Object.values(ca).some((v) => typeof v !== "string")) {
    throw new TsdError(`"registry-ca" in ${path} must map registry hosts to CA file paths`);
  }
  const num = (key: string, dflt: number): number => {
    const v = o[key] ?? dflt;
    if (typeof v !== "number" || !(v >= 0)) throw new TsdError(`"${key}" in ${path} must be a non-negative number`);
    return v;
  };
  return {
    mirrors,
    insecure: strings("insecure-registries"),
    ca: ca as Record<string, string>,
    timeoutMs: num("registry-timeout", 30) * 1000,
    retries: Math.min(10, Math.floor(num("registry-retries", 3))),
  };
}

/** Plain HTTP is allowed for loopback hosts and the configured insecure registries. */
export function allowsHttp(host: string, config: RegistryConfig): boolean {
  const name = hostName(host);
  if (name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  return config.insecure.includes(host) || config.insecure.includes(name);
}

function hostName(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}
