// The kernel-facing flags of run and create (issue 14 item 4), parsed by
// container/kernel-options.ts.
import type { FlagSpec } from "./flags";

export const kernelFlags = {
  pid: { kind: "string", description: "PID namespace to use (host, container:NAME)", valueHint: "MODE" },
  ipc: { kind: "string", description: "IPC mode to use (private, shareable, none, host, container:NAME)", valueHint: "MODE" },
  uts: { kind: "string", description: "UTS namespace to use (host)", valueHint: "MODE" },
  sysctl: { kind: "list", description: "Sysctl options (namespaced ones: net.*, kernel.msg*/sem/shm*, fs.mqueue.*, kernel.domainname)", valueHint: "KEY=VALUE" },
  ulimit: { kind: "list", description: "Ulimit options", valueHint: "NAME=SOFT[:HARD]" },
  "shm-size": { kind: "string", description: "Size of /dev/shm (default 64m)", valueHint: "BYTES" },
  device: { kind: "list", description: "Add a host device to the container", valueHint: "HOST[:CONTAINER[:rwm]]" },
  "group-add": { kind: "list", description: "Add additional groups to join", valueHint: "GROUP" },
  init: { kind: "bool", description: "Run an init inside the container that forwards signals and reaps processes" },
  userns: { kind: "string", description: "User namespace to use (host, auto[:size=N])", valueHint: "MODE" },
  uidmap: { kind: "list", description: "UID map for a user namespace", valueHint: "CONTAINER:HOST:SIZE" },
  gidmap: { kind: "list", description: "GID map for a user namespace", valueHint: "CONTAINER:HOST:SIZE" },
} satisfies FlagSpec;
