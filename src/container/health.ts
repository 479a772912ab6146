// Health checks, Docker 20.10's: the --health-* flags and the image's HEALTHCHECK (merged as
// Docker's daemon does: a flag's field wins over the image's), the monitor's --health-* argv
// (zig/monitor/health.zig runs the probes), and <bundle>/health.json read back for ps and
// inspect (zig/CONTRACT.md "Health checks"). Pure apart from readHealth.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError, TsdError } from "../errors";
import type { HealthConfig } from "../image/store";
import { MIN_DURATION_NS, parseGoDuration } from "../image/healthcheck";

export type { HealthConfig };

export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

export interface HealthFlags {
  "health-cmd"?: string;
  "health-interval"?: string;
  "health-timeout"?: string;
  "health-start-period"?: string;
  "health-retries"?: string;
  "no-healthcheck"?: boolean;
}

export const DEFAULT_INTERVAL_NS = 30e9;
export const DEFAULT_TIMEOUT_NS = 30e9;
export const DEFAULT_RETRIES = 3;
function flagDuration(name: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const ns = parseGoDuration(value);
  if (ns === undefined) throw new UsageError(`invalid argument "${value}" for "--${name}" flag: use a duration like 30s, 1m30s or 200ms`);
  if (ns < 0) throw new UsageError(`--${name} cannot be negative`);
  return ns;
}

/** docker/cli's opts.go: the flags as a HealthConfig (undefined: none given). */
export function healthFromFlags(f: HealthFlags): HealthConfig | undefined {
  const interval = flagDuration("health-interval", f["health-interval"]);
  const timeout = flagDuration("health-timeout", f["health-timeout"]);
  const startPeriod = flagDuration("health-start-period", f["health-start-period"]);
  const retriesText = f["health-retries"];
  const retries = retriesText === undefined ? 0 : Number(retriesText);
  if (!Number.isInteger(retries)) throw new UsageError(`invalid argument "${retriesText}" for "--health-retries" flag: use a whole number`);
  if (retries < 0) throw new UsageError("--health-retries cannot be negative");
  const cmd = f["health-cmd"] ?? "";
  const any = cmd !== "" || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0;
  if (f["no-healthcheck"]) {
    if (any) throw new UsageError("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  return { Test: cmd !== "" ? ["CMD-SHELL", cmd] : [], Interval: interval, Timeout: timeout, StartPeriod: startPeriod, Retries: retries };
}

/** The daemon's checks of a HealthConfig (verifyContainerSettings). */
export function checkHealthConfig(h: HealthConfig): void {
  for (const [name, v] of [["Interval", h.Interval], ["Timeout", h.Timeout], ["StartPeriod", h.StartPeriod]] as const) {
    if (v !== undefined && v !== 0 && v < MIN_DURATION_NS) throw new UsageError(`${name} in Healthcheck cannot be less than 1ms`);
  }
  if ((h.Retries ?? 0) < 0) throw new UsageError("Retries in Healthcheck cannot be negative");
  const kind = h.Test?.[0];
  if (kind !== undefined && !["NONE", "CMD", "CMD-SHELL"].includes(kind)) throw new UsageError(`unknown Healthcheck type "${kind}": use CMD, CMD-SHELL or NONE`);
}

/** The daemon's merge (daemon/commit.go merge): the container's fields, the image's where unset. */
export function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | undefined | null): HealthConfig | undefined {
  if (!user) return image ? { ...image } : undefined;
  if (!image) return user;
  return {
    Test: user.Test?.length ? user.Test : (image.Test ?? []),
    Interval: user.Interval || image.Interval || 0,
    Timeout: user.Timeout || image.Timeout || 0,
    StartPeriod: user.StartPeriod || image.StartPeriod || 0,
    Retries: user.Retries || image.Retries || 0,
  };
}

/** The options with the image's HEALTHCHECK merged in and checked (at create). */
export function withHealthcheck<T extends { healthcheck?: HealthConfig }>(opts: T, image: HealthConfig | undefined | null): T {
  const healthcheck = mergeHealthcheck(opts.healthcheck, image);
  if (!healthcheck) return opts;
  checkHealthConfig(healthcheck);
  return { ...opts, healthcheck };
}

/** The probe's argv, or undefined when the container has no health check (none, NONE, empty). */
export function probeArgv(h: HealthConfig | undefined): string[] | undefined {
  const [kind, ...rest] = h?.Test ?? [];
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest.length > 0) return ["/bin/sh", "-c", rest.join(" ")];
  return undefined;
}

/** tsd-monitor's --health-* options (zig/monitor/args.zig), defaults applied. */
export function monitorHealthArgs(h: HealthConfig | undefined): string[] {
  const argv = probeArgv(h);
  if (!argv) return [];
  if (argv.length > 256) throw new TsdError("the health check command has more than 256 arguments");
  return [
    "--health-cmd", String(argv.length), ...argv,
    "--health-interval", String(h!.Interval || DEFAULT_INTERVAL_NS),
    "--health-timeout", String(h!.Timeout || DEFAULT_TIMEOUT_NS),
    "--health-start-period", String(h!.StartPeriod || 0),
    "--health-retries", String(h!.Retries && h!.Retries > 0 ? h!.Retries : DEFAULT_RETRIES),
  ];
}

/** health.json as the monitor writes it; undefined when absent or unreadable. */
export function parseHealthState(text: string): HealthState | undefined {
  try {
    const v = JSON.parse(text) as HealthState;
    if (!["starting", "healthy", "unhealthy"].includes(v.Status) || !Array.isArray(v.Log)) return undefined;
    return { Status: v.Status, FailingStreak: Number(v.FailingStreak) || 0, Log: v.Log };
  } catch {
    return undefined;
  }
}

/**
 * A container's State.Health (Docker shows it once a container with a check has started): the
 * monitor's health.json, or "starting" while running before it is written.
 */
export function readHealth(bundle: string, h: HealthConfig | undefined, running: boolean): HealthState | undefined {
  if (!probeArgv(h)) return undefined;
  let text: string | undefined;
  try {
    text = readFileSync(join(bundle, "health.json"), "utf8");
  } catch {
    text = undefined;
  }
  const state = text === undefined ? undefined : parseHealthState(text);
  if (state) return state;
  return running ? { Status: "starting", FailingStreak: 0, Log: [] } : undefined;
}

/** The part of ps's STATUS after "Up 2 minutes": " (healthy)", " (health: starting)", or "". */
export function healthSuffix(state: HealthState | undefined): string {
  if (!state) return "";
  return state.Status === "starting" ? " (health: starting)" : ` (${state.Status})`;
}

/** ps --filter health=…: starting, healthy, unhealthy, or none (no health check). */
export function healthFilterValue(state: HealthState | undefined): string {
  return state?.Status ?? "none";
}
