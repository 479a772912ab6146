// run/create's metadata and CLI flags (issue 14 item 4): --label/--label-file, --cidfile,
// --stop-signal, --stop-timeout, --volumes-from, --expose, --platform, --log-driver, -a/--attach,
// --sig-proxy, --detach-keys and --mount, as Docker 20.10 parses and checks them. Pure apart
// from reading --label-file through the injected reader: unit-tested.
import { constants } from "node:os";
import { TsdError, UsageError } from "../errors";
import { parsePlatform } from "../image/media";
import { parseDetachKeys } from "./detach-keys";
import { mountToRun, parseMountFlag, type MountFlag } from "./mount-flag";
import type { BindMount, TmpfsMount } from "./options";

export interface MetaFlags {
  label?: string[];
  "label-file"?: string[];
  cidfile?: string;
  "stop-signal"?: string;
  "stop-timeout"?: string;
  "volumes-from"?: string[];
  expose?: string[];
  platform?: string;
  "log-driver"?: string;
  "log-opt"?: string[];
  attach?: string[];
  "sig-proxy"?: boolean;
  "detach-keys"?: string;
  mount?: string[];
  detach?: boolean;
}

/** The streams a foreground run relays (Docker's Config.AttachStdin/Stdout/Stderr). */
export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** Kept in RunOptions (all optional: rows written before them lack them). */
export interface MetaOptions {
  /** --label/--label-file, merged over the image's labels at create (Config.Labels). */
  labels?: Record<string, string>;
  cidfile?: string;
  /** As given ("SIGUSR1", "9"); `tsd stop` sends it instead of the image's STOPSIGNAL. */
  stopSignal?: string;
  /** Seconds `tsd stop` waits by default (Docker's 10 otherwise). */
  stopTimeout?: number;
  /** --volumes-from C[:ro|rw], as given (HostConfig.VolumesFrom); resolved at create. */
  volumesFrom?: string[];
  /** --expose keys ("80/tcp"), added to the image's ExposedPorts (and published by -P). */
  expose?: string[];
  /** --platform, normalised ("linux/amd64"): the image must be of it. */
  platform?: string;
  /** --log-driver: json-file (the default), local (tsd writes json-file for it) or none. */
  logDriver?: "json-file" | "local" | "none";
  /** -a: only these streams are attached; absent: stdout and stderr (and stdin with -i). */
  attach?: AttachStreams;
  /** --sig-proxy=false: a foreground run forwards no signal to the container. */
  sigProxy?: boolean;
  detachKeys?: string;
  /** --mount values as Docker's HostConfig.Mounts shows them (they also join volumes/tmpfs). */
  mounts?: MountFlag[];
}

export interface MetaParsed {
  options: MetaOptions;
  /** --mount's bind and volume mounts, for RunOptions.volumes. */
  binds: BindMount[];
  /** --mount's tmpfs mounts, for RunOptions.tmpfs. */
  tmpfs: TmpfsMount[];
}

export function metaOptionsFromFlags(f: MetaFlags, env: Record<string, string | undefined>, readFile: (path: string) => string): MetaParsed {
  const options: MetaOptions = {};
  const labels = parseLabels(f["label-file"] ?? [], f.label ?? [], env, readFile);
  if (Object.keys(labels).length > 0) options.labels = labels;
  if (f.cidfile !== undefined) {
    if (f.cidfile === "") throw new UsageError("invalid --cidfile \"\": name a file to write the container's id to");
    options.cidfile = f.cidfile;
  }
  if (f["stop-signal"] !== undefined) options.stopSignal = checkSignal(f["stop-signal"]);
  if (f["stop-timeout"] !== undefined) options.stopTimeout = parseStopTimeout(f["stop-timeout"]);
  if ((f["volumes-from"] ?? []).length > 0) options.volumesFrom = f["volumes-from"]!.map(checkVolumesFrom);
  const expose = (f.expose ?? []).flatMap(parseExpose);
  if (expose.length > 0) options.expose = [...new Set(expose)];
  if (f.platform !== undefined) options.platform = checkPlatform(f.platform);
  const driver = parseLogDriver(f["log-driver"], f["log-opt"] ?? []);
  if (driver !== undefined) options.logDriver = driver;
  const attach = parseAttach(f.attach ?? [], Boolean(f.detach));
  if (attach) options.attach = attach;
  if (f["sig-proxy"] === false) options.sigProxy = false;
  if (f["detach-keys"] !== undefined) options.detachKeys = checkDetachKeys(f["detach-keys"]);
  const mounts = (f.mount ?? []).map(parseMountFlag);
  if (mounts.length > 0) options.mounts = mounts;
  const converted = mounts.map(mountToRun);
  return {
    options,
    binds: converted.flatMap((c) => (c.bind ? [c.bind] : [])),
    tmpfs: converted.flatMap((c) => (c.tmpfs ? [c.tmpfs] : [])),
  };
}

