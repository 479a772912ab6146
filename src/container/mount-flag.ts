// `--mount type=bind|volume|tmpfs,src=…,dst=…,…`: Docker's CSV syntax (opts/mount.go) and the
// daemon's checks (volume/mounts/linux_parser.go), turned into the BindMount/TmpfsMount that
// -v and --tmpfs produce, so volumes.ts and spec.ts mount them the same way. Pure: unit-tested.
import { isAbsolute } from "node:path";
import { TsdError, UsageError } from "../errors";
import { parseSize } from "./log-options";
import type { BindMount, TmpfsMount } from "./options";

// options.ts's VOLUME_NAME (imported from there it would make an import cycle).
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** One --mount as Docker's HostConfig.Mounts shows it (api/types/mount.Mount). */
export interface MountFlag {
  Type: "bind" | "volume" | "tmpfs";
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  /** Idmap: Podman's `idmap` (no Docker field): the bind idmapped by the container's user namespace. */
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; Idmap?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export const PROPAGATIONS = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

/** Go's encoding/csv for one record: commas split, "double quotes" group, "" is a quote. */
export function csvFields(text: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  if (quoted) throw new Error(`extraneous or missing " in quoted-field`);
  out.push(field);
  return out;
}

function bool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (["1", "true", "t"].includes(v)) return true;
  if (["0", "false", "f"].includes(v)) return false;
  throw new Error(`invalid value for ${key}: ${value}`);
}

/** The CLI's half: parses one --mount value (errors as docker's `invalid argument … for "--mount" flag`). */
export function parseMountFlag(text: string): MountFlag {
  try {
    return parseFields(text);
  } catch (e) {
    throw new UsageError(`invalid argument "${text}" for "--mount" flag: ${(e as Error).message}`);
  }
}

function parseFields(text: string): MountFlag {
  const m: MountFlag = { Type: "volume", Target: "" };
  for (const field of csvFields(text)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined && !["readonly", "ro", "volume-nocopy", "bind-nonrecursive", "idmap"].includes(key)) {
      throw new Error(`invalid field '${field}' must be a key=value pair`);
    }
    if (!setCommonField(m, key, value)) setTypeField(m, key, value, field);
  }
  if (m.Target === "") throw new Error("target is required");
  for (const [opts, type, what] of [[m.VolumeOptions, "volume", "volume-*"], [m.BindOptions, "bind", "bind-*"], [m.TmpfsOptions, "tmpfs", "tmpfs-*"]] as const) {
    if (opts !== undefined && m.Type !== type) throw new Error(`cannot mix '${what}' options with mount type '${m.Type}'`);
  }
  return m;
}

/** type, source, target, readonly, consistency; false for any other key. */
function setCommonField(m: MountFlag, key: string, value: string | undefined): boolean {
  switch (key) {
    case "type":
      if (value !== "bind" && value !== "volume" && value !== "tmpfs") throw new Error(`invalid mount type "${value}": use bind, volume or tmpfs`);
      m.Type = value;
      return true;
    case "source": case "src":
      m.Source = value!;
      return true;
    case "target": case "dst": case "destination":
      m.Target = value!;
      return true;
    case "readonly": case "ro":
      m.ReadOnly = bool(key, value);
      return true;
    case "consistency":
      return true; // macOS only; Docker accepts it everywhere
    default:
      return false;
  }
}

/** bind-*, volume-* and tmpfs-* keys. */
function setTypeField(m: MountFlag, key: string, value: string | undefined, field: string): void {
  switch (key) {
    case "bind-propagation":
      if (!PROPAGATIONS.includes(value!.toLowerCase())) throw new Error(`invalid bind-propagation "${value}": use ${PROPAGATIONS.join(", ")}`);
      (m.BindOptions ??= {}).Propagation = value!.toLowerCase();
      return;
    case "bind-nonrecursive":
      (m.BindOptions ??= {}).NonRecursive = bool(key, value);
      return;
    case "idmap":
      // Podman's bare `idmap`; its `idmap=uids=…;gids=…` (a mapping of the mount's own) is not.
      if (value !== undefined && value !== "") throw new Error(`idmap takes no mapping in tsd ("${value}"): write idmap alone, the container's user namespace maps the bind`);
      (m.BindOptions ??= {}).Idmap = true;
      return;
    case "volume-nocopy":
      (m.VolumeOptions ??= {}).NoCopy = bool(key, value);
      return;
    case "volume-label": {
      const [k, ...v] = value!.split("=");
      ((m.VolumeOptions ??= {}).Labels ??= {})[k!] = v.join("=");
      return;
    }
    case "volume-driver":
      if (value !== "local") throw new Error(`volume driver "${value}" is not supported: tsd has the local driver only`);
      ((m.VolumeOptions ??= {}).DriverConfig ??= {}).Name = value;
      return;
    case "volume-opt":
      throw new Error(`volume-opt is not supported: tsd's local volumes are plain directories`);
    case "tmpfs-size": {
      const n = parseSize(value!);
      if (n === undefined) throw new Error(`invalid value for ${key}: ${value}`);
      (m.TmpfsOptions ??= {}).SizeBytes = n;
      return;
    }
    case "tmpfs-mode":
      if (!/^[0-7]+$/.test(value!)) throw new Error(`invalid value for ${key}: ${value}`);
      (m.TmpfsOptions ??= {}).Mode = parseInt(value!, 8);
      return;
    default:
      throw new Error(`unexpected key '${key}' in '${field}'`);
  }
}

