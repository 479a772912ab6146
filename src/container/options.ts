// `tsd run` flags → RunOptions: the validated, typed form everything downstream reads.
// Pure apart from reading --env-file through the injected reader, so unit tests cover it.
import { isAbsolute, posix } from "node:path";
import { TsdError, UsageError } from "../errors";
import { parseCgroupParent, resourcesFromFlags, type ResourceFlags, type Resources } from "../cgroup/resources";
import { parseLogOpts, type LogOptions } from "./log-options";
import { parseRestartPolicy, type RestartPolicy } from "./restart-policy";
import { parseNetworkMode, parsePublish, publishes, type PortSpec } from "../network/ports";
import { parseIp, parseMac } from "../network/ipv4";
import { parseAddHost } from "../network/files";
import { parseSecurityOpts, type SeccompChoice } from "./seccomp";
import { healthFromFlags, type HealthConfig, type HealthFlags } from "./health";
// --- metadata/CLI flags (issue 14 item 4): src/container/meta-options.ts, mount-flag.ts ---
import { metaOptionsFromFlags, type MetaFlags, type MetaOptions } from "./meta-options";
import { checkDuplicateTargets } from "./mount-flag";
// --- end metadata/CLI flags ---
// ---- kernel-facing flags (issue 14 item 4): container/kernel-options.ts ----
import { kernelOptionsFromFlags, type KernelFlags, type KernelOptions } from "./kernel-options";
import { checkUsernsConflicts, usernsOptionsFromFlags, type UsernsFlags, type UsernsOptions } from "./userns";
// ---- end kernel-facing flags ----

export interface BindMount {
  /** The host path (for a named volume: its _data dir, filled in at create). */
  source: string;
  destination: string;
  readonly: boolean;
  /** A named (or anonymous) volume instead of a host path (src/container/volumes.ts). */
  volume?: string;
  /** An anonymous volume (`-v /path`): removed with the container by `rm -v`. */
  anonymous?: boolean;
  // --- metadata/CLI flags: --mount's extras ---
  /** --mount type=bind: a missing source is an error (-v creates it, as Docker's). */
  mustExist?: boolean;
  /** --mount bind-propagation=…; absent: rprivate. */
  propagation?: string;
  /** --mount volume-nocopy: an empty volume is not filled from the image. */
  noCopy?: boolean;
  /** From --volumes-from: another container's mount (not in HostConfig.Binds). */
  inherited?: boolean;
  // --- end metadata/CLI flags ---
  /** `-v SRC:DST:idmap` (Podman's): a host bind idmapped by the container's user namespace. */
  idmap?: boolean;
}

export interface TmpfsMount {
  destination: string;
  options: string[];
}

export interface RunOptions extends MetaOptions, KernelOptions, UsernsOptions {
  image: string;
  /** tsd build: the RUN's stdout and stderr into this fd (a stage whose output waits its turn). */
  outputFd?: number;
  command: string[]; // empty: the image's Cmd
  entrypoint?: string[]; // set by --entrypoint ("" clears the image's)
  name?: string;
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  env: string[]; // KEY=VALUE, in order; later wins
  workdir?: string;
  user?: string;
  hostname?: string;
  volumes: BindMount[];
  tmpfs: TmpfsMount[];
  readOnly: boolean;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  /** cgroup limits (-m, --cpus, --pids-limit …); absent fields are not limited. */
  resources?: Resources;
  /** --cgroup-parent, normalised (no leading or trailing "/"): the group is <parent>/<id>. */
  cgroupParent?: string;
  /** -d: print the id and leave the container to its monitor. */
  detach?: boolean;
  /** --log-opt max-size / max-file of the json-file log. */
  log?: LogOptions;
  /** --restart, carried out by the monitor's cleanup command (src/container/restart.ts). */
  restart?: RestartPolicy;
  // Networking (src/network/): absent in rows written before it existed.
  network?: string; // none | host | bridge | NAME | container:REF; undefined: bridge
  networkAliases?: string[];
  ip?: string;
  macAddress?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  publish?: PortSpec[];
  publishAll?: boolean;
  /** --security-opt seccomp=…: the default profile, none, or a Docker-format profile. */
  seccomp?: SeccompChoice;
  /** --security-opt no-new-privileges[=BOOL]; unset: on unless --privileged. */
  noNewPrivileges?: boolean;
  /** --health-* / --no-healthcheck; at create merged with the image's HEALTHCHECK (health.ts). */
  healthcheck?: HealthConfig;
}

