// `tsd stats`: two samples of a container's cgroup and network counters → the row `docker
// stats` prints. The arithmetic and the formatting are pure (unit-tested); sampling is not.
import { readFileSync } from "node:fs";
import { humanSize } from "../format";
import type { CgroupStats } from "./driver";

export interface Sample {
  at: number; // ms, monotonic
  cg: CgroupStats;
  netRx: number;
  netTx: number;
}

export interface StatsRow {
  ID: string;
  Name: string;
  Container: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

/** go-units BytesSize: binary units, four significant digits ("1.484MiB", "32MiB"). */
export function binarySize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** CPU time used between the samples over the wall time, in % of one CPU (docker's figure:
 *  cpuDelta / systemDelta × onlineCPUs, systemDelta being wall time × online CPUs). */
export function cpuPercent(a: Sample, b: Sample): number {
  const wallNs = (b.at - a.at) * 1e6;
  if (wallNs <= 0 || b.cg.cpuNs < a.cg.cpuNs) return 0;
  return ((b.cg.cpuNs - a.cg.cpuNs) / wallNs) * 100;
}

export function statsRow(id: string, name: string, asked: string, a: Sample, b: Sample): StatsRow {
  const memPerc = b.cg.memLimit > 0 ? (b.cg.memUsage / b.cg.memLimit) * 100 : 0;
  return {
    ID: id.slice(0, 12),
    Name: name,
    Container: asked,
    CPUPerc: `${cpuPercent(a, b).toFixed(2)}%`,
    MemUsage: `${binarySize(b.cg.memUsage)} / ${binarySize(b.cg.memLimit)}`,
    MemPerc: `${memPerc.toFixed(2)}%`,
    NetIO: `${humanSize(b.netRx)} / ${humanSize(b.netTx)}`,
    BlockIO: `${humanSize(b.cg.blkRead)} / ${humanSize(b.cg.blkWrite)}`,
    PIDs: String(b.cg.pids),
  };
}

/** Received and sent bytes of every interface but lo in a /proc/PID/net/dev. */
export function netDevBytes(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === "lo") continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** The network counters of the namespace `pid` lives in (the container's init). */
export function readNet(pid: number): { rx: number; tx: number } {
  try {
    return netDevBytes(readFileSync(`/proc/${pid}/net/dev`, "utf8"));
  } catch {
    return { rx: 0, tx: 0 };
  }
}
