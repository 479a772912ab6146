// --log-opt for the json-file log the monitor writes (zig/monitor/log.zig). Pure: unit-tested.
import { UsageError } from "../errors";

export interface LogOptions {
  /** Rotate past this many bytes; 0: never. */
  maxSize: number;
  /** Files kept, the live one included (Docker's max-file). */
  maxFile: number;
}

/** Docker has no limit by default; we bound every log: 10 MiB, one rotated file beside it. */
export const DEFAULT_LOG: LogOptions = { maxSize: 10 * 1024 * 1024, maxFile: 2 };

/** "10m", "512k", "1g", "100" (bytes), as Docker's units.RAMInBytes (binary multiples). */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) return undefined;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.floor(Number(m[1]) * mult);
}

export function parseLogOpts(opts: string[]): LogOptions {
  const out = { ...DEFAULT_LOG };
  for (const o of opts) {
    const eq = o.indexOf("=");
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? "" : o.slice(eq + 1);
    if (key === "max-size") {
      const n = value === "-1" ? 0 : parseSize(value);
      if (n === undefined || (n !== 0 && n < 1024)) throw new UsageError(`invalid --log-opt max-size "${value}": use a size of at least 1k such as 10m, or -1 for no limit`);
      out.maxSize = n;
    } else if (key === "max-file") {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(n >= 1 && n <= 64)) throw new UsageError(`invalid --log-opt max-file "${value}": use a count from 1 to 64`);
      out.maxFile = n;
    } else {
      throw new UsageError(`unknown log opt "${key}" for the json-file log driver: use max-size or max-file`);
    }
  }
  return out;
}
