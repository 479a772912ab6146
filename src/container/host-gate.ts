// The rootless fast path's gates (issue 13, system/rootless-enter.ts stayOnHost) for the
// commands other than run and exec: ps, logs, inspect, port, stop, kill, wait, start, rm stay on
// the host as the user while what they do needs no root in the user's namespaces. Each gate runs
// before the command changes anything and throws NeedsNamespace (store/rootless.ts) for what
// does: main.ts then runs the command again inside, as every rootless command once was.
// The look-up's reconcile has its own gate (resolve.ts): a dead monitor or an abandoned start
// is released inside.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { findImage } from "../image/store";
import { pastaPaths } from "../network/pasta";
import { namespaceArgs, needNamespace, rootlessMode } from "../store/rootless";
import { usesFuse } from "./fuse-rootfs";
import { decodeOptions, type RunOptions } from "./options";
import { lookup } from "./resolve";
import { runNeedsNamespace } from "./rootless";
import { stateOf } from "./state";
import type { ContainerRow } from "./store";

export type HostVerb = "stop" | "kill" | "wait" | "start" | "rm" | "rm-volumes" | "look";

/** What the host-side command knows of one container: its row, options and what it holds. */
export interface HostFacts {
  row: Pick<ContainerRow, "name" | "paused">;
  opts: Pick<RunOptions, "volumes" | "network" | "volumesFrom" | "devices" | "pidMode" | "ipcMode" | "restart">;
  /** The reason `run` would give for these options and image (rootless.ts runNeedsNamespace). */
  runWhy: () => string | undefined;
  /** pasta's namespace file or pid file is still there (its release unmounts it inside). */
  pasta: boolean;
  /** The rootfs is a fuse-overlayfs mount in the namespace. */
  fuse: boolean;
  /** Running (or starting): `start` of it does nothing. */
  live: boolean;
}

/** Why `verb` of this container cannot be done on the host, or nothing (unit-tested). */
export function hostRefusal(verb: HostVerb, f: HostFacts): string | undefined {
  if (verb === "look" || verb === "wait") return undefined;
  if (f.row.paused) return "it is paused (its cgroup is thawed in the namespace)";
  if (verb === "start" && !f.live) return f.runWhy();
  if (verb !== "rm" && verb !== "rm-volumes") return undefined;
  if (f.fuse) return "its fuse-overlayfs rootfs is unmounted in the namespace";
  if (f.pasta) return "its pasta network namespace is released in the namespace";
  if (verb === "rm-volumes" && f.opts.volumes.some((v) => v.anonymous && v.volume)) return "its anonymous volumes hold files of other ids";
  return undefined;
}

function factsOf(db: Database, root: string, row: ContainerRow): HostFacts {
  const opts = decodeOptions(row.options);
  const pasta = pastaPaths(root, row.id);
  const state = stateOf(row);
  return {
    row,
    opts,
    runWhy: () => runNeedsNamespace(opts, findImage(db, row.image_id), undefined, usesFuse()),
    pasta: existsSync(pasta.nsPath) || existsSync(pasta.pidFile),
    fuse: usesFuse(),
    live: state === "running" || state === "starting" || state === "restarting",
  };
}

/** On the fast path: every container `refs` names is looked up (the reconcile's gate) and
 *  checked, before the command changes anything; `start` opens the pause process's namespaces
 *  for the monitor as `run` does. Off it: nothing. A name that finds nothing is the command's
 *  own error. */
export function checkOnHost(db: Database, root: string, verb: HostVerb, refs: string[]): void {
  if (!rootlessMode()?.pause) return;
  for (const ref of refs) {
    const row = lookup(db, root, ref);
    if (!row) continue;
    const why = hostRefusal(verb, factsOf(db, root, row));
    if (why !== undefined) needNamespace(`${verb} ${ref}: ${why}`);
  }
  if (verb === "start") namespaceArgs("user+mount");
}
