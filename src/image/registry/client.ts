// A distribution-spec (OCI / Docker Registry v2) client: endpoint and scheme selection, the
// /v2/ ping, bearer-token and basic authentication, redirects (the Authorization header is
// not carried to another host, as blob storage redirects need), retries with backoff on
// network errors, 429 and 5xx, and a timeout that bounds waiting for headers and each read.
import { existsSync, readFileSync } from "node:fs";
import { TsdError } from "../../errors";
import { DEFAULT_DOMAIN } from "../reference";
import { findCredentials, parseChallenge, type Challenge, type Credentials } from "./auth";
import { allowsHttp, type RegistryConfig } from "./config";

const HUB_ENDPOINT = "https://registry-1.docker.io";
const SYSTEM_CA_FILES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"];
const MAX_REDIRECTS = 5;

/** One base URL to talk to: a mirror or the registry itself. */
export interface Endpoint {
  /** https://host[:port] or, once allowed and needed, http://… */
  base: string;
  host: string;
  mirror: boolean;
  /** Schemes still to try when the scheme is not fixed: https first, then http if allowed. */
  schemes: string[];
}

export class RegistryError extends TsdError {
  constructor(
    message: string,
    readonly status = 0,
    readonly retriable = false,
  ) {
    super(message);
  }
}

export function endpointsFor(domain: string, config: RegistryConfig): Endpoint[] {
  if (domain === DEFAULT_DOMAIN) {
    const mirrors = config.mirrors.map((m) => {
      const u = new URL(m);
      return { base: `${u.protocol}//${u.host}`, host: u.host, mirror: true, schemes: [u.protocol.slice(0, -1)] };
    });
    return [...mirrors, { base: HUB_ENDPOINT, host: "registry-1.docker.io", mirror: false, schemes: ["https"] }];
  }
  const schemes = allowsHttp(domain, config) ? ["https", "http"] : ["https"];
  return [{ base: `https://${domain}`, host: domain, mirror: false, schemes }];
}

/** A response whose body reads are bounded by the timeout: call `touch()` after each read. */
export interface TimedResponse {
  res: Response;
  touch: () => void;
  done: () => void;
  /** True once the timer fired: the body read failed because the registry went quiet. */
  timedOut: () => boolean;
}

export interface ClientOptions {
  config: RegistryConfig;
  credentials?: Credentials;
  /** Where messages about fallbacks go (mirror failures); stderr by default. */
  warn?: (line: string) => void;
}

export class RegistryClient {
  readonly domain: string;
  readonly endpoints: Endpoint[];
  private readonly config: RegistryConfig;
  private readonly creds: Credentials | undefined;
  private readonly tokens = new Map<string, string>(); // host + scope → bearer token
  private readonly challenges = new Map<string, Challenge>(); // host → last challenge
  private readonly pinged = new Map<Endpoint, Promise<void>>();
  private readonly warn: (line: string) => void;
  private tlsCa: string | undefined | null = null;

  /** How often a transient failure is retried (the config's registry-retries). */
  get retries(): number {
    return this.config.retries;
  }

  get timeoutSeconds(): number {
    return this.config.timeoutMs / 1000;
  }

  constructor(domain: string, opts: ClientOptions) {
    this.domain = domain;
    this.config = opts.config;
    this.endpoints = endpointsFor(domain, opts.config);
    this.creds = opts.credentials ?? findCredentials(domain);
    this.warn = opts.warn ?? ((l) => process.stderr.write(`${l}\n`));
  }

