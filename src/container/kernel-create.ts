// What the kernel-facing flags need from the host at create (kernel-options.ts): the running
// container a --pid/--ipc container: joins, the nodes behind each --device, the host copy of
// tsd-init for --init, the host's name for --uts host.
import type { Database } from "bun:sqlite";
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import { hostname as hostHostname } from "node:os";
import { join } from "node:path";
import { TsdError } from "../errors";
import { materialize } from "../native/embedded";
import { deviceOf } from "./host-devices";
import { joinedContainer, type DeviceMapping, type DeviceNode, type KernelOptions } from "./kernel-options";
import type { KernelContext } from "./kernel-spec";
import { decodeOptions } from "./options";
import { sameProcess } from "./proc";
import { isRunning } from "./state";
import { findContainer, type ContainerRow } from "./store";

export interface KernelSetup<O extends KernelOptions> {
  opts: O;
  kernel: KernelContext;
  /** --uts host: the host's name (the container's /etc/hostname and HOSTNAME). */
  hostname?: string;
}

export function kernelSetup<O extends KernelOptions>(db: Database, root: string, opts: O): KernelSetup<O> {
  const pidRef = joinedContainer(opts.pidMode);
  const ipcRef = joinedContainer(opts.ipcMode);
  const kernel: KernelContext = {
    ...(pidRef !== undefined ? { pidPath: `/proc/${pidDonor(db, pidRef).pid}/ns/pid` } : {}),
    ...(ipcRef !== undefined ? { ipcPath: `/proc/${ipcDonor(db, ipcRef).pid}/ns/ipc` } : {}),
    ...(opts.init ? { initPath: materialize("tsd-init", root) } : {}),
  };
  const devices = opts.devices?.map(withNodes);
  return {
    opts: devices ? { ...opts, devices } : opts,
    kernel,
    ...(opts.utsMode === "host" ? { hostname: hostHostname() } : {}),
  };
}

/** Running (state.ts) with its init alive: a namespace to join. */
function running(row: ContainerRow): boolean {
  return isRunning(row) && Boolean(row.pid_start) && sameProcess(row.pid, row.pid_start);
}

// moby getPidContainer / getIpcContainer, their words.
function pidDonor(db: Database, ref: string): ContainerRow {
  const row = findContainer(db, ref);
  if (!row) throw new TsdError(`cannot join PID of a non running container: ${ref}: no such container`);
  if (!running(row)) throw new TsdError(`cannot join PID of a non running container: ${ref}: start it first`);
  return row;
}

function ipcDonor(db: Database, ref: string): ContainerRow {
  const row = findContainer(db, ref);
  if (!row) throw new TsdError(`can't join IPC of container ${ref}: no such container`);
  if (!running(row)) throw new TsdError(`can't join IPC of container ${ref}: container ${ref} is not running`);
  const mode = decodeOptions(row.options).ipcMode;
  if (mode !== "shareable" && mode !== "host" && !mode?.startsWith("container:")) {
    throw new TsdError(`can't join IPC of container ${ref}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
  }
  return row;
}

const MAX_DEVICE_NODES = 256;

/** The host node(s) of a --device: one node, or every node under a directory (Docker's
 *  getDevicesFromPath), symlinks on the host path followed as Docker does. */
function withNodes(d: DeviceMapping): DeviceMapping {
  const fail = (why: string) => new TsdError(`error gathering device information while adding custom device "${d.pathOnHost}": ${why}`);
  let st: BigIntStats;
  try {
    st = statSync(d.pathOnHost, { bigint: true });
  } catch (e) {
    throw fail((e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message);
  }
  const one = deviceOf(d.pathInContainer, st);
  if (one) return { ...d, nodes: [one] };
  if (!st.isDirectory()) throw fail("not a device node");
  const nodes: DeviceNode[] = [];
  walk(d.pathOnHost, d.pathInContainer, nodes, 0);
  if (nodes.length === 0) throw fail("no device nodes under the directory");
  return { ...d, nodes };
}

function walk(host: string, ctr: string, out: DeviceNode[], depth: number): void {
  if (depth > 4) return;
  for (const name of readdirSync(host).sort()) {
    if (out.length >= MAX_DEVICE_NODES) return;
    const st = statSync(join(host, name), { bigint: true, throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(join(host, name), join(ctr, name), out, depth + 1);
    const node = deviceOf(join(ctr, name), st);
    if (node) out.push(node);
  }
}

/**
 * `tsd start` of a container that joins another's pid or ipc namespace: the donor's init may
 * have changed since create (restarted), so config.json's paths are found again; a donor
 * that is not running stops the start with Docker's words, as at create.
 */
export function refreshJoinedNamespaces(db: Database, bundle: string, opts: KernelOptions): void {
  const pidRef = joinedContainer(opts.pidMode);
  const ipcRef = joinedContainer(opts.ipcMode);
  if (pidRef === undefined && ipcRef === undefined) return;
  const file = join(bundle, "config.json");
  const spec = JSON.parse(readFileSync(file, "utf8")) as { linux: { namespaces: { type: string; path?: string }[] } };
  spec.linux.namespaces = spec.linux.namespaces.map((ns) => {
    if (ns.type === "pid" && pidRef !== undefined) return { type: "pid", path: `/proc/${pidDonor(db, pidRef).pid}/ns/pid` };
    if (ns.type === "ipc" && ipcRef !== undefined) return { type: "ipc", path: `/proc/${ipcDonor(db, ipcRef).pid}/ns/ipc` };
    return ns;
  });
  writeFileSync(`${file}.tmp`, JSON.stringify(spec, null, 2));
  renameSync(`${file}.tmp`, file);
}
