// Options that come before the command (`tsd --root DIR run …`), as Docker's global flags.
import { UsageError } from "../errors";
import { resolve } from "node:path";

export interface Globals {
  root: string;
  debug: boolean;
}

export const DEFAULT_ROOT = "/var/lib/tsd";

/** Splits leading global flags off argv (`defaultRoot`: rootless, the user's data dir); what follows is the command and its arguments. */
export function splitGlobals(argv: string[], env: Record<string, string | undefined>, defaultRoot = DEFAULT_ROOT): { globals: Globals; rest: string[] } {
  const globals: Globals = { root: env.TSD_ROOT || defaultRoot, debug: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--root") {
      const v = argv[++i];
      if (v === undefined) throw new UsageError("flag needs an argument: --root");
      globals.root = v;
    } else if (a.startsWith("--root=")) globals.root = a.slice("--root=".length);
    else if (a === "--debug" || a === "-D") globals.debug = true;
    else break;
  }
  if (globals.root === "") throw new UsageError("--root must not be empty");
  globals.root = resolve(globals.root);
  return { globals, rest: argv.slice(i) };
}

// Re-exported: the commands under src/cli/ take it from here, the domain from src/errors.ts.
export { UsageError };

let current: Globals | undefined;
export function setGlobals(g: Globals): void {
  current = g;
}
export function globals(): Globals {
  if (!current) throw new Error("globals not set");
  return current;
}