  /**
   * Runs `op` against each endpoint in turn (mirrors first) until one succeeds. A mirror's
   * failure falls through to the next endpoint; the last endpoint's error is the answer.
   */
  async withEndpoint<T>(op: (ep: Endpoint) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const ep of this.endpoints) {
      try {
        await this.ping(ep);
        return await op(ep);
      } catch (e) {
        last = e;
        if (ep.mirror) this.warn(`tsd: mirror ${ep.base} failed (${(e as Error).message}); trying the next source`);
        else throw e;
      }
    }
    throw last;
  }

  /**
   * Checks the credentials the client was made with, as `docker login` does: a token from the
   * realm (bearer) or GET /v2/ with them (basic) must succeed.
   */
  async login(): Promise<void> {
    const ep = this.endpoints[this.endpoints.length - 1]!;
    await this.ping(ep);
    const c = this.challenges.get(ep.host);
    if (!c) return;
    if (c.scheme === "bearer") {
      await this.fetchToken(c, "", this.creds);
      return;
    }
    const auth = await this.authorization(ep, "");
    const t = await this.send(`${ep.base}/v2/`, { method: "GET", headers: auth ? { authorization: auth } : {} }, ep.host);
    t.done();
    await t.res.body?.cancel().catch(() => {});
    if (t.res.status === 401) throw new RegistryError(`unauthorized: ${this.domain} refused the username or password`, 401);
    if (!t.res.ok) throw new RegistryError(`registry ${this.domain} answered ${t.res.status} to GET /v2/`, t.res.status);
  }

  /** GET /v2/: picks the scheme and learns the auth challenge. */
  ping(ep: Endpoint): Promise<void> {
    let p = this.pinged.get(ep);
    if (!p) {
      p = this.doPing(ep);
      this.pinged.set(ep, p);
      p.catch(() => this.pinged.delete(ep));
    }
    return p;
  }

  private async doPing(ep: Endpoint): Promise<void> {
    // With https and http both allowed, the https failure explains more (a certificate error
    // beats "an HTTP request to an HTTPS server"), so that is the one reported.
    let firstErr: unknown;
    for (const scheme of ep.schemes) {
      const base = `${scheme}://${ep.host}`;
      try {
        const t = await this.send(`${base}/v2/`, { method: "GET" }, ep.host);
        t.done();
        await t.res.body?.cancel().catch(() => {});
        if (t.res.status === 401) {
          const c = parseChallenge(t.res.headers.get("www-authenticate") ?? "");
          if (c) this.challenges.set(ep.host, c);
        } else if (t.res.status >= 500) {
          throw new RegistryError(`registry ${ep.host} answered ${t.res.status} to GET /v2/`, t.res.status, true);
        } else if (t.res.status !== 200) {
          throw new RegistryError(`${base} is not a registry (GET /v2/ answered ${t.res.status})`, t.res.status);
        }
        ep.base = base;
        ep.schemes = [scheme];
        return;
      } catch (e) {
        firstErr ??= e;
        // A timeout is the answer; trying plain HTTP on a hanging host only doubles the wait.
        if (e instanceof RegistryError && /did not answer/.test(e.message)) throw e;
      }
    }
    throw firstErr;
  }

  /**
   * A request to `path` (under /v2/) of `repo` on `ep`, authenticated for `actions`
   * ("pull" or "pull,push"), following redirects and retrying transient failures.
   */
  async request(ep: Endpoint, repo: string, path: string, init: RequestInit & { headers?: Record<string, string> }, actions = "pull"): Promise<TimedResponse> {
    const scope = `repository:${repo}:${actions}`;
    const attempts = init.body instanceof ReadableStream ? 1 : this.config.retries + 1;
    let lastErr: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await Bun.sleep(Math.min(200 * 2 ** (attempt - 1), 3000));
      try {
        let t = await this.authed(ep, `${ep.base}/v2/${path}`, init, scope);
        if (t.res.status === 401) {
          const c = parseChallenge(t.res.headers.get("www-authenticate") ?? "");
          t.done();
          await t.res.body?.cancel().catch(() => {});
          if (c) this.challenges.set(ep.host, c);
          this.tokens.delete(`${ep.host} ${scope}`);
          t = await this.authed(ep, `${ep.base}/v2/${path}`, init, scope);
          if (t.res.status === 401) {
            t.done();
            throw new RegistryError(`unauthorized: ${this.domain} refused ${init.method ?? "GET"} ${repo} (${await errorText(t.res)}): run tsd login ${this.domain}`, 401);
          }
        }
        if (t.res.status === 429 || t.res.status >= 500) {
          t.done();
          throw new RegistryError(`registry ${ep.host} answered ${t.res.status} to ${init.method ?? "GET"} /v2/${path}: ${await errorText(t.res)}`, t.res.status, true);
        }
        return t;
      } catch (e) {
        lastErr = e;
        if (e instanceof RegistryError && !e.retriable) throw e;
      }
    }
    throw lastErr;
  }

  private async authed(ep: Endpoint, url: string, init: RequestInit & { headers?: Record<string, string> }, scope: string): Promise<TimedResponse> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const auth = await this.authorization(ep, scope);
    if (auth) headers.authorization = auth;
    return this.send(url, { ...init, headers }, ep.host);
  }

  private async authorization(ep: Endpoint, scope: string): Promise<string | undefined> {
    const c = this.challenges.get(ep.host);
    if (!c) return undefined;
    // Mirrors do not get the Docker Hub credentials (they belong to Docker Hub), only any
    // stored for the mirror's own host.
    const creds = ep.mirror ? this.mirrorCreds(ep.host) : this.creds;
    if (c.scheme === "basic") {
      if (!creds) throw new RegistryError(`unauthorized: ${ep.host} needs a username and password: run tsd login ${this.domain}`, 401);
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    if (c.scheme !== "bearer") throw new RegistryError(`registry ${ep.host} asks for "${c.scheme}" authentication, which tsd does not speak`, 401);
    const key = `${ep.host} ${scope}`;
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    const token = await this.fetchToken(c, scope, creds);
    this.tokens.set(key, token);
    return `Bearer ${token}`;
  }

  private readonly mirrorLogins = new Map<string, Credentials | undefined>();
  private mirrorCreds(host: string): Credentials | undefined {
    if (!this.mirrorLogins.has(host)) this.mirrorLogins.set(host, findCredentials(host));
    return this.mirrorLogins.get(host);
  }

  private async fetchToken(c: Challenge, scope: string, creds: Credentials | undefined): Promise<string> {
    const realm = c.params.realm;
    if (!realm) throw new RegistryError(`the registry's bearer challenge has no realm`, 401);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`the registry's token realm "${realm}" is not a URL`, 401);
    }
    if (c.params.service) url.searchParams.set("service", c.params.service);
    if (scope) url.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    const t = await this.send(url.toString(), { method: "GET", headers }, url.host);
    try {
      if (t.res.status === 401 || t.res.status === 403) {
        throw new RegistryError(`unauthorized: the token service ${url.host} refused ${creds ? `user ${creds.username}` : "anonymous access"}: run tsd login ${this.domain}`, 401);
      }
      if (!t.res.ok) throw new RegistryError(`the token service ${url.host} answered ${t.res.status}`, t.res.status, t.res.status >= 500);
      const body = (await t.res.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw new RegistryError(`the token service ${url.host} sent no token`);
      return token;
    } finally {
      t.done();
    }
  }

  /**
   * One HTTP exchange with redirects followed by hand, so credentials stay on `host`, and a
   * timer that aborts when headers or a body read take longer than the timeout.
   */
  async send(url: string, init: RequestInit & { headers?: Record<string, string> }, host: string): Promise<TimedResponse> {
    const ms = this.config.timeoutMs;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const touch = () => {
      if (timer) clearTimeout(timer);
      if (ms > 0)
        timer = setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, ms);
    };
    const done = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
    let current = url;
    let headers = { ...(init.headers ?? {}) };
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        touch();
        const u = new URL(current);
        const res = await fetch(current, {
          ...init,
          headers,
          redirect: "manual",
          signal: ac.signal,
          ...(u.protocol === "https:" ? { tls: this.tls(u.host) } : {}),
        } as RequestInit);
        const location = res.headers.get("location");
        if (res.status >= 300 && res.status < 400 && location && res.status !== 304) {
          await res.body?.cancel().catch(() => {});
          const next = new URL(location, current);
          if (next.host !== u.host) {
            const { authorization: _drop, ...rest } = headers;
            headers = rest;
          }
          current = next.toString();
          continue;
        }
        return { res, touch, done, timedOut: () => timedOut };
      }
      throw new RegistryError(`too many redirects from ${url}`);
    } catch (e) {
      done();
      if (e instanceof RegistryError) throw e;
      const what = `${init.method ?? "GET"} ${new URL(current).pathname}`;
      if (timedOut) {
        throw new RegistryError(`registry ${host} did not answer within ${ms / 1000}s (${what}): check that it is up, or raise "registry-timeout" in the tsd config`, 0, true);
      }
      throw new RegistryError(`cannot reach registry ${host} (${what}): ${describe(e)}`, 0, true);
    }
  }

  /** Bun's TLS options: the system bundle plus the registry's own CA file, if configured. */
  private tls(host: string): { ca?: string; rejectUnauthorized?: boolean } {
    // Docker's meaning of an insecure registry: plain HTTP allowed and certificates unchecked.
    if (this.config.insecure.includes(host) || this.config.insecure.includes(this.domain)) return { rejectUnauthorized: false };
    const caFile = this.config.ca[host] ?? this.config.ca[this.domain];
    if (!caFile) return {};
    if (this.tlsCa === null) {
      if (!existsSync(caFile)) throw new RegistryError(`the CA file ${caFile} configured for ${host} does not exist`);
      const system = SYSTEM_CA_FILES.filter((f) => existsSync(f)).map((f) => readFileSync(f, "utf8"));
      this.tlsCa = [...system, readFileSync(caFile, "utf8")].join("\n");
    }
    return this.tlsCa ? { ca: this.tlsCa } : {};
  }
}

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  if (err.code && !msg.includes(err.code)) return `${err.code}: ${msg}`;
  return msg;
}

/** The registry's error body, short: `MANIFEST_UNKNOWN: manifest unknown`. */
export async function errorText(res: Response): Promise<string> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    return `HTTP ${res.status}`;
  }
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (body.errors?.length) return body.errors.map((e) => `${e.code ?? ""}${e.message ? `: ${e.message}` : ""}`).join("; ");
  } catch {
    // Not JSON.
  }
  return text.trim().slice(0, 200) || `HTTP ${res.status}`;
}
