// Docker-style flag parsing (pflag semantics): repeatable flags, `-it` clusters, `-eK=V`,
// `--flag=value`, and parsing stops at the first positional so that `run IMAGE ls -la` hands
// `-la` to the container. citty dispatches commands and renders help; its parser keeps only
// the last of a repeated flag and reads flags after positionals, so commands parse with this.
import type { ArgsDef } from "citty";
import { UsageError } from "./globals";

export type FlagKind = "bool" | "string" | "list";
export interface FlagDef {
  kind: FlagKind;
  short?: string;
  description: string;
  valueHint?: string;
  /** A bool's value when the flag is absent (`--pause` is on unless `--pause=false`). */
  default?: boolean;
}
export type FlagSpec = Record<string, FlagDef>;
export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]: S[K]["kind"] extends "bool" ? boolean : S[K]["kind"] extends "list" ? string[] : string | undefined;
};
/** `--help` (or `-h` where no flag takes it) among a command's flags: main prints its usage. */
export class HelpRequested extends Error {}

export interface ParsedFlags<S extends FlagSpec> {
  flags: FlagValues<S>;
  positionals: string[];
}

/**
 * Parses `argv` against `spec`. With `interspersed` false (run, exec), the first positional
 * ends flag parsing and it and everything after it are positionals.
 */
export function parseFlags<S extends FlagSpec>(
  command: string,
  spec: S,
  argv: string[],
  interspersed = true,
): ParsedFlags<S> {
  const flags: Record<string, boolean | string | string[] | undefined> = {};
  for (const [name, def] of Object.entries(spec)) flags[name] = def.kind === "bool" ? (def.default ?? false) : def.kind === "list" ? [] : undefined;
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) if (def.short) byShort.set(def.short, name);
  const positionals: string[] = [];
  const hint = `see 'tsd ${command} --help'`;

  const set = (name: string, value: string | undefined, next: () => string | undefined, shown: string) => {
    const def = spec[name]!;
    if (def.kind === "bool") {
      if (value === undefined || value === "true") flags[name] = true;
      else if (value === "false") flags[name] = false;
      else throw new UsageError(`invalid argument "${value}" for "${shown}": expected true or false (${hint})`);
      return;
    }
    const v = value ?? next();
    if (v === undefined) throw new UsageError(`flag needs an argument: ${shown} (${hint})`);
    if (def.kind === "list") (flags[name] as string[]).push(v);
    else flags[name] = v;
  };

  let i = 0;
  const next = () => (i + 1 < argv.length ? argv[++i] : undefined);
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      if (name === "help" && !("help" in spec)) throw new HelpRequested();
      if (!(name in spec)) throw new UsageError(`unknown flag: --${name} (${hint})`);
      set(name, eq < 0 ? undefined : a.slice(eq + 1), next, `--${name}`);
    } else if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j]!);
        if (!name && a === "-h") throw new HelpRequested();
        if (!name) throw new UsageError(`unknown shorthand flag: '${a[j]}' in ${a} (${hint})`);
        if (spec[name]!.kind === "bool") {
          set(name, undefined, next, `-${a[j]}`);
          continue;
        }
        const rest = a.slice(j + 1);
        set(name, rest === "" ? undefined : rest.replace(/^=/, ""), next, `-${a[j]}`);
        break;
      }
    } else {
      if (!interspersed) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(a);
    }
  }
  return { flags: flags as FlagValues<S>, positionals };
}

/** The same flags as citty argument definitions, so `--help` lists them. */
export function cittyArgs(spec: FlagSpec): ArgsDef {
  const out: ArgsDef = {};
  for (const [name, def] of Object.entries(spec)) {
    out[name] = {
      type: def.kind === "bool" ? "boolean" : "string",
      description: def.kind === "list" ? `${def.description} (repeatable)` : def.description,
      ...(def.short ? { alias: def.short } : {}),
      ...(def.valueHint ? { valueHint: def.valueHint } : {}),
    };
  }
  return out;
}
