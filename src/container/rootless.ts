// What rootless tsd (issue 13) cannot do yet, refused at create with one line each: cgroup
// limits without a delegated cgroup v2 subtree (cgroup/delegation.ts; on cgroup v1 there can be none),
// bridge networks (the default network is pasta, network/pasta.ts), nested user namespaces.
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
