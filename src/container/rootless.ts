// What rootless tsd (issue 13) cannot do yet, refused at create with one line each: cgroup
// limits without a delegated cgroup v2 subtree (cgroup/delegation.ts; on cgroup v1 there can be none),
// bridge networks (the default network is pasta, network/pasta.ts), nested user namespaces.
import { TsdError } from "../errors";
import { parseNetworkMode } from "../network/ports";
import { rootlessDelegation, type Delegation } from "../cgroup";
import type { RunOptions } from "./options";
import { joinPauseArgs, namespaceArgs, needNamespace, rootlessMode } from "../store/rootless";
import type { Database } from "bun:sqlite";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { findImage, type ImageRecord } from "../image/store";
import { findTool, selfCommand } from "../io";
import { usesFuse } from "./fuse-rootfs";

/** One line per thing a rootless container cannot have; nothing when it asks for none. */
export function rootlessRefusal(opts: Pick<RunOptions, "resources" | "cgroupParent" | "network" | "userns">, cgroups: Delegation): string | undefined {
  const limits = Object.entries(opts.resources ?? {}).filter(([, v]) => v !== undefined && !(typeof v === "object" && Object.keys(v).length === 0));
  if ((limits.length > 0 || opts.cgroupParent !== undefined) && "none" in cgroups) {
    return `rootless: resource limits and --cgroup-parent need a delegated cgroup v2 subtree, and ${cgroups.none}; or drop the limit flags`;
  }
  if (parseNetworkMode(rootlessNetwork(opts.network)).kind === "bridge") {
    return "rootless: bridge networks need root: drop --network for the default (pasta, a user-mode stack), or use --network none|host";
  }
  if (opts.userns !== undefined) return "rootless: --userns and --uidmap/--gidmap are not supported rootless yet: drop them";
  return undefined;
}

/** A rootless container's network: pasta unless it names one (Podman's rootless default). */
export function rootlessNetwork(network: string | undefined): string | undefined {
  return network === undefined || network === "default" ? "pasta" : network;
}

/** The refusals, then the options with the rootless default network filled in. */
export function checkRootless(opts: RunOptions): RunOptions {
  const refusal = rootlessRefusal(opts, rootlessDelegation());
  if (refusal !== undefined) throw new TsdError(refusal);
  return { ...opts, network: rootlessNetwork(opts.network) };
}

/** A single-id namespace maps container 0 only: another user of the image or -u is refused with one line. */
export function checkSingleIdUser(user: { uid: number; gid: number }): void {
  if (!rootlessMode()?.singleId || (user.uid === 0 && user.gid === 0)) return;
  throw new TsdError(`rootless: user ${user.uid}:${user.gid} cannot run in a single-id namespace (only root is mapped: no /etc/subuid range or no newuidmap): use -u 0, or add a range as root (usermod --add-subuids/--add-subgids)`);
}

/** Why a rootless `run` cannot stay on the host (the fast path, system/rootless-enter.ts), or
 *  nothing: a pull unpacks layers with subordinate owners, volumes are made and filled as root
 *  in the namespace, pasta's network namespace and fuse-overlayfs's mount live in the pause
 *  process's mount namespace, a restart policy restarts from the exit's cleanup. */
export function runNeedsNamespace(opts: RunOptions, image: Pick<ImageRecord, "config"> | undefined, pull: string | undefined, fuse: boolean): string | undefined {
  if (!image || pull === "always") return "the image may need a pull";
  if (fuse) return "fuse-overlayfs mounts the rootfs in the namespace";
  const net = parseNetworkMode(rootlessNetwork(opts.network)).kind;
  if (net !== "none" && net !== "host") return `--network ${opts.network ?? "pasta"} is set up in the namespace`;
  if (opts.volumes.length > 0 || (opts.volumesFrom?.length ?? 0) > 0 || Object.keys(image.config.config?.Volumes ?? {}).length > 0) return "volumes are made in the namespace";
  if ((opts.devices?.length ?? 0) > 0 || opts.pidMode?.startsWith("container:") || opts.ipcMode?.startsWith("container:")) return "devices and joined namespaces";
  if (opts.restart !== undefined && opts.restart.name !== "no") return "a restart policy";
  return undefined;
}

/** The fast path's gate for `run`, before anything changes: NeedsNamespace when it cannot stay
 *  on the host; else the pause process's namespaces are opened for the monitor now. */
export function checkRunOnHost(db: Database, opts: RunOptions, pull: string | undefined): void {
  if (!rootlessMode()?.pause) return;
  const why = runNeedsNamespace(opts, findImage(db, opts.image), pull, usesFuse());
  if (why !== undefined) needNamespace(`run: ${why}`);
  namespaceArgs("user+mount");
}

/** The rootless fast path, after the command changed something (a stop's signals): a dead
 *  monitor's cleanup (unmounts, files of other ids) is done by this tsd inside the namespaces,
 *  as the look-up of that container there does it (resolve.ts reconcile), instead of starting
 *  the whole command over. */
export function reconcileInside(root: string, id: string): void {
  const pause = rootlessMode()?.pause;
  if (!pause) return;
  const argv = [findTool("nsenter") ?? "nsenter", ...joinPauseArgs(pause.pid), "--", ...selfCommand(), "--root", root, "inspect", "--type", "container", "-f", "{{.Id}}", id];
  const r = Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, TSD_ROOTLESS: "1" } });
  if (r.exitCode !== 0) throw new TsdError(`rootless: the cleanup of ${id.slice(0, 12)} in the namespace failed: ${r.stderr.toString().trim().split("\n")[0] ?? ""}`);
}

/** A bundle directory's removal. On the fast path the user removes it on the host: overlayfs's
 *  work/work (mode 000, the user's) is opened first; a file of a subordinate id in a directory
 *  of one is the user's only inside the namespace, where `rm -rf` removes it then. */
export function removeBundleDir(dir: string): void {
  const pause = rootlessMode()?.pause;
  if (!pause) return rmSync(dir, { recursive: true, force: true });
  try {
    chmodSync(join(dir, "work", "work"), 0o700);
  } catch {
    // None (never mounted), or already gone.
  }
  try {
    return rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EPERM") throw e;
  }
  const nsenter = findTool("nsenter");
  const r = Bun.spawnSync([nsenter ?? "nsenter", ...joinPauseArgs(pause.pid), "--", "rm", "-rf", "--", dir], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new TsdError(`rootless: cannot remove ${dir}: ${r.stderr.toString().trim().split("\n")[0] ?? ""}`);
}
