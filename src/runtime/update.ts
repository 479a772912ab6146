// `update [--resources FILE|-] [--memory N …] ID`: new limits for a running container's cgroup.
// The JSON is OCI LinuxResources (containerd sends it on stdin, podman in a file); runc's own
// flags build the same object. Both go through src/cgroup's resourcesFromSpec and the driver's
// update: one reading of a spec's limits, tsd's own.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseBytes } from "../cgroup/resources";
import { resourcesFromSpec } from "../cgroup/spec";
import { TsdError } from "../errors";
import { recordGroup } from "./cgroup";
import { exactArgs, FlagError, parseFlags, str, type FlagSpec, type Parsed } from "./flags";
import type { RuntimeGlobals } from "./globals";
import { statusOf, withRecord } from "./state-dir";

export const UPDATE_FLAGS: FlagSpec = {
  resources: { kind: "string", aliases: ["r"] },
  "blkio-weight": { kind: "string" },
  "cpu-period": { kind: "string" },
  "cpu-quota": { kind: "string" },
  "cpu-share": { kind: "string", aliases: ["cpu-shares"] },
  "cpu-rt-period": { kind: "string" },
  "cpu-rt-runtime": { kind: "string" },
  "cpuset-cpus": { kind: "string" },
  "cpuset-mems": { kind: "string" },
  "kernel-memory": { kind: "string" },
  "kernel-memory-tcp": { kind: "string" },
  memory: { kind: "string" },
  "memory-reservation": { kind: "string" },
  "memory-swap": { kind: "string" },
  "pids-limit": { kind: "string" },
  "l3-cache-schema": { kind: "string" },
  "mem-bw-schema": { kind: "string" },
};

function integer(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new FlagError(`invalid value "${v}" for flag --${flag}: an integer`);
  return Number(v);
}

function bytes(flag: string, v: string): number {
  if (v === "-1") return -1;
  const n = parseBytes(v);
  if (n === undefined) throw new FlagError(`invalid value "${v}" for flag --${flag}: a size such as 512m or a number of bytes`);
  return n;
}

/** runc's individual flags → LinuxResources (only what was given). */
export function resourcesFromFlags(p: Parsed): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  const put = (section: string, key: string, v: unknown) => ((out[section] ??= {})[key] = v);
  const take = (flag: string, section: string, key: string, conv: (f: string, v: string) => unknown) => {
    const v = str(p, flag);
    if (v !== undefined) put(section, key, conv(flag, v));
  };
  take("memory", "memory", "limit", bytes);
  take("memory-reservation", "memory", "reservation", bytes);
  take("memory-swap", "memory", "swap", bytes);
  take("cpu-share", "cpu", "shares", integer);
  take("cpu-quota", "cpu", "quota", integer);
  take("cpu-period", "cpu", "period", integer);
  take("cpu-rt-period", "cpu", "realtimePeriod", integer);
  take("cpu-rt-runtime", "cpu", "realtimeRuntime", integer);
  take("cpuset-cpus", "cpu", "cpus", (_f, v) => v);
  take("cpuset-mems", "cpu", "mems", (_f, v) => v);
  take("pids-limit", "pids", "limit", integer);
  take("blkio-weight", "blockIO", "weight", integer);
  for (const f of ["kernel-memory", "kernel-memory-tcp", "l3-cache-schema", "mem-bw-schema"]) {
    if (str(p, f) !== undefined) throw new FlagError(`update: --${f} is not supported by tsd (the kernel dropped kmem; no Intel RDT): remove the flag`);
  }
  return out;
}

async function readResources(src: string): Promise<unknown> {
  const text = src === "-" ? await Bun.stdin.text() : readFileSync(src, "utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TsdError(`update: the resources ${src === "-" ? "on stdin" : `in ${src}`} are not valid JSON: ${(e as Error).message}`, 1);
  }
}

/** A swap limit alone is checked against the memory limit the container has (runc keeps the
 *  container's config for what an update does not name); memory -1 alone frees swap too. */
export function withCurrentMemory(linux: unknown, current: number | undefined): unknown {
  if (typeof linux !== "object" || linux === null) return linux;
  const memory = (linux as { memory?: Record<string, unknown> }).memory;
  if (typeof memory !== "object" || memory === null) return linux;
  // Memory unlimited and no swap named: swap unlimited too (runc), else memsw would cap it.
  if (typeof memory.limit === "number" && memory.limit < 0 && memory.swap === undefined) return { ...linux, memory: { ...memory, swap: -1 } };
  if (current === undefined || memory.swap === undefined || memory.limit !== undefined) return linux;
  return { ...linux, memory: { ...memory, limit: current } };
}

/** The group's memory limit now (v1 memory.limit_in_bytes, v2 memory.max); none: undefined. */
function currentMemoryLimit(dirs: readonly string[]): number | undefined {
  for (const dir of dirs) {
    for (const file of ["memory.limit_in_bytes", "memory.max"]) {
      let text: string;
      try {
        text = readFileSync(join(dir, file), "utf8").trim();
      } catch {
        continue;
      }
      const n = Number(text);
      // "max", or v1's page-rounded 2^63-1: no limit.
      return Number.isSafeInteger(n) && n > 0 ? n : undefined;
    }
  }
  return undefined;
}

export async function updateCommand(g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, UPDATE_FLAGS);
  exactArgs("update", p.args, 1, "[--resources FILE|-] [flags] <container-id>");
  const src = str(p, "resources");
  const linux = src !== undefined ? await readResources(src) : resourcesFromFlags(p);
  await withRecord(g.root, p.args[0]!, async (rec) => {
    if (statusOf(g.root, rec) === "stopped") throw new TsdError("container not running", 1);
    const { resources } = resourcesFromSpec(withCurrentMemory(linux, currentMemoryLimit(rec.cgroup?.paths ?? [])));
    const cg = recordGroup(rec);
    if (!cg) throw new TsdError(`cannot update container ${rec.id}: it has no cgroup`, 1);
    cg.driver.update(cg.group, resources);
  });
  return 0;
}
