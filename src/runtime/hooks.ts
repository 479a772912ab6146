// OCI hooks run by the CLI side of the runtime mode: poststart (start, run) and poststop
// (delete). prestart, createRuntime, createContainer and startContainer run in Zig
// (zig/runtime/hooks.zig), so the order is runc's. A hook runs with its own args and env only,
// the container's state JSON on stdin, its output kept (the first line names a failure), and
// is killed at its timeout (seconds).
//
//   runHooks(kind, hooks, state): Promise<void>   every hook in order; the first failure throws
//   runHooksWarning(kind, hooks, state, warn)      every hook; a failure is warned about
//   hooksOf(spec, kind): Hook[]                   a config.json's hooks of one kind
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export type HookKind = "prestart" | "createRuntime" | "createContainer" | "startContainer" | "poststart" | "poststop";

/** The hooks of `kind` in a parsed config.json (none when it has no `hooks`). */
export function hooksOf(spec: { hooks?: Partial<Record<HookKind, Hook[]>> } | undefined, kind: HookKind): Hook[] {
  const list = spec?.hooks?.[kind];
  return Array.isArray(list) ? list : [];
}

/** `K=V` entries as an environment (the first `=` splits; an entry without one is skipped). */
export function envOf(entries: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of entries ?? []) {
    const at = e.indexOf("=");
    if (at > 0) env[e.slice(0, at)] = e.slice(at + 1);
  }
  return env;
}

/** The message of a failed hook: its kind, path, status and the first line it wrote. */
export function hookFailure(kind: string, path: string, how: string, output: string): string {
  const first = output.trim().split("\n")[0]?.trim() ?? "";
  return `${kind} hook ${path} failed: ${how}${first ? `: ${first}` : ""}`;
}

async function runHook(kind: string, h: Hook, state: string): Promise<void> {
  if (typeof h.path !== "string" || !h.path.startsWith("/")) throw new Error(`${kind} hook path ${JSON.stringify(h.path)} is not absolute`);
  const args = h.args && h.args.length > 0 ? h.args : [h.path];
  const proc = Bun.spawn({ cmd: [h.path, ...args.slice(1)], argv0: args[0], env: envOf(h.env), stdin: Buffer.from(state), stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = h.timeout && h.timeout > 0 ? setTimeout(() => ((timedOut = true), proc.kill(9)), h.timeout * 1000) : undefined;
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (timer) clearTimeout(timer);
  if (timedOut) throw new Error(`${kind} hook ${h.path} timed out after ${h.timeout} s`);
  if (code !== 0) throw new Error(hookFailure(kind, h.path, proc.signalCode ? `killed by ${proc.signalCode}` : `exit status ${code}`, err || out));
}

/** poststart and poststop (runtime-spec): a failing hook is a warning, the remaining hooks
 *  and the lifecycle go on. Each failure's message goes to `warn`. */
export async function runHooksWarning(kind: string, hooks: readonly Hook[] | undefined, state: object, warn: (msg: string) => void): Promise<void> {
  for (const h of hooks ?? []) {
    try {
      await runHooks(kind, [h], state);
    } catch (e) {
      warn((e as Error).message);
    }
  }
}

/** Runs `hooks` in order, each with `state` as JSON on stdin; the first failure throws. */
export async function runHooks(kind: string, hooks: readonly Hook[] | undefined, state: object): Promise<void> {
  const text = JSON.stringify(state);
  for (const h of hooks ?? []) await runHook(kind, h, text);
}
