// A command is a citty CommandDef (meta, args for --help, subCommands, run({ rawArgs })), but
// running one does not go through citty. Every command parses its own rawArgs (cli/flags.ts:
// pflag semantics citty's parser lacks), so citty's runCommand would parse each command's
// flags a second time only to throw the result away: that parse (camelCase and kebabCase of
// every flag definition, ~100 for run) cost ~3 ms of every `tsd run`, and importing citty at
// start loaded node:util (~1 ms). citty is imported only to render `tsd --help` (main.ts).
import type { ArgsDef, CommandDef } from "citty";

/** Types a command (citty's own `defineCommand` is this identity, without its import). */
export function defineCommand<T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

/** A citty Resolvable: the value, its promise, or a function returning either. */
export async function resolve<T>(v: T | (() => T | Promise<T>) | Promise<T> | undefined): Promise<T | undefined> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/**
 * Runs `cmd` with `rawArgs`: a group (network, volume, …) runs the subcommand its first
 * positional names with the arguments after it, as citty does; main.ts has already checked that
 * the subcommand exists (or printed the group's help).
 */
export async function runCommand(cmd: CommandDef, rawArgs: string[]): Promise<void> {
  const subs = await resolve(cmd.subCommands);
  if (subs && Object.keys(subs).length > 0) {
    const at = rawArgs.findIndex((a) => !a.startsWith("-"));
    const sub = at < 0 ? undefined : await resolve(subs[rawArgs[at]!]);
    if (sub) return runCommand(sub, rawArgs.slice(at + 1));
  }
  if (!cmd.run) throw new Error(`internal: command without a handler (${rawArgs.join(" ")})`);
  await cmd.run({ rawArgs, args: { _: [] } as never, cmd });
}
