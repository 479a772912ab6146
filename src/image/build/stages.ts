// A parsed Dockerfile split into its stages, with Docker's ARG scoping: ARGs before the first
// FROM are meta args, usable in FROM lines only (a stage sees one again when it declares it
// with no default); within a stage an ARG takes the --build-arg value, else its default.
// The predefined proxy args need no ARG. Pure.
import { DockerfileError, flagValue, type Dockerfile, type Instruction } from "./dockerfile";
import { processWord, processWords, rawWords as rawWordsOf, WordError } from "./shell-words";

export const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

export interface Stage {
  index: number;
  /** `FROM … AS name`, lower case. */
  name?: string;
  /** The base: an image reference, an earlier stage's name, or "scratch" (expanded). */
  base: string;
  platform?: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface Plan {
  escape: string;
  metaArgs: Instruction[];
  /** Meta args' values after --build-arg (undefined: declared without a value). */
  meta: Map<string, string>;
  stages: Stage[];
}

/** Splits the Dockerfile into stages and expands each FROM with the meta args. */
export function planStages(df: Dockerfile, buildArgs: ReadonlyMap<string, string>, platformArgs: ReadonlyMap<string, string> = new Map()): Plan {
  const plan: Plan = { escape: df.escape, metaArgs: [], meta: new Map(), stages: [] };
  for (const ins of df.instructions) {
    if (plan.stages.length === 0 && ins.cmd !== "FROM") {
      if (ins.cmd !== "ARG") throw new DockerfileError(ins.line, `${ins.cmd} before the first FROM: a Dockerfile must begin with FROM (or ARGs for it)`);
      plan.metaArgs.push(ins);
      for (const [k, v] of argPairs(ins, plan.meta, df.escape)) {
        const value = buildArgs.get(k) ?? v;
        if (value !== undefined) plan.meta.set(k, value);
      }
      continue;
    }
    if (ins.cmd === "FROM") plan.stages.push(stageFrom(ins, plan, df.escape, platformArgs));
    else plan.stages[plan.stages.length - 1]!.instructions.push(ins);
  }
  if (plan.stages.length === 0) throw new DockerfileError(df.instructions.at(-1)?.line ?? 1, "no FROM instruction: a Dockerfile must have at least one stage");
  return plan;
}

/** `platformArgs`: BUILDPLATFORM, TARGETPLATFORM and their parts, for FROM --platform=$… only. */
function stageFrom(ins: Instruction, plan: Plan, escape: string, platformArgs: ReadonlyMap<string, string>): Stage {
  const words = expandWords(ins, ins.rest, plan.meta, escape);
  if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === "as")) {
    throw new DockerfileError(ins.line, "FROM requires either one or three arguments (FROM IMAGE [AS NAME])");
  }
  const name = words[2]?.toLowerCase();
  if (name !== undefined) {
    if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw new DockerfileError(ins.line, `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
    if (plan.stages.some((s) => s.name === name)) throw new DockerfileError(ins.line, `duplicate name for build stage: "${name}"`);
  }
  const platform = flagValue(ins, "platform");
  if (words[0] === "") throw new DockerfileError(ins.line, "FROM names no image (an ARG it uses is empty)");
  return { index: plan.stages.length, ...(name ? { name } : {}), base: words[0]!, ...(platform !== undefined ? { platform: expand(ins, platform, new Map([...platformArgs, ...plan.meta]), escape) } : {}), from: ins, instructions: [] };
}

/** An ARG instruction's `NAME[=default]` pairs, defaults expanded with `env`. */
/** BuildKit's predefined platform args for a build on `host` for `target` (os/arch[/variant]). */
export function platformArgs(host: string, target: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const [prefix, p] of [["BUILD", host], ["TARGET", target]] as const) {
    const [os, arch, variant] = p.split("/");
    m.set(`${prefix}PLATFORM`, p);
    m.set(`${prefix}OS`, os ?? "");
    m.set(`${prefix}ARCH`, arch ?? "");
    m.set(`${prefix}VARIANT`, variant ?? "");
  }
  return m;
}

export function argPairs(ins: Instruction, env: ReadonlyMap<string, string>, escape: string): [string, string | undefined][] {
  if (ins.rest === "") throw new DockerfileError(ins.line, "ARG requires at least one argument");
  return wordsOf(ins, escape).map((w) => {
    const eq = w.indexOf("=");
    if (eq === 0) throw new DockerfileError(ins.line, `ARG names no variable: "${w}"`);
    if (eq < 0) return [expand(ins, w, env, escape), undefined];
    return [expand(ins, w.slice(0, eq), env, escape), expand(ins, w.slice(eq + 1), env, escape)];
  });
}

function wordsOf(ins: Instruction, escape: string): string[] {
  try {
    return rawWordsOf(ins.rest, escape);
  } catch (e) {
    if (e instanceof WordError) throw new DockerfileError(ins.line, e.message);
    throw e;
  }
}

/** processWord with the instruction's line on an error. */
export function expand(ins: Instruction, word: string, env: ReadonlyMap<string, string>, escape: string): string {
  try {
    return processWord(word, env, escape);
  } catch (e) {
    if (e instanceof WordError) throw new DockerfileError(ins.line, e.message);
    throw e;
  }
}

/** processWords with the instruction's line on an error. */
export function expandWords(ins: Instruction, text: string, env: ReadonlyMap<string, string>, escape: string): string[] {
  try {
    return processWords(text, env, escape);
  } catch (e) {
    if (e instanceof WordError) throw new DockerfileError(ins.line, e.message);
    throw e;
  }
}

/** The stage (by name or index) `ref` names among the first `before` stages, if any. */
export function stageNamed(plan: Plan, ref: string, before: number): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = plan.stages.slice(0, before).find((s) => s.name === lower);
  if (byName) return byName;
  if (/^\d+$/.test(ref) && Number(ref) < before) return plan.stages[Number(ref)];
  return undefined;
}
