// `--filter KEY=VALUE` as the Docker CLI and daemon take it: the same key ORs, different keys
// AND; a value without "=" is a flag error (125), an unknown key the daemon's "Invalid filter"
// (status 1).
import { TsdError, UsageError } from "../errors";

export type Filters = Map<string, string[]>;

export function parseFilters(list: string[], accepted: readonly string[]): Filters {
  const out: Filters = new Map();
  for (const f of list) {
    const eq = f.indexOf("=");
    if (eq < 0) throw new UsageError(`invalid argument "${f}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = f.slice(0, eq).trim().toLowerCase();
    const value = f.slice(eq + 1).trim();
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  for (const key of out.keys()) if (!accepted.includes(key)) throw new TsdError(`Invalid filter '${key}'`, 1);
  return out;
}

/** Every value of `key` passes `test` for one of them (keys not given pass). */
export function matchAny(filters: Filters, key: string, test: (value: string) => boolean): boolean {
  const values = filters.get(key);
  return values === undefined || values.some(test);
}

/** label=KEY or label=KEY=VALUE: every one given must match (Docker ANDs labels). */
export function matchLabels(filters: Filters, labels: Record<string, string>, key = "label"): boolean {
  return (filters.get(key) ?? []).every((l) => {
    const eq = l.indexOf("=");
    if (eq < 0) return Object.hasOwn(labels, l);
    return labels[l.slice(0, eq)] === l.slice(eq + 1);
  });
}

/** A boolean filter value as Docker reads it (dangling=true|1|false|0). */
export function boolFilter(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new TsdError(`Invalid filter '${key}=[${value}]'`, 1);
}