export interface RunFlags extends ResourceFlags, MetaFlags, KernelFlags, HealthFlags, UsernsFlags {
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  name?: string;
  env: string[];
  "env-file": string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  volume: string[];
  tmpfs: string[];
  "read-only": boolean;
  privileged: boolean;
  "cap-add": string[];
  "cap-drop": string[];
  "cgroup-parent"?: string;
  detach?: boolean;
  "log-opt"?: string[];
  restart?: string;
  network?: string;
  "network-alias"?: string[];
  ip?: string;
  "mac-address"?: string;
  dns?: string[];
  "dns-search"?: string[];
  "dns-option"?: string[];
  "add-host"?: string[];
  publish?: string[];
  "publish-all"?: boolean;
  "security-opt"?: string[];
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function runOptionsFromFlags(
  f: RunFlags,
  positionals: string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string,
): RunOptions {
  const [image, ...command] = positionals;
  if (!image) throw new UsageError(`"tsd run" requires at least 1 argument: tsd run [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  if (f.name !== undefined && !NAME.test(f.name)) {
    throw new UsageError(`invalid container name "${f.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  if (f.hostname !== undefined && (f.hostname.length > 253 || !HOSTNAME.test(f.hostname))) {
    throw new UsageError(`invalid hostname "${f.hostname}": use letters, digits, '-' and '.', at most 63 per label`);
  }
  if (f.workdir !== undefined && !isAbsolute(f.workdir)) {
    throw new UsageError(`the working directory "${f.workdir}" is invalid: it needs to be an absolute path`);
  }
  const fileEnv = f["env-file"].flatMap((p) => parseEnvFile(p, readEnvFile(p, readFile), env));
  const resources = resourcesFromFlags(f);
  const cgroupParent = parseCgroupParent(f["cgroup-parent"]);
  const cliEnv = f.env.map((e) => expandEnv(e, env)).filter((e): e is string => e !== undefined);
  const security = securityOrUsage(f["security-opt"] ?? [], readFile);
  const meta = metaOptionsFromFlags(f, env, readFile); // metadata/CLI flags
  const volumes = [...f.volume.map(parseVolume), ...meta.binds];
  const tmpfs = [...f.tmpfs.map(parseTmpfs), ...meta.tmpfs];
  checkDuplicateTargets(volumes, tmpfs);
  const opts: RunOptions = {
    image,
    command,
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint === "" ? [] : [f.entrypoint] } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    rm: f.rm,
    interactive: f.interactive,
    tty: f.tty,
    env: [...fileEnv, ...cliEnv],
    ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: validUser(f.user) } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    volumes,
    tmpfs,
    readOnly: f["read-only"],
    privileged: f.privileged,
    capAdd: f["cap-add"].map(normaliseCap),
    capDrop: f["cap-drop"].map(normaliseCap),
    resources,
    ...(cgroupParent !== undefined ? { cgroupParent } : {}),
    ...(f.detach ? { detach: true } : {}),
    ...restartOrUsage(f.restart, f.rm),
    log: parseLogOpts(f["log-opt"] ?? []),
    seccomp: security.seccomp,
    ...(security.noNewPrivileges !== undefined ? { noNewPrivileges: security.noNewPrivileges } : {}),
    ...networkOptionsFromFlags(f),
    ...meta.options,
    ...kernelOptionsFromFlags(f),
    ...usernsOptionsFromFlags(f),
    ...healthOption(f),
  };
  checkUsernsConflicts(opts);
  return opts;
}

function healthOption(f: HealthFlags): Pick<RunOptions, "healthcheck"> {
  const healthcheck = healthFromFlags(f);
  return healthcheck ? { healthcheck } : {};
}

