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
import { forwardSignals } from "./signals";
import { withRecord } from "./state-dir";

export async function runCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { ...CREATE_FLAGS, detach: { kind: "bool", aliases: ["d"] }, keep: { kind: "bool" } });
  exactArgs("run", p.args, 1, "[--bundle B] [--detach] <container-id>");
  const o = createOptions(p, p.args[0]!);
  const detach = bool(p, "detach");
  const created = await createContainer(g, { ...o, wait: !detach });
  const pid = created.record.pid;
  const stopForwarding = detach ? () => {} : forwardSignals(pid);
  try {
    await withRecord(g.root, o.id, async (rec) => await startRecord(g, rec));
  } catch (e) {
    stopForwarding();
    await deleteCommand(g, ["--force", o.id]);
    throw e;
  }
  if (detach) return 0;
  try {
    const status = await created.monitor.exited;
    if (!bool(p, "keep")) await deleteCommand(g, ["--force", o.id]);
    return status;
  } finally {
    stopForwarding();
  }
}

