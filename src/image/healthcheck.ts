// The Dockerfile HEALTHCHECK instruction (`tsd commit --change`, and `tsd build` later) as an
// image's Config.Healthcheck, and Go's duration syntax its flags use. Pure.
import { UsageError } from "../errors";
import type { HealthConfig } from "./store";

export const MIN_DURATION_NS = 1e6;

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "200ms", "1.5h", "0"), in ns; undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  const m = /^([-+]?)(.*)$/.exec(text)!;
  const body = m[2]!;
  if (body === "0") return 0;
  if (body === "") return undefined;
  let total = 0;
  const re = /(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/y;
  let at = 0;
  while (at < body.length) {
    re.lastIndex = at;
    const part = re.exec(body);
    if (!part || part[1] === "" || part[1] === ".") return undefined;
    total += Number(part[1]) * UNITS[part[2]!]!;
    at = re.lastIndex;
  }
  return Math.round(m[1] === "-" ? -total : total);
}

/**
 * A Dockerfile HEALTHCHECK instruction's arguments (`tsd commit --change`):
 * `[--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command` or `NONE`.
 */
export function parseHealthcheckInstruction(arg: string): HealthConfig {
  let rest = arg.trim();
  const h: HealthConfig = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S*)\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    const [, name, value] = m as unknown as [string, string, string];
    if (name === "retries") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`HEALTHCHECK --retries must be at least 1 (not ${value})`);
      h.Retries = n;
      continue;
    }
    const key = ({ interval: "Interval", timeout: "Timeout", "start-period": "StartPeriod" } as const)[name as "interval"];
    if (!key) throw new UsageError(`HEALTHCHECK: unknown flag --${name}: use --interval, --timeout, --start-period or --retries`);
    const ns = parseGoDuration(value);
    if (ns === undefined || (ns !== 0 && ns < MIN_DURATION_NS)) throw new UsageError(`HEALTHCHECK --${name}=${value}: use a duration of at least 1ms`);
    h[key] = ns;
  }
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
  const kind = m?.[1]?.toUpperCase();
  if (kind === "NONE") {
    if (m![2] !== "" || Object.keys(h).length > 0) throw new UsageError("HEALTHCHECK NONE takes no arguments");
    return { Test: ["NONE"] };
  }
  if (kind !== "CMD" || m![2] === "") throw new UsageError(`HEALTHCHECK needs CMD and a command, or NONE: ${arg}`);
  const command = m![2]!;
  const exec = execForm(command);
  return { Test: exec ? ["CMD", ...exec] : ["CMD-SHELL", command], Interval: h.Interval ?? 0, Timeout: h.Timeout ?? 0, StartPeriod: h.StartPeriod ?? 0, Retries: h.Retries ?? 0 };
}

function execForm(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string")) return v as string[];
  } catch {
    // The shell form after all (Docker's parser does the same).
  }
  return undefined;
}
