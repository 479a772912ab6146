// What each Dockerfile instruction does to a stage: the metadata instructions change the run
// config only (a history entry with empty_layer, created_by as Docker's classic builder writes
// it: `/bin/sh -c #(nop)  CMD ["sh"]`); RUN, COPY and ADD are resolved here into what the
// builder (container/build.ts) must do. Variables are expanded with the stage's ENV over its
// ARGs, as Docker does. Pure.
import { parseHealthcheckInstruction } from "../healthcheck";
import type { HealthConfig, ImageConfig } from "../store";
import { DockerfileError, type Instruction } from "./dockerfile";
import { argPairs, expand, expandWords, PROXY_ARGS } from "./stages";
import { rawWords } from "./shell-words";

export type RunConfig = NonNullable<ImageConfig["config"]>;

export interface StageState {
  config: RunConfig;
  /** Declared ARGs with a value (build-arg, else default): in RUN's environment, not the image's. */
  args: Map<string, string>;
  shell: string[];
  escape: string;
  buildArgs: ReadonlyMap<string, string>;
  meta: ReadonlyMap<string, string>;
  /** Build args an ARG consumed (the rest are warned about). */
  used: Set<string>;
  /** MAINTAINER's name (the image's author). */
  author?: string;
  /** A CMD was set in this stage (an ENTRYPOINT after it keeps it). */
  cmdSet?: boolean;
}

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

export function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
    else m.set(e, "");
  }
  return m;
}

/** The environment variables are expanded with: the stage's ENV over its ARGs. */
export function expansionEnv(s: StageState): Map<string, string> {
  const m = new Map(s.args);
  for (const [k, v] of envMap(s.config.Env)) m.set(k, v);
  return m;
}

/** RUN's environment: the image's Env plus the ARG values it does not set, and proxy args. */
export function runEnv(s: StageState): string[] {
  const env = [...(s.config.Env ?? [])];
  const have = envMap(env);
  for (const [k, v] of s.args) if (!have.has(k)) env.push(`${k}=${v}`);
  for (const k of PROXY_ARGS) if (s.buildArgs.has(k) && !have.has(k) && !s.args.has(k)) env.push(`${k}=${s.buildArgs.get(k)}`);
  return env;
}

/** RUN's history and cache line: `|N K=V … /bin/sh -c cmd` when ARGs are set, as Docker's. */
export function runCreatedBy(s: StageState, argv: string[]): string {
  const args = [...s.args].filter(([k]) => !PROXY_ARGS.includes(k)).map(([k, v]) => `${k}=${v}`).sort();
  const prefix = args.length > 0 ? `|${args.length} ${args.join(" ")} ` : "";
  return `${prefix}${argv.join(" ")}`;
}

/** RUN's argv: the exec form as written, else the stage's SHELL with the command. */
export function runArgv(s: StageState, ins: Instruction): string[] {
  if (ins.json) {
    if (ins.json.length === 0) throw new DockerfileError(ins.line, "RUN needs a command");
    return ins.json;
  }
  if (ins.rest === "") throw new DockerfileError(ins.line, "RUN needs a command");
  // A heredoc as the whole command is the script the shell runs.
  if (ins.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(ins.rest)) return [...s.shell, ins.heredocs[0]!.content];
  if (ins.heredocs.length > 0) return [...s.shell, [ins.rest, ...ins.heredocs.map((h) => `${h.content}${h.name}`)].join("\n")];
  return [...s.shell, ins.rest];
}

const nop = (s: StageState, text: string, twoSpaces = true) => `${s.shell.join(" ")} #(nop) ${twoSpaces ? " " : ""}${text}`;

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoted(list: readonly string[]): string {
  return `[${list.map((x) => JSON.stringify(x)).join(" ")}]`;
}

/**
 * Applies a metadata instruction to the stage (its config, ARGs or SHELL); returns the
 * history's created_by. Undefined when `ins` is not one (RUN, COPY, ADD, FROM).
 */
