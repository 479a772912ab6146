// `delete [--force] ID`: a stopped (or created) container's cgroup and state go, then its
// poststop hooks run; a running or paused one needs --force (SIGKILL, waited for). A missing
// id with --force is not an error (containerd deletes twice after a failed create).
import { readFileSync, rmdirSync, rmSync } from "node:fs";
import { TsdError } from "../errors";
import { recordGroup } from "./cgroup";
import { bool, exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { runHooksWarning, type Hook } from "./hooks";
import { logWarning } from "./log";
import { containerDir, initAlive, ociState, readRecord, statusOf, withRecord, type RuntimeRecord } from "./state-dir";

const KILL_WAIT_MS = 10_000;

/** SIGKILL to the init (thawed first: a frozen v1 task takes no signal), then polled until it
 *  is gone or a zombie: its reaper is the caller's subreaper, not us. */
export async function killAndWait(rec: RuntimeRecord): Promise<void> {
  const cg = recordGroup(rec);
  if (cg) cg.driver.thawNow(cg.group);
  try {
    process.kill(rec.pid, 9);
  } catch {
    return;
  }
  const end = Date.now() + KILL_WAIT_MS;
  for (let pause = 1; initAlive(rec); pause = Math.min(pause * 2, 50)) {
    if (Date.now() > end) throw new TsdError(`container init ${rec.pid} still lives ${KILL_WAIT_MS / 1000}s after SIGKILL`, 1);
    await Bun.sleep(pause);
  }
}

function poststopHooks(bundle: string): Hook[] {
  try {
    const spec = JSON.parse(readFileSync(`${bundle}/config.json`, "utf8")) as { hooks?: { poststop?: Hook[] } };
    return spec.hooks?.poststop ?? [];
  } catch {
    return []; // The bundle is gone already: nothing to run.
  }
}

/** The group's directories, each removed by one rmdir when empty (a stopped container's
 *  usually is: no mountinfo read, no scan); false when any is still busy or has sub-groups,
 *  for the driver's removal, which kills what is left. */
export function rmdirEmptyGroup(paths: readonly string[]): boolean {
  let all = true;
  for (const dir of paths) {
    try {
      rmdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") all = false;
    }
  }
  return all;
}

/** The cgroup (anything left in it killed), the state directory, then poststop hooks. */
async function destroy(g: RuntimeGlobals, rec: RuntimeRecord): Promise<void> {
  const cg = rmdirEmptyGroup(rec.cgroup?.paths ?? []) ? undefined : recordGroup(rec);
  if (cg) cg.driver.remove(cg.group);
  const state = ociState(g.root, rec);
  rmSync(containerDir(g.root, rec.id), { recursive: true, force: true });
  // runtime-spec: a failing poststop hook is a warning, the remaining hooks still run.
  await runHooksWarning("poststop", poststopHooks(rec.bundle), state, (msg) => logWarning(g, msg));
}

export async function deleteCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, { force: { kind: "bool", aliases: ["f"] } });
  exactArgs("delete", p.args, 1, "[--force] <container-id>");
  const id = p.args[0]!;
  const force = bool(p, "force");
  try {
    readRecord(g.root, id);
  } catch (e) {
    if (force && /does not exist/.test((e as Error).message)) return 0;
    throw e;
  }
  await withRecord(g.root, id, async (rec) => {
    const status = statusOf(g.root, rec);
    if ((status === "running" || status === "paused") && !force) {
      throw new TsdError(`cannot delete container ${id} that is not stopped: ${status}`, 1);
    }
    if (status !== "stopped") await killAndWait(rec);
    await destroy(g, rec);
  });
  return 0;
}
