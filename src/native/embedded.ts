// The native artifacts travel inside the one executable. Bun would extract an embedded
// library to /tmp before dlopen, which fails on a noexec /tmp and leaves a file per run; we
// write libtsd.so (and tsd-init) once under the root dir, keyed by its content hash, and reuse
// it (only this process loads libtsd, outside any container). tsd-monitor is never a file: every start execs a
// sealed memfd of it (a running monitor's when it holds exactly our bytes, else a new copy),
// since a container can reach the monitor and the exec helper through /proc/PID/exe and a host
// file there could be rewritten (CVE-2019-5736; zig/CONTRACT.md).
import libEmbedded from "../../zig-out/lib/libtsd.so" with { type: "file" };
import monitorEmbedded from "../../zig-out/bin/tsd-monitor" with { type: "file" };
import initEmbedded from "../../zig-out/bin/tsd-init" with { type: "file" };
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fullySealed, sealedMemfd, sealedMemfdOf } from "./memfd";

// tsd-init (--init) is a file too: it only ever runs inside containers (bound read-only at
// /sbin/docker-init), never as a host process a container could reach.
export type Artifact = "libtsd.so" | "tsd-init";

const sources: Record<Artifact, string> = {
  "libtsd.so": libEmbedded,
  "tsd-init": initEmbedded,
};

// scripts/build.sh passes the artifacts' sha256 prefixes with --define, so a run neither
// reads nor hashes them once they are on disk; a dev run (bun src/main.ts) hashes them.
declare const TSD_EMBED_HASHES: Record<Artifact | "tsd-monitor", string> | undefined;
const buildHashes: Partial<Record<Artifact | "tsd-monitor", string>> = typeof TSD_EMBED_HASHES === "undefined" ? {} : TSD_EMBED_HASHES;

/** Path of an executable copy of `name` under `<root>/bin/<hash>/`, written on first use. */
export function materialize(name: Artifact, root: string): string {
  let bytes: Uint8Array | undefined;
  const hash = buildHashes[name] ?? sha256Prefix((bytes = readEmbedded(sources[name])));
  const dir = join(root, "bin", hash);
  const path = join(dir, name);
  if (existsSync(path)) return path;
  bytes ??= readEmbedded(sources[name]);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, path);
  return path;
}

function sha256Prefix(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 16);
}

// readFileSync reads both the $bunfs path of a compiled binary and a plain path in dev runs.
function readEmbedded(path: string): Uint8Array {
  return readFileSync(path);
}

/**
 * The monitor as a sealed memfd of this process: `path` (its /proc/PID/fd link, which a child
 * of ours can exec) stays valid until `close()`, to be called once the child has exec'd (its
 * report came) or failed to. `argv0` is what the process is named.
 */
export interface MonitorExecutable {
  path: string;
  argv0: string;
  close(): void;
}

/** A running monitor that may share its executable: `stillSame()` says whether `pid` is still
 *  that monitor (its recorded start time), checked after its executable is opened. */
export interface Donor {
  pid: number;
  stillSame(): boolean;
}

/**
 * `donors`: running monitors (at most a few are tried). One whose executable is a memfd with
 * every seal, our size and our build's name (`tsd-monitor-HASH`, the hash of our monitor's
 * bytes) is shared, as a file's page cache would be: sealed, it cannot change, and only a tsd
 * of this build names a memfd so and execs it as a monitor whose pid and start time it records.
 * Else a new sealed copy, written by Bun's thread pool: `run` starts this before it builds the
 * bundle and awaits it at the spawn, so the copying overlaps the CLI's own work.
 */
export async function monitorExecutable(donors: Donor[] = []): Promise<MonitorExecutable> {
  for (const donor of donors.slice(0, DONORS_MAX)) {
    const fd = sameSealedCopy(donor);
    if (fd !== undefined) return executableAt(fd);
  }
  return executableAt(await sealedMemfdOf(monitorMemfdName(), monitorEmbedded));
}

/** The monitor memfd's name: what /proc/PID/exe of every monitor of this build reads
 *  (`/memfd:tsd-monitor-HASH (deleted)`). */
export function monitorMemfdName(): string {
  monitorName ??= `tsd-monitor-${buildHashes["tsd-monitor"] ?? sha256Prefix(readEmbedded(monitorEmbedded))}`;
  return monitorName;
}

let monitorName: string | undefined;

function executableAt(fd: number): MonitorExecutable {
  let open = true;
  return {
    path: `/proc/${process.pid}/fd/${fd}`,
    argv0: "tsd-monitor",
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

const DONORS_MAX = 4;

let helperCopy: number | undefined;

/**
 * The monitor for its short helper modes (--copy, --pack): one sealed memfd made on first use
 * and kept open for this process's life, so a command that runs many helpers (a build: two or
 * three per step) reads and writes the 1.2 MB binary once, not per helper. Sealed, it can no
 * more change than a running monitor's shared copy can; `close()` leaves it open.
 */
export function helperExecutable(): MonitorExecutable {
  helperCopy ??= sealedMemfd(monitorMemfdName(), readEmbedded(monitorEmbedded));
  return { ...executableAt(helperCopy), close() {} };
}

/** The donor's executable when it is a fully sealed memfd of this build's monitor. */
function sameSealedCopy(donor: Donor): number | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${donor.pid}/exe`, "r");
  } catch {
    return undefined; // Gone, or not ours to open.
  }
  try {
    // Opened first: a pid reused after the check could not slip in between.
    if (donor.stillSame() && fstatSync(fd).size === Bun.file(monitorEmbedded).size && fullySealed(fd) && readlinkSync(`/proc/self/fd/${fd}`) === `/memfd:${monitorMemfdName()} (deleted)`) return fd;
  } catch {
    // Not a memfd we can inspect: make our own.
  }
  closeSync(fd);
  return undefined;
}