export function applyMetadata(s: StageState, ins: Instruction): string | undefined {
  const env = expansionEnv(s);
  const c = s.config;
  switch (ins.cmd) {
    case "ENV":
      return applyEnv(s, ins, env);
    case "LABEL": {
      const pairs = nameValues(ins, env, s.escape);
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of pairs) c.Labels[k] = v;
      return nop(s, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
    case "ARG":
      return applyArg(s, ins, env);
    case "WORKDIR": {
      const dir = oneArg(ins, expand(ins, ins.rest, env, s.escape));
      c.WorkingDir = joinPath(c.WorkingDir || "/", dir);
      return nop(s, `WORKDIR ${c.WorkingDir}`, false);
    }
    case "USER":
      c.User = oneArg(ins, expand(ins, ins.rest, env, s.escape));
      return nop(s, `USER ${c.User}`);
    case "STOPSIGNAL":
      c.StopSignal = checkSignal(ins, oneArg(ins, expand(ins, ins.rest, env, s.escape)));
      return nop(s, `STOPSIGNAL ${c.StopSignal}`);
    case "EXPOSE":
      return applyExpose(s, ins, env);
    case "VOLUME":
      return applyVolume(s, ins, env);
    case "CMD":
    case "ENTRYPOINT":
      return applyCommand(s, ins);
    case "SHELL":
      if (!ins.json || ins.json.length === 0) throw new DockerfileError(ins.line, "SHELL requires the arguments to be in JSON form");
      s.shell = ins.json;
      // In the image too (Docker's config.Shell): a stage FROM it starts with this shell.
      c.Shell = [...ins.json];
      return nop(s, `SHELL ${goList(ins.json)}`);
    case "HEALTHCHECK":
      return applyHealthcheck(s, ins);
    case "MAINTAINER":
      s.author = oneArg(ins, ins.rest, true);
      return nop(s, `MAINTAINER ${ins.rest}`);
    case "ONBUILD":
      return applyOnbuild(s, ins);
    default:
      return undefined;
  }
}

function oneArg(ins: Instruction, v: string, any = false): string {
  if (v === "") throw new DockerfileError(ins.line, `${ins.cmd} requires exactly one argument`);
  if (!any && ins.cmd !== "WORKDIR" && /\s/.test(v.trim())) throw new DockerfileError(ins.line, `${ins.cmd} requires exactly one argument`);
  return ins.cmd === "WORKDIR" ? v : v.trim();
}

/** WORKDIR's path: a relative one goes under the current working directory. */
export function joinPath(cwd: string, p: string): string {
  const abs = p.startsWith("/") ? p : `${cwd.replace(/\/+$/, "")}/${p}`;
  const parts: string[] = [];
  for (const part of abs.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/** `K=V K2="a b"` (each expanded) or the legacy `K V…` form. */
export function nameValues(ins: Instruction, env: ReadonlyMap<string, string>, escape: string): [string, string][] {
  if (ins.rest === "") throw new DockerfileError(ins.line, `${ins.cmd} requires at least one argument`);
  const first = /^(\S+)/.exec(ins.rest)![1]!;
  if (!first.includes("=")) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(ins.rest);
    if (!m) throw new DockerfileError(ins.line, `${ins.cmd} names ${first} but gives no value: use ${ins.cmd} ${first}=VALUE`);
    return [[expand(ins, m[1]!, env, escape), expand(ins, m[2]!, env, escape)]];
  }
  let words: string[];
  try {
    words = rawWords(ins.rest, escape);
  } catch (e) {
    throw new DockerfileError(ins.line, (e as Error).message);
  }
  return words.map((w) => {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new DockerfileError(ins.line, `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    return [expand(ins, w.slice(0, eq), env, escape), expand(ins, w.slice(eq + 1), env, escape)];
  });
}

function applyEnv(s: StageState, ins: Instruction, env: ReadonlyMap<string, string>): string {
  const pairs = nameValues(ins, env, s.escape);
  const out = [...(s.config.Env ?? [])];
  for (const [k, v] of pairs) {
    const i = out.findIndex((e) => e === k || e.startsWith(`${k}=`));
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  s.config.Env = out;
  return nop(s, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`);
}

function applyArg(s: StageState, ins: Instruction, env: ReadonlyMap<string, string>): string {
  const texts: string[] = [];
  for (const [k, def] of argPairs(ins, env, s.escape)) {
    if (s.buildArgs.has(k)) s.used.add(k);
    const value = s.buildArgs.get(k) ?? def ?? s.meta.get(k);
    if (value !== undefined) s.args.set(k, value);
    else s.args.delete(k);
    texts.push(def !== undefined ? `${k}=${def}` : k);
  }
  return nop(s, `ARG ${texts.join(" ")}`);
}

function applyExpose(s: StageState, ins: Instruction, env: ReadonlyMap<string, string>): string {
  const ports = expandWords(ins, ins.rest, env, s.escape);
  if (ports.length === 0) throw new DockerfileError(ins.line, "EXPOSE requires at least one argument");
  const exposed = { ...(s.config.ExposedPorts ?? {}) };
  for (const p of ports) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
    if (!m) throw new DockerfileError(ins.line, `invalid containerPort: ${p}`);
    const proto = (m[3] ?? "tcp").toLowerCase();
    for (let n = Number(m[1]); n <= Number(m[2] ?? m[1]); n++) exposed[`${n}/${proto}`] = {};
  }
  s.config.ExposedPorts = exposed;
  return nop(s, `EXPOSE ${ports.join(" ")}`);
}

function applyVolume(s: StageState, ins: Instruction, env: ReadonlyMap<string, string>): string {
  const vols = ins.json ? ins.json.map((v) => expand(ins, v, env, s.escape)) : expandWords(ins, ins.rest, env, s.escape);
  if (vols.length === 0) throw new DockerfileError(ins.line, "VOLUME requires at least one argument");
  const out = { ...(s.config.Volumes ?? {}) };
  for (const v of vols) {
    if (v.trim() === "") throw new DockerfileError(ins.line, "VOLUME specified can not be an empty string");
    out[v] = {};
  }
  s.config.Volumes = out;
  return nop(s, `VOLUME ${goList(vols)}`);
}

/** Go's %v of a []string: [a b]. */
function goList(list: readonly string[]): string {
  return `[${list.join(" ")}]`;
}

function applyCommand(s: StageState, ins: Instruction): string {
  const argv = ins.json ?? [...s.shell, ins.rest];
  if (ins.cmd === "CMD") s.config.Cmd = argv;
  else {
    s.config.Entrypoint = argv;
    // Docker: an ENTRYPOINT resets a CMD the stage inherited from its base (not one set after).
    if (!s.cmdSet) s.config.Cmd = null;
  }
  if (ins.cmd === "CMD") s.cmdSet = true;
  return nop(s, `${ins.cmd} ${goQuoted(argv)}`);
}

function applyHealthcheck(s: StageState, ins: Instruction): string {
  let h: HealthConfig;
  try {
    h = parseHealthcheckInstruction(ins.rest);
  } catch (e) {
    throw new DockerfileError(ins.line, (e as Error).message);
  }
  s.config.Healthcheck = h;
  const d = (ns: number | undefined) => JSON.stringify(goDuration(ns ?? 0));
  return nop(s, `HEALTHCHECK &{${goQuoted(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} '\\x${(h.Retries ?? 0).toString(16).padStart(2, "0")}'}`);
}

/** Go's time.Duration String() for whole nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  let rest = ns / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  return `${h > 0 ? `${h}h` : ""}${h > 0 || m > 0 ? `${m}m` : ""}${trim(rest)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}

const ONBUILD_REFUSED = ["ONBUILD", "FROM", "MAINTAINER"];

function applyOnbuild(s: StageState, ins: Instruction): string {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(ins.rest);
  if (!m) throw new DockerfileError(ins.line, "ONBUILD requires at least one argument");
  const trigger = m[1]!.toUpperCase();
  if (ONBUILD_REFUSED.includes(trigger)) throw new DockerfileError(ins.line, `${trigger} isn't allowed as an ONBUILD trigger`);
  const text = `${trigger} ${m[2]}`;
  const c = s.config as RunConfig & { OnBuild?: string[] | null };
  c.OnBuild = [...(c.OnBuild ?? []), text];
  return nop(s, `ONBUILD ${text}`);
}

const SIGNALS = /^(SIG)?(ABRT|ALRM|BUS|CHLD|CLD|CONT|FPE|HUP|ILL|INT|IO|IOT|KILL|PIPE|POLL|PROF|PWR|QUIT|SEGV|STKFLT|STOP|SYS|TERM|TRAP|TSTP|TTIN|TTOU|URG|USR1|USR2|VTALRM|WINCH|XCPU|XFSZ|RTMIN(\+\d+)?|RTMAX(-\d+)?)$/i;

function checkSignal(ins: Instruction, sig: string): string {
  if (/^\d+$/.test(sig) ? Number(sig) < 1 || Number(sig) > 64 : !SIGNALS.test(sig)) throw new DockerfileError(ins.line, `invalid signal: ${sig}`);
  return sig;
}

/** Which instructions touch the filesystem (a layer each). */
export function makesLayer(cmd: string): boolean {
  return cmd === "RUN" || cmd === "COPY" || cmd === "ADD";
}
