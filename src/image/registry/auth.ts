// Credentials and challenges. Credentials live where Docker keeps them, ~/.docker/config.json
// (or $DOCKER_CONFIG/config.json) under "auths", base64 "user:password" in "auth", so
// existing `docker login`s work and `tsd login` is visible to docker.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { homedir } from "node:os";
import { TsdError } from "../../errors";
import { DEFAULT_DOMAIN } from "../reference";

export interface Credentials {
  username: string;
  password: string;
}

/** The key Docker files Docker Hub credentials under. */
const HUB_KEY = "https://index.docker.io/v1/";

export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
  return join(dir, "config.json");
}

export function authKey(registry: string): string {
  return registry === DEFAULT_DOMAIN || registry === "index.docker.io" || registry === "registry-1.docker.io" ? HUB_KEY : registry;
}

function readConfig(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const v = JSON.parse(readFileSync(path, "utf8"));
    return typeof v === "object" && v !== null ? v : {};
  } catch (e) {
    throw new TsdError(`cannot read ${path}: ${(e as Error).message}: fix or remove it`);
  }
}

/**
 * The stored credentials for `registry` (a reference domain such as docker.io or host:5000),
 * where Docker looks: a credential helper named for it in "credHelpers", else the default
 * helper "credsStore", else "auths".
 */
export function findCredentials(registry: string, env: Record<string, string | undefined> = process.env): Credentials | undefined {
  const config = readConfig(dockerConfigPath(env));
  const key = authKey(registry);
  const helper = helperFor(config, key);
  if (helper) return helperGet(helper, key, env);
  const auths = (config.auths ?? {}) as Record<string, { auth?: string; username?: string; password?: string }>;
  const candidates = [key, `https://${key}`, `http://${key}`, `${key}/`, `https://${key}/v1/`, `https://${key}/v2/`];
  for (const k of candidates) {
    const entry = auths[k];
    if (!entry) continue;
    if (entry.auth) return decodeAuth(entry.auth, k);
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function helperFor(config: Record<string, unknown>, key: string): string | undefined {
  const helpers = (config.credHelpers ?? {}) as Record<string, string>;
  const named = helpers[key] ?? helpers[key.replace(/^https:\/\/|\/v1\/$/g, "")];
  if (typeof named === "string" && named) return named;
  return typeof config.credsStore === "string" && config.credsStore ? config.credsStore : undefined;
}

/** Runs `docker-credential-NAME ACTION` with `input` on stdin (Docker's helper protocol). */
function runHelper(name: string, action: "get" | "store" | "erase", input: string, env: Record<string, string | undefined>): { code: number; out: string; err: string } {
  const bin = `docker-credential-${name}`;
  let r;
  try {
    r = Bun.spawnSync([bin, action], { stdin: new TextEncoder().encode(input), stdout: "pipe", stderr: "pipe", env: env as Record<string, string> });
  } catch {
    throw new TsdError(`the credential helper ${bin} named in ${dockerConfigPath(env)} is not on PATH: install it or remove "credsStore"/"credHelpers"`);
  }
  return { code: r.exitCode ?? 1, out: r.stdout.toString(), err: r.stderr.toString() };
}

function helperGet(name: string, key: string, env: Record<string, string | undefined>): Credentials | undefined {
  const r = runHelper(name, "get", key, env);
  if (r.code !== 0) {
    // Docker's helpers say this when they hold nothing for the server: anonymous access.
    if (/credentials not found/i.test(r.out + r.err)) return undefined;
    throw new TsdError(`the credential helper docker-credential-${name} failed for ${key}: ${(r.err || r.out).trim()}`);
  }
  try {
    const v = JSON.parse(r.out) as { Username?: string; Secret?: string };
    if (!v.Secret) return undefined;
    return { username: v.Username ?? "", password: v.Secret };
  } catch {
    throw new TsdError(`the credential helper docker-credential-${name} answered something other than JSON for ${key}`);
  }
}

export function decodeAuth(auth: string, key: string): Credentials {
  const text = Buffer.from(auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) throw new TsdError(`the stored credentials for ${key} are malformed: run tsd login ${key} again`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function encodeAuth(c: Credentials): string {
  return Buffer.from(`${c.username}:${c.password}`).toString("base64");
}

export function storeCredentials(registry: string, c: Credentials | undefined, env: Record<string, string | undefined> = process.env): boolean {
  const path = dockerConfigPath(env);
  const config = readConfig(path);
  const key = authKey(registry);
  const helper = helperFor(config, key);
  if (helper) {
    if (c) {
      const r = runHelper(helper, "store", JSON.stringify({ ServerURL: key, Username: c.username, Secret: c.password }), env);
      if (r.code !== 0) throw new TsdError(`the credential helper docker-credential-${helper} could not store the login for ${key}: ${(r.err || r.out).trim()}`);
      return true;
    }
    const had = helperGet(helper, key, env) !== undefined;
    if (had) {
      const r = runHelper(helper, "erase", key, env);
      if (r.code !== 0) throw new TsdError(`the credential helper docker-credential-${helper} could not erase the login for ${key}: ${(r.err || r.out).trim()}`);
    }
    return had;
  }
  const auths = { ...((config.auths ?? {}) as Record<string, unknown>) };
  const had = key in auths;
  if (!c && !had) return false;
  if (c) auths[key] = { auth: encodeAuth(c) };
  else delete auths[key];
  config.auths = auths;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Written whole and renamed so a concurrent reader never sees half a file.
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return had;
}

export interface Challenge {
  scheme: string; // lowercase: "bearer" or "basic"
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  const rest = m[2]!;
  re.lastIndex = 0;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest))) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase(), params };
}
