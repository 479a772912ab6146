// `run [--bundle B] [--detach|-d] [--pid-file P] [--console-socket S] [--no-pivot]
// [--no-new-keyring] [--preserve-fds N] ID`: create + start. In the foreground the monitor
// stays the init's parent (`tsd-monitor --create --wait`), the signals we get go to the init,
// and once it exits the container is deleted (runc's run) and its status is ours. -d: as
// create + start, the init left to the caller's subreaper.
//
//   runCommand(g: RuntimeGlobals, argv: string[]): Promise<number>   the container's status (-d: 0)
import { CREATE_FLAGS, createContainer, createOptions } from "./create";
import { deleteCommand } from "./delete";
import { bool, exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { startRecord } from "./start";
import { withRecord } from "./state-dir";

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

export async function runCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { ...CREATE_FLAGS, detach: { kind: "bool", aliases: ["d"] }, keep: { kind: "bool" } });
  exactArgs("run", p.args, 1, "[--bundle B] [--detach] <container-id>");
  const o = createOptions(p, p.args[0]!);
  const detach = bool(p, "detach");
  const created = await createContainer(g, { ...o, wait: !detach });
  const pid = created.record.pid;
  const handlers = detach ? [] : FORWARDED.map((sig) => [sig, () => signal(pid, sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    await withRecord(g.root, o.id, async (rec) => await startRecord(g, rec));
  } catch (e) {
    for (const [sig, h] of handlers) process.off(sig, h);
    await deleteCommand(g, ["--force", o.id]);
    throw e;
  }
  if (detach) return 0;
  try {
    const status = await created.monitor.exited;
    if (!bool(p, "keep")) await deleteCommand(g, ["--force", o.id]);
    return status;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // The init is gone: its exit ends the run.
  }
}

