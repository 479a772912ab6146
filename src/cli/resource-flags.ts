// The cgroup limit flags, shared by `run` and `update` (Docker's names and help texts).
import type { FlagSpec } from "./flags";

export const resourceFlags = {
  memory: { kind: "string", short: "m", description: "Memory limit", valueHint: "BYTES" },
  "memory-swap": { kind: "string", description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", valueHint: "BYTES" },
  "memory-reservation": { kind: "string", description: "Memory soft limit", valueHint: "BYTES" },
  cpus: { kind: "string", description: "Number of CPUs", valueHint: "DECIMAL" },
  "cpu-shares": { kind: "string", short: "c", description: "CPU shares (relative weight)", valueHint: "INT" },
  "cpu-quota": { kind: "string", description: "Limit CPU CFS (Completely Fair Scheduler) quota", valueHint: "INT" },
  "cpu-period": { kind: "string", description: "Limit CPU CFS (Completely Fair Scheduler) period", valueHint: "INT" },
  "cpuset-cpus": { kind: "string", description: "CPUs in which to allow execution (0-3, 0,1)", valueHint: "LIST" },
  "cpuset-mems": { kind: "string", description: "MEMs in which to allow execution (0-3, 0,1)", valueHint: "LIST" },
  "pids-limit": { kind: "string", description: "Tune container pids limit (set -1 for unlimited)", valueHint: "INT" },
  "blkio-weight": { kind: "string", description: "Block IO (relative weight), between 10 and 1000, or 0 to disable", valueHint: "UINT16" },
} satisfies FlagSpec;

export const runOnlyResourceFlags = {
  "oom-kill-disable": { kind: "bool", description: "Disable OOM Killer" },
  "device-read-bps": { kind: "list", description: "Limit read rate (bytes per second) from a device", valueHint: "DEVICE:RATE" },
  "device-write-bps": { kind: "list", description: "Limit write rate (bytes per second) to a device", valueHint: "DEVICE:RATE" },
  "device-read-iops": { kind: "list", description: "Limit read rate (IO per second) from a device", valueHint: "DEVICE:RATE" },
  "device-write-iops": { kind: "list", description: "Limit write rate (IO per second) to a device", valueHint: "DEVICE:RATE" },
} satisfies FlagSpec;
