// runc's command line, parsed as Go's flag package (under urfave/cli) does: `-f` and `--f`,
// `--f V` and `--f=V`, booleans as `--b` or `--b=false`, `--` ends the flags. Pure: the unit
// tests hold every form a caller sends (containerd, CRI-O, conmon).
import { TsdError } from "../errors";

export type FlagKind = "bool" | "string" | "list";
export interface FlagDef {
  kind: FlagKind;
  aliases?: string[];
}
export type FlagSpec = Record<string, FlagDef>;
export type FlagValue = boolean | string | string[];

export interface Parsed {
  flags: Record<string, FlagValue>;
  args: string[];
}

/** runc's `exec` exits 255 ("exec failed: …") when anything after its flags fails. */
export const EXEC_FAILED = 255;

export class FlagError extends TsdError {
  constructor(message: string) {
    super(message, 1);
  }
}

function lookup(spec: FlagSpec): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) {
    names.set(name, name);
    for (const a of def.aliases ?? []) names.set(a, name);
  }
  return names;
}

function boolValue(name: string, v: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new FlagError(`invalid boolean value "${v}" for -${name}`);
}

function set(out: Record<string, FlagValue>, name: string, def: FlagDef, v: string | boolean): void {
  if (def.kind === "list") out[name] = [...((out[name] as string[] | undefined) ?? []), String(v)];
  else out[name] = v;
}

/**
 * Parses `argv` against `spec`. `interleaved`: flags may follow positional arguments (urfave's
 * reordering, as `runc kill ID 9 --all` works); false (exec, run): the first positional
 * argument ends the flags, so a command's own flags (`exec ID ls -l`) stay its own.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec, interleaved = true): Parsed {
  const names = lookup(spec);
  const flags: Record<string, FlagValue> = {};
  const args: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!interleaved) break;
      args.push(a);
      continue;
    }
    const body = a.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq < 0 ? body : body.slice(0, eq);
    const name = names.get(key);
    if (name === undefined) throw new FlagError(`flag provided but not defined: -${key}`);
    const def = spec[name]!;
    if (def.kind === "bool") {
      set(flags, name, def, eq < 0 ? true : boolValue(key, body.slice(eq + 1)));
      continue;
    }
    if (eq >= 0) {
      set(flags, name, def, body.slice(eq + 1));
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new FlagError(`flag needs an argument: -${key}`);
    set(flags, name, def, v);
  }
  args.push(...argv.slice(i));
  return { flags, args };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.flags[name];
  return Array.isArray(v) ? v : [];
}

/** A non-negative integer flag (--preserve-fds N). */
export function uint(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new FlagError(`invalid value "${v}" for flag -${name}: parse error`);
  return Number(v);
}

/** Exactly `n` positional arguments, else runc's usage error. */
export function exactArgs(verb: string, args: readonly string[], n: number, usage: string): void {
  if (args.length !== n) {
    throw new FlagError(`${verb}: needs exactly ${n} argument${n === 1 ? "" : "s"} (usage: tsd-runc ${verb} ${usage})`);
  }
}

/** The container id: the first positional argument. */
export function idArg(verb: string, args: readonly string[]): string {
  const id = args[0];
  if (id === undefined || id === "") throw new FlagError(`${verb}: container id cannot be empty`);
  return id;
}
