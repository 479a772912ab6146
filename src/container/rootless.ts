// What rootless tsd (issue 13) cannot do yet, refused at create with one line each: cgroup
// limits (no delegated cgroup v2 subtree is used yet; on cgroup v1 there can be none), bridge
// networks (the default network is pasta, network/pasta.ts), nested user namespaces.
import { TsdError } from "../errors";
import { parseNetworkMode } from "../network/ports";
import { hostLayout } from "../cgroup";
import type { RunOptions } from "./options";

/** One line per thing a rootless container cannot have; nothing when it asks for none. */
export function rootlessRefusal(opts: Pick<RunOptions, "resources" | "cgroupParent" | "network" | "userns">, cgroupVersion: 1 | 2): string | undefined {
  const limits = Object.entries(opts.resources ?? {}).filter(([, v]) => v !== undefined && !(typeof v === "object" && Object.keys(v).length === 0));
  if (limits.length > 0 || opts.cgroupParent !== undefined) {
    const why = cgroupVersion === 1 ? "this host has cgroup v1, which cannot be delegated to a user" : "rootless tsd does not use a delegated cgroup v2 subtree yet";
    return `rootless: resource limits and --cgroup-parent need cgroups, and ${why}: drop the limit flags or run tsd as root`;
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
  const refusal = rootlessRefusal(opts, hostLayout().version);
  if (refusal !== undefined) throw new TsdError(refusal);
  return { ...opts, network: rootlessNetwork(opts.network) };
}
