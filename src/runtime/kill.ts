// `kill [--all] ID [SIGNAL]`: a signal (default TERM) to the container's init, or with --all to
// every process of its cgroup (frozen meanwhile so none forks away, then thawed: runc's way).
import { TsdError } from "../errors";
import { cgroupPids, recordGroup } from "./cgroup";
import { bool, FlagError, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { parseSignal } from "./signals";
import { statusOf, withRecord, type RuntimeRecord } from "./state-dir";

/** process.kill with runc's messages: ESRCH is "no such process". */
export function signal(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") throw new TsdError("no such process", 1);
    throw new TsdError(`cannot signal process ${pid}: ${(e as Error).message}`, 1);
  }
}

/** Every process of the container's cgroup gets `sig`; a process gone meanwhile is skipped. */
export async function signalAll(rec: RuntimeRecord, sig: number, initToo = true): Promise<void> {
  // A stopped container's empty group (containerd's `kill --all ID 9` after the init's exit):
  // nothing can fork into it any more, so no freeze, no mountinfo read.
  if (!initToo && cgroupPids(rec).length === 0) return;
  const cg = recordGroup(rec);
  let froze = false;
  try {
    froze = cg !== undefined && (await cg.driver.freeze(cg.group, true));
  } catch {
    // A group that does not settle is still signalled.
  }
  try {
    const pids = cgroupPids(rec);
    if (pids.length === 0 && initToo && rec.pid > 0) pids.push(rec.pid);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Exited meanwhile.
      }
    }
  } finally {
    if (froze) await cg!.driver.freeze(cg!.group, false);
  }
}

export async function killCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { all: { kind: "bool", aliases: ["a"] } });
  if (p.args.length < 1 || p.args.length > 2) throw new FlagError("kill: needs the container id and at most a signal (usage: tsd-runc kill [--all] <container-id> [signal])");
  const [id, raw] = p.args as [string, string | undefined];
  const sig = parseSignal(raw ?? "TERM");
  await withRecord(g.root, id, async (rec) => {
    const stopped = statusOf(g.root, rec) === "stopped";
    // --all of a stopped container signals what is left in its cgroup (runc's; containerd's
    // shim sends `kill --all ID 9` once the init has exited); nothing left, nothing to do.
    if (bool(p, "all")) await signalAll(rec, sig, !stopped);
    else if (stopped) throw new TsdError("container not running", 1);
    else signal(rec.pid, sig);
  });
  return 0;
}