/** The networking flags, validated (the network itself is looked up at start). */
export function networkOptionsFromFlags(f: RunFlags): Partial<RunOptions> {
  const mode = parseNetworkMode(f.network);
  const publish = (f.publish ?? []).map(parsePublish);
  const aliases = f["network-alias"] ?? [];
  const dns = f.dns ?? [];
  const addHost = f["add-host"] ?? [];
  if (!publishes(mode) && (publish.length > 0 || f["publish-all"])) {
    throw new UsageError(`conflicting options: port publishing and the ${mode.kind} network mode; drop -p/-P or use a bridge network`);
  }
  if (aliases.length > 0 && (mode.kind !== "bridge" || mode.network === "bridge")) {
    throw new UsageError("network-scoped aliases are supported for user-defined networks only: use --network NAME");
  }
  if (f.ip !== undefined && parseIp(f.ip) === undefined) throw new UsageError(`invalid --ip "${f.ip}": use an IPv4 address`);
  if (f["mac-address"] !== undefined && !parseMac(f["mac-address"])) {
    throw new UsageError(`invalid --mac-address "${f["mac-address"]}": use six unicast hex bytes, e.g. 02:42:0a:00:00:05`);
  }
  if ((f.ip !== undefined || f["mac-address"] !== undefined) && mode.kind !== "bridge") {
    throw new UsageError(`--ip and --mac-address need a bridge network, not --network ${f.network}`);
  }
  for (const d of dns) if (parseIp(d) === undefined && !d.includes(":")) throw new UsageError(`invalid --dns "${d}": use an IP address`);
  if (mode.kind === "container" && (dns.length || addHost.length || (f["dns-search"] ?? []).length)) {
    throw new UsageError("conflicting options: --dns, --dns-search and --add-host cannot be used with --network container:");
  }
  for (const h of addHost) if (!parseAddHost(h)) throw new UsageError(`invalid --add-host "${h}": use HOST:IP (or HOST:host-gateway)`);
  return {
    ...(f.network !== undefined ? { network: f.network } : {}),
    networkAliases: aliases,
    ...(f.ip !== undefined ? { ip: f.ip } : {}),
    ...(f["mac-address"] !== undefined ? { macAddress: f["mac-address"].toLowerCase() } : {}),
    dns,
    dnsSearch: f["dns-search"] ?? [],
    dnsOption: f["dns-option"] ?? [],
    addHost,
    publish,
    publishAll: f["publish-all"] ?? false,
  };
}

function readEnvFile(path: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (e) {
    // A flag's value: 125 for run and create alike (docker's CLI reads the file while parsing).
    throw new UsageError(`cannot read env file "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function securityOrUsage(opts: string[], readFile: (path: string) => string) {
  try {
    return parseSecurityOpts(opts, readFile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `-e KEY=VALUE` as is; `-e KEY` takes KEY from the caller's environment or is dropped. */
export function expandEnv(entry: string, env: Record<string, string | undefined>): string | undefined {
  const eq = entry.indexOf("=");
  if (eq === 0) throw new UsageError(`invalid environment variable "${entry}": the name is empty`);
  if (eq > 0) return entry;
  const v = env[entry];
  return v === undefined ? undefined : `${entry}=${v}`;
}

/** Docker's --env-file: KEY=VALUE lines, `#` comments, blank lines, bare KEY from the env. */
export function parseEnvFile(path: string, text: string, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) return;
    const key = line.split("=", 1)[0]!;
    if (/\s/.test(key)) throw new UsageError(`invalid line ${i + 1} in env file ${path}: variable "${key}" contains whitespace`);
    const v = expandEnv(line, env);
    if (v !== undefined) out.push(v);
  });
  return out;
}

/**
 * The image's VOLUMEs as Docker mounts them: an anonymous volume (filled from the image) at each
 * path that no -v or --tmpfs of the run covers already. Paths are cleaned ("/data/" is "/data").
 */
export function withImageVolumes(volumes: BindMount[], tmpfs: TmpfsMount[], imageVolumes: Record<string, unknown> | null | undefined): BindMount[] {
  const clean = (p: string) => posix.normalize(p).replace(/(.)\/+$/, "$1");
  const taken = new Set([...volumes.map((v) => clean(v.destination)), ...tmpfs.map((t) => clean(t.destination))]);
  const added: BindMount[] = [];
  for (const raw of Object.keys(imageVolumes ?? {}).sort()) {
    const destination = clean(raw);
    if (!isAbsolute(destination) || destination === "/" || taken.has(destination)) continue;
    taken.add(destination);
    added.push({ source: "", destination, readonly: false, anonymous: true, volume: "" });
  }
  return [...volumes, ...added];
}

