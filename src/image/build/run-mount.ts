// RUN --mount (BuildKit's Dockerfile syntax, Docker 23+) as tsd's builder honours it: bind (a
// context path, or a stage's or image's path, read-only unless rw; writes are not kept),
// cache (a directory of the tsd root kept across builds, by id; never in the layer), tmpfs.
// secret and ssh need the CLI's --secret/--ssh, which tsd build does not have: refused. Pure.
import { DockerfileError } from "./dockerfile";

export type RunMount =
  | { type: "bind"; target: string; source: string; from?: string; rw: boolean }
  | { type: "cache"; target: string; id: string; readonly: boolean; sharing: "shared" | "private" | "locked"; uid: number; gid: number; mode: number }
  | { type: "tmpfs"; target: string; size?: number };

const KEYS: Record<RunMount["type"], string[]> = {
  bind: ["type", "target", "source", "from", "rw", "readonly"],
  cache: ["type", "target", "id", "readonly", "sharing", "uid", "gid", "mode"],
  tmpfs: ["type", "target", "size"],
};
const ALIAS: Record<string, string> = { dst: "target", destination: "target", src: "source", ro: "readonly", readwrite: "rw" };

/** One --mount=… value (comma-separated key=value, as BuildKit's CSV). */
export function parseRunMount(value: string, line: number): RunMount {
  const fields = new Map<string, string>();
  for (const part of value.split(",").filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    const raw = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    fields.set(ALIAS[raw] ?? raw, eq < 0 ? "true" : part.slice(eq + 1));
  }
  const type = fields.get("type") ?? "bind";
  if (type === "secret" || type === "ssh") throw new DockerfileError(line, `RUN --mount=type=${type} is not supported: tsd build has no --${type}; pass what the step needs with --build-arg or COPY`);
  if (!(type in KEYS)) throw new DockerfileError(line, `RUN --mount: unknown mount type "${type}" (bind, cache, tmpfs)`);
  const t = type as RunMount["type"];
  for (const k of fields.keys()) if (!KEYS[t].includes(k)) throw new DockerfileError(line, `RUN --mount=type=${t}: unknown key "${k}" (${KEYS[t].join(", ")})`);
  const target = fields.get("target");
  if (!target) throw new DockerfileError(line, `RUN --mount=type=${t}: a target is required (target=/path)`);
  if (t === "tmpfs") {
    const size = fields.get("size");
    return { type: t, target, ...(size !== undefined ? { size: sizeBytes(size, line) } : {}) };
  }
  if (t === "bind") {
    const from = fields.get("from");
    return { type: t, target, source: fields.get("source") ?? "/", ...(from !== undefined ? { from } : {}), rw: bool(fields.get("rw"), line) && !bool(fields.get("readonly"), line) };
  }
  const sharing = fields.get("sharing") ?? "shared";
  if (sharing !== "shared" && sharing !== "private" && sharing !== "locked") throw new DockerfileError(line, `RUN --mount=type=cache: sharing=${sharing}: want shared, private or locked`);
  return { type: t, target, id: fields.get("id") ?? target, readonly: bool(fields.get("readonly"), line), sharing, uid: num(fields.get("uid") ?? "0", "uid", line), gid: num(fields.get("gid") ?? "0", "gid", line), mode: num(fields.get("mode") ?? "0755", "mode", line, 8) };
}

function bool(v: string | undefined, line: number): boolean {
  if (v === undefined || v === "false") return false;
  if (v === "true") return true;
  throw new DockerfileError(line, `RUN --mount: "${v}" is not true or false`);
}

function num(v: string, what: string, line: number, base = 10): number {
  const ok = base === 8 ? /^0?[0-7]{1,4}$/.test(v) : /^\d{1,10}$/.test(v);
  if (!ok) throw new DockerfileError(line, `RUN --mount=type=cache: ${what}=${v} is not ${base === 8 ? "an octal mode" : "a number"}`);
  return parseInt(v, base);
}

/** tmpfs size: bytes, or with a k/m/g suffix (BuildKit's units). */
function sizeBytes(v: string, line: number): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(v);
  if (!m) throw new DockerfileError(line, `RUN --mount=type=tmpfs: size=${v}: want bytes or a k/m/g size`);
  return Number(m[1]) * { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
}

/** Where cache mounts live under the root (builder prune empties it). */
export function cacheMountsDir(root: string): string {
  return `${root}/build-mounts`;
}

/** The cache directory's name under cacheMountsDir for a cache id (any string: hashed into a name). */
export function cacheDirName(id: string): string {
  return new Bun.CryptoHasher("sha256").update(id).digest("hex").slice(0, 32);
}