/** --label-file lines first, then -l; a later key wins (Docker's readKVStrings). */
export function parseLabels(files: string[], flags: string[], env: Record<string, string | undefined>, readFile: (path: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (kv: string, where: string) => {
    const eq = kv.indexOf("=");
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (key === "") throw new UsageError(`invalid label "${kv}"${where}: the key is empty; use KEY=VALUE`);
    out[key] = eq < 0 ? (env[key] ?? "") : kv.slice(eq + 1);
  };
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read label file "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.replace(/^\s+/, "");
      if (line === "" || line.startsWith("#")) return;
      // A bare KEY takes its value from the environment, and is left out without one (as docker).
      if (!line.includes("=") && env[line] === undefined) return;
      put(line, ` (line ${i + 1} of ${file})`);
    });
  }
  for (const l of flags) put(l, "");
  return out;
}

/** Docker's signal.ParseSignal: a name with or without SIG, or a number. */
export function checkSignal(text: string): string {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return text;
  } else {
    const up = text.toUpperCase();
    const name = up.startsWith("SIG") ? up : `SIG${up}`;
    if ((constants.signals as Record<string, number>)[name] !== undefined || /^SIGRTMIN(\+\d+)?$|^SIGRTMAX(-\d+)?$/.test(name)) return text;
  }
  throw new UsageError(`invalid signal: ${text}: use a name like SIGTERM or USR1, or a number`);
}

export function parseStopTimeout(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid argument "${text}" for "--stop-timeout" flag: a whole number of seconds`);
  return Number(text);
}

function checkVolumesFrom(spec: string): string {
  const parts = spec.split(":");
  if (parts.length > 2 || parts[0] === "") throw new UsageError(`invalid --volumes-from "${spec}": use CONTAINER[:ro|rw]`);
  if (parts.length === 2 && !["ro", "rw"].includes(parts[1]!)) throw new UsageError(`invalid mode for --volumes-from "${spec}": use ro or rw`);
  return spec;
}

/** "80", "80/udp", "7000-7002/tcp" → ["80/tcp"], … (Docker's nat.ParsePortRange). */
export function parseExpose(spec: string): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/([a-z]+))?$/i.exec(spec);
  const proto = (m?.[3] ?? "tcp").toLowerCase();
  const lo = Number(m?.[1]);
  const hi = m?.[2] === undefined ? lo : Number(m[2]);
  if (!m || !["tcp", "udp", "sctp"].includes(proto) || lo < 1 || hi > 65535 || hi < lo) {
    throw new UsageError(`invalid range format for --expose: ${spec}: use PORT[-PORT][/tcp|udp|sctp]`);
  }
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

const KNOWN_OS = ["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "plan9", "js", "android", "ios", "dragonfly"];
const KNOWN_ARCH = ["amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips", "mipsle", "mips64", "mips64le", "loong64", "wasm"];

/** --platform os[/arch[/variant]] (containerd's platforms.Parse), normalised. */
export function checkPlatform(text: string): string {
  let p;
  try {
    p = parsePlatform(text);
  } catch {
    p = undefined;
  }
  if (!p || !KNOWN_OS.includes(p.os) || !KNOWN_ARCH.includes(p.architecture)) {
    throw new UsageError(`error parsing specified platform: "${text}": unknown operating system or architecture: use OS/ARCH such as linux/amd64`);
  }
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export function parseLogDriver(driver: string | undefined, logOpts: string[]): MetaOptions["logDriver"] {
  if (driver === undefined) return undefined;
  if (driver !== "json-file" && driver !== "local" && driver !== "none") {
    throw new UsageError(`error looking up logging plugin ${driver}: plugin "${driver}" not found: use json-file, local or none`);
  }
  if (driver === "none" && logOpts.length > 0) throw new UsageError("--log-opt is not allowed with --log-driver none: drop one of them");
  return driver;
}

export function parseAttach(values: string[], detach: boolean): AttachStreams | undefined {
  if (values.length === 0) return undefined;
  if (detach) throw new UsageError("conflicting options: -a and -d: attach to streams or run detached, not both");
  const out: AttachStreams = { stdin: false, stdout: false, stderr: false };
  for (const v of values) {
    const s = v.toLowerCase();
    if (s !== "stdin" && s !== "stdout" && s !== "stderr") {
      throw new UsageError(`invalid argument "${v}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    }
    out[s] = true;
  }
  return out;
}

function checkDetachKeys(text: string): string {
  try {
    parseDetachKeys(text);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return text;
}

/** The streams a run attaches, as Docker's Config.AttachStdin/Stdout/Stderr show them. */
export function attachedStreams(o: { attach?: AttachStreams; interactive?: boolean; detach?: boolean }): AttachStreams {
  if (o.detach) return { stdin: false, stdout: false, stderr: false };
  const a = o.attach ?? { stdin: false, stdout: true, stderr: true };
  // -i attaches stdin whatever -a says (Docker's parse: `if copts.stdin { attachStdin = true }`).
  return { ...a, stdin: a.stdin || Boolean(o.interactive) };
}

/** `tsd logs` of a container run with --log-driver none: Docker's error (status 1). */
export function checkLogsReadable(o: Pick<MetaOptions, "logDriver">): void {
  if (o.logDriver === "none") throw new TsdError("configured logging driver does not support reading: the container runs with --log-driver none", 1);
}
