// What rootless tsd (issue 13) cannot do yet, refused at create with one line each: cgroup
// limits without a delegated cgroup v2 subtree (cgroup/delegation.ts; on cgroup v1 there can be none), the
// bridge network (a user-mode stack, pasta or slirp4netns, is to come), nested user namespaces.
import { TsdError } from "../errors";
import { parseNetworkMode } from "../network/ports";
import { rootlessDelegation, type Delegation } from "../cgroup";
import type { RunOptions } from "./options";
import { rootlessMode } from "../store/rootless";

/** One line per thing a rootless container cannot have; nothing when it asks for none. */
export function rootlessRefusal(opts: Pick<RunOptions, "resources" | "cgroupParent" | "network" | "userns">, cgroups: Delegation): string | undefined {
  const limits = Object.entries(opts.resources ?? {}).filter(([, v]) => v !== undefined && !(typeof v === "object" && Object.keys(v).length === 0));
  if ((limits.length > 0 || opts.cgroupParent !== undefined) && "none" in cgroups) {
    return `rootless: resource limits and --cgroup-parent need a delegated cgroup v2 subtree, and ${cgroups.none}; or drop the limit flags`;
  }
  if (parseNetworkMode(opts.network).kind === "bridge") {
    return "rootless: bridge networks need root (a user-mode network stack is not in tsd yet): use --network none or --network host";
  }
  if (opts.userns !== undefined) return "rootless: --userns and --uidmap/--gidmap are not supported rootless yet: drop them";
  return undefined;
}

export function checkRootless(opts: RunOptions): void {
  const refusal = rootlessRefusal(opts, rootlessDelegation());
  if (refusal !== undefined) throw new TsdError(refusal);
}

/** A single-id namespace maps container 0 only: another user of the image or -u is refused with one line. */
export function checkSingleIdUser(user: { uid: number; gid: number }): void {
  if (!rootlessMode()?.singleId || (user.uid === 0 && user.gid === 0)) return;
  throw new TsdError(`rootless: user ${user.uid}:${user.gid} cannot run in a single-id namespace (only root is mapped: no /etc/subuid range or no newuidmap): use -u 0, or add a range as root (usermod --add-subuids/--add-subgids)`);
}