/** The daemon's half: checks a parsed --mount (an engine error, as the daemon's: run 125, create 1). */
export function checkMountFlag(m: MountFlag): void {
  const bad = (why: string) => new TsdError(`invalid mount config for type "${m.Type}": ${why}`);
  if (!isAbsolute(m.Target)) throw bad(`invalid mount path: '${m.Target}' mount path must be absolute`);
  if (m.Target === "/") throw bad("invalid specification: destination can't be '/'");
  if (m.Type === "bind") {
    if (!m.Source) throw bad("field Source must not be empty");
    if (!isAbsolute(m.Source)) throw bad(`invalid mount path: '${m.Source}' mount path must be absolute`);
  }
  if (m.Type === "volume" && m.Source && !VOLUME_NAME.test(m.Source)) {
    throw bad(`"${m.Source}" is not a valid volume name: use [a-zA-Z0-9][a-zA-Z0-9_.-]+`);
  }
  if (m.Type === "tmpfs" && m.Source) throw bad("field Source must not be specified");
}

/** A checked --mount as the mount lists -v and --tmpfs fill. */
export function mountToRun(m: MountFlag): { bind?: BindMount; tmpfs?: TmpfsMount } {
  checkMountFlag(m);
  const readonly = Boolean(m.ReadOnly);
  if (m.Type === "tmpfs") {
    const extra = [
      ...(m.TmpfsOptions?.SizeBytes ? [`size=${m.TmpfsOptions.SizeBytes}`] : []),
      ...(m.TmpfsOptions?.Mode !== undefined ? [`mode=${m.TmpfsOptions.Mode.toString(8)}`] : []),
      ...(readonly ? ["ro"] : []),
    ];
    return { tmpfs: { destination: m.Target, options: ["nosuid", "nodev", "noexec", ...extra] } };
  }
  if (m.Type === "bind") {
    const propagation = m.BindOptions?.Propagation;
    const idmap = m.BindOptions?.Idmap ? { idmap: true } : {};
    return { bind: { source: m.Source!, destination: m.Target, readonly, mustExist: true, ...(propagation ? { propagation } : {}), ...idmap } };
  }
  const noCopy = m.VolumeOptions?.NoCopy ? { noCopy: true } : {};
  if (!m.Source) return { bind: { source: "", destination: m.Target, readonly, anonymous: true, volume: "", ...noCopy } };
  return { bind: { source: "", destination: m.Target, readonly, volume: m.Source, ...noCopy } };
}

/** -v, --tmpfs and --mount together: Docker refuses two mounts at one path. */
export function checkDuplicateTargets(volumes: BindMount[], tmpfs: TmpfsMount[]): void {
  const seen = new Set<string>();
  for (const d of [...volumes.map((v) => v.destination), ...tmpfs.map((t) => t.destination)]) {
    const clean = d.length > 1 ? d.replace(/\/+$/, "") : d;
    if (seen.has(clean)) throw new UsageError(`duplicate mount point: ${clean}: mount one thing there (-v, --mount or --tmpfs)`);
    seen.add(clean);
  }
}

/**
 * moby's rule: a bind mount that is to share or receive mounts needs the container's root
 * to propagate too (rshared or rslave instead of rprivate), or its propagation has no peer.
 */
export function rootfsPropagation(volumes: BindMount[]): string {
  const p = volumes.map((v) => v.propagation ?? "rprivate");
  if (p.some((x) => x === "shared" || x === "rshared")) return "rshared";
  if (p.some((x) => x === "slave" || x === "rslave")) return "rslave";
  return "rprivate";
}
