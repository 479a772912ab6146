// runc's global flags, before the verb: what every verb of the runtime mode receives.
import { resolve } from "node:path";
import { FlagError, parseFlags, str, bool, type FlagSpec } from "./flags";
import type { LogFormat } from "./log";

export interface RuntimeGlobals {
  /** State directory: <root>/<id>/ per container (state-dir.ts). */
  root: string;
  log?: string;
  logFormat: LogFormat;
  systemdCgroup: boolean;
  debug: boolean;
  /** runc's --criu: the CRIU binary checkpoint/restore run (default: criu on PATH). */
  criu?: string;
}

export const GLOBAL_FLAGS: FlagSpec = {
  root: { kind: "string" },
  log: { kind: "string" },
  "log-format": { kind: "string" },
  "systemd-cgroup": { kind: "bool" },
  debug: { kind: "bool" },
  // Accepted for runc's callers, without effect: tsd decides rootless itself.
  rootless: { kind: "string" },
  criu: { kind: "string" },
  help: { kind: "bool", aliases: ["h"] },
  version: { kind: "bool", aliases: ["v"] },
};

/** The default --root: /run/tsd-runc for root, else under $XDG_RUNTIME_DIR (podman passes
 *  none, so this default is what a rootless podman gets). */
export function defaultRoot(uid: number, env: Record<string, string | undefined>): string {
  if (uid === 0) return "/run/tsd-runc";
  if (env.XDG_RUNTIME_DIR) return resolve(env.XDG_RUNTIME_DIR, "tsd-runc");
  return `/tmp/tsd-runc-${uid}`;
}

/** The global flags up to the verb; `rest` starts with the verb (or is empty). */
export function parseGlobals(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  uid: number,
): { globals: RuntimeGlobals; rest: string[]; help: boolean; version: boolean } {
  const p = parseFlags(argv, GLOBAL_FLAGS, false);
  const format = str(p, "log-format") ?? "text";
  if (format !== "text" && format !== "json") throw new FlagError(`invalid log-format: ${format} (use text or json)`);
  const root = str(p, "root");
  if (root === "") throw new FlagError("--root must not be empty");
  const globals: RuntimeGlobals = {
    root: resolve(root ?? defaultRoot(uid, env)),
    logFormat: format,
    systemdCgroup: bool(p, "systemd-cgroup"),
    debug: bool(p, "debug"),
  };
  const log = str(p, "log");
  if (log) globals.log = resolve(log);
  const criu = str(p, "criu");
  if (criu) globals.criu = criu;
  return { globals, rest: p.args, help: bool(p, "help"), version: bool(p, "version") };
}
