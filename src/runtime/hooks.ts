// PLACEHOLDER on branch h/rt-verbs: rt-core writes hooks.ts (RUNTIME.md "Hooks"); at the merge
// rt-core's file replaces this one whole. The same entry point, enough for delete's poststop:
// each hook runs in order with the state JSON on stdin, its own env only, its timeout (s).
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

async function runHook(kind: string, h: Hook, state: string): Promise<void> {
  const env = Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  const proc = Bun.spawn({ cmd: [h.path, ...(h.args ?? []).slice(1)], argv0: h.args?.[0] ?? h.path, env, stdin: Buffer.from(state), stdout: "inherit", stderr: "inherit" });
  const timer = h.timeout && h.timeout > 0 ? setTimeout(() => proc.kill(9), h.timeout * 1000) : undefined;
  const code = await proc.exited;
  if (timer) clearTimeout(timer);
  if (code !== 0) throw new Error(`${kind} hook ${h.path} failed: ${proc.signalCode ? `killed by ${proc.signalCode}` : `exit status ${code}`}`);
}

/** Runs `hooks` in order; the first failure throws. */
export async function runHooks(kind: string, hooks: readonly Hook[] | undefined, state: object): Promise<void> {
  const text = JSON.stringify(state);
  for (const h of hooks ?? []) await runHook(kind, h, text);
}