/** `-v /host:/ctr[:ro|rw]`. Named volumes come with the volume commands. */
export function parseVolume(spec: string): BindMount {
  const parts = spec.split(":");
  if (parts.length === 1) {
    // `-v /path`: an anonymous volume (a fresh named volume with a random name).
    if (!isAbsolute(spec) || spec === "/") throw new UsageError(`invalid volume "${spec}": use -v /container/path, -v NAME:/path or -v /host/path:/path[:ro]`);
    return { source: "", destination: spec, readonly: false, anonymous: true, volume: "" };
  }
  if (parts.length > 3) throw new UsageError(`invalid volume "${spec}": use -v /host/path:/container/path[:ro] or -v NAME:/container/path[:ro]`);
  const [source, destination, mode = "rw"] = parts as [string, string, string?];
  const named = !isAbsolute(source);
  if (named && !VOLUME_NAME.test(source)) {
    throw new UsageError(`invalid volume "${spec}": "${source}" is neither an absolute host path nor a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)`);
  }
  if (!isAbsolute(destination)) throw new UsageError(`invalid volume "${spec}": the container path "${destination}" must be absolute`);
  if (destination === "/") throw new UsageError(`invalid volume "${spec}": cannot mount over the container's /`);
  const modes = mode.split(",");
  for (const m of modes) if (!["ro", "rw", "z", "Z", "nocopy", "idmap"].includes(m)) throw new UsageError(`invalid volume "${spec}": unknown mode "${m}" (use ro or rw)`);
  const noCopy = named && modes.includes("nocopy") ? { noCopy: true } : {};
  return named ? { source: "", destination, readonly: modes.includes("ro"), volume: source, ...noCopy } : { source, destination, readonly: modes.includes("ro"), ...(modes.includes("idmap") ? { idmap: true } : {}) };
}

export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** `--tmpfs /path[:opts]`, Docker's defaults noexec,nosuid,nodev. */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(":");
  const destination = colon < 0 ? spec : spec.slice(0, colon);
  if (!isAbsolute(destination)) throw new UsageError(`invalid tmpfs "${spec}": the path must be absolute`);
  const extra = colon < 0 ? [] : spec.slice(colon + 1).split(",").filter(Boolean);
  return { destination, options: ["nosuid", "nodev", "noexec", ...extra] };
}

function validUser(u: string): string {
  if (!/^[^:]+(:[^:]+)?$/.test(u)) throw new UsageError(`invalid user "${u}": use NAME|UID[:GROUP|GID]`);
  return u;
}

export function normaliseCap(c: string): string {
  const up = c.toUpperCase();
  if (up === "ALL") return "ALL";
  return up.startsWith("CAP_") ? up : `CAP_${up}`;
}

function restartOrUsage(text: string | undefined, rm: boolean): { restart?: RestartPolicy } {
  if (text === undefined) return {};
  const restart = parseRestartPolicy(text);
  if (restart.name !== "no" && rm) throw new UsageError(`conflicting options: --restart ${text} and --rm: drop one`);
  return restart.name === "no" ? {} : { restart };
}

/**
 * The run options as a container's row keeps them (its `options` column, and container.json):
 * versioned, so a tsd reading a row made by a newer one says so instead of guessing, and
 * completed with the defaults of fields added since the first version (rows written before
 * them lack them). Fields added since (networking, the metadata flags of meta-options.ts,
 * --mount's BindMount extras) are all optional, so rows keep version 1.
 */
export const OPTIONS_VERSION = 1;

export function encodeOptions(o: RunOptions): string {
  return JSON.stringify({ ...o, optionsVersion: OPTIONS_VERSION });
}

export function decodeOptions(text: string): RunOptions {
  let v: Partial<RunOptions> & { optionsVersion?: number };
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    throw new TsdError("a container's stored options are damaged (not JSON): remove it with tsd rm -f");
  }
  const version = v.optionsVersion ?? 1;
  if (version > OPTIONS_VERSION) throw new TsdError(`a container's stored options are version ${version}, newer than this tsd reads (${OPTIONS_VERSION}): upgrade tsd`);
  if (typeof v.image !== "string" || !Array.isArray(v.command)) throw new TsdError("a container's stored options are damaged (no image or command): remove it with tsd rm -f");
  const { optionsVersion: _, ...o } = v;
  return {
    ...o,
    image: v.image,
    command: v.command,
    rm: Boolean(v.rm),
    interactive: Boolean(v.interactive),
    tty: Boolean(v.tty),
    env: v.env ?? [],
    volumes: v.volumes ?? [],
    tmpfs: v.tmpfs ?? [],
    readOnly: Boolean(v.readOnly),
    privileged: Boolean(v.privileged),
    capAdd: v.capAdd ?? [],
    capDrop: v.capDrop ?? [],
  };
}
