// COPY (and ADD of local files) as Docker's classic builder does it: sources from the context
// (or --from a stage or image), globs, a directory's content copied, into DEST/ or onto DEST,
// missing parent directories made, owned 0:0 or --chown's, --chmod's mode. The sources are
// staged on the host first (their content hash names the step), then written into the rootfs
// by `tsd-monitor --copy in` (fd-relative, openat2 under the rootfs: cp's containment), and
// the overlay's upper dir becomes the layer.
import type { Database } from "bun:sqlite";
import { chmodSync, closeSync, createReadStream, createWriteStream, lchownSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { TsdError } from "../errors";
import { runMonitor } from "../native/helper";
import { isGlob } from "../image/build/dockerignore";
import { followSource, loadContext, plan, plannedHash, resolveSource, stage, type Context, type Owner, type PlannedEntry } from "../image/build/context";
import { joinPath } from "../image/build/instructions";
import type { ImageRecord } from "../image/store";
import { followInImage, imageDirMeta, imageEntry, stepRootfs } from "./build-rootfs";
import { readImageFile, resolveUser } from "./user";
import { rootPaths } from "../store/paths";

export interface CopyRequest {
  what: "COPY" | "ADD";
  sources: string[];
  dest: string;
  workdir: string;
  chown?: string;
  chmod?: string;
  /** The context, or an image's rootfs copied out for --from. */
  ctx: Context;
  fromLabel?: string;
  /** Sources (by index) with a context of their own: ADD's downloaded URLs. */
  own?: Map<number, { ctx: Context; name: string }>;
}

export interface StagedCopy {
  /** Host dir whose content goes into `into` in the rootfs. */
  staged: string;
  into: string;
  createdBy: string;
}

export interface PlannedCopy {
  createdBy: string;
  /** Writes the sources under the step's work dir as the layer will hold them. */
  stage: () => StagedCopy;
}

/**
 * A COPY planned from the context and the image, nothing copied yet: its history line (the
 * content hash of what the layer will hold) first, so a cached step stages nothing.
 */
export function planCopy(root: string, image: ImageRecord, work: string, r: CopyRequest, shell: string[]): PlannedCopy {
  const owner = copyOwner(root, image, r);
  const paths = r.sources.flatMap((s, i) => {
    const own = r.own?.get(i);
    return own ? [{ ctx: own.ctx, rel: own.name }] : resolveSource(r.ctx, s, r.what).map((rel) => ({ ctx: r.ctx, rel }));
    // A source that is a symlink is followed (inside the context), its name kept: Docker's.
  }).map(({ ctx, rel }) => ({ ctx, rel: followSource(ctx, rel, r.what), name: basename(rel) }));
  const destAbs = joinPath(r.workdir || "/", r.dest);
  const slash = r.dest.endsWith("/") || r.dest.endsWith("/.") || r.dest === ".";
  if (paths.length > 1 && !slash) throw new TsdError(`When using ${r.what} with more than one source file, the destination must be a directory and end with a /`, 1);
  const entry = imageEntry(root, image, destAbs);
  const singleFile = paths.length === 1 && paths[0]!.ctx.entries.get(paths[0]!.rel) !== "dir" && paths[0]!.rel !== "";
  // DEST names a directory when it is one in the image (a symlink there is taken for one).
  const depth = destAbs.split("/").filter((p) => p !== "").length;
  const destIsDir = (entry.kind === "dir" && entry.depth === depth) || (entry.kind === "link" && entry.depth === depth - 1);
  const ontoFile = singleFile && !slash && !destIsDir;
  const into = ontoFile ? dirname(destAbs) : destAbs;
  const chain = missingParts(root, image, into, r.what);
  // The directory copied into keeps its mode and owner (the staged top carries them).
  const base = imageDirMeta(root, image, chain.base);
  const tree = new Map<string, PlannedEntry>([["", { mode: 0o040000 | base.mode, uid: base.uid, gid: base.gid }]]);
  let dir = "";
  for (const part of chain.missing) {
    dir = dir === "" ? part : `${dir}/${part}`;
    tree.set(dir, { mode: 0o040755, uid: owner.uid, gid: owner.gid });
  }
  const under = (name: string) => (dir === "" ? name : `${dir}/${name}`);
  // A directory source's own mode and owner are never DEST's (plan's and stage's `top` false):
  // the directory its content goes into stays as the image has it, or is made 0755 (Docker's,
  // buildah's, BuildKit's).
  for (const { ctx, rel, name } of paths) {
    const kind = rel === "" ? "dir" : ctx.entries.get(rel);
    plan(ctx, rel, kind === "dir" ? dir : under(ontoFile ? basename(destAbs) : name), owner, tree, false);
  }
  const kind = paths.length > 1 ? "multi" : singleFile ? "file" : "dir";
  const from = r.fromLabel ? `--from=${r.fromLabel} ` : "";
  const createdBy = `${shell.join(" ")} #(nop) ${r.what} ${from}${kind}:${plannedHash(tree)} in ${r.dest} `;
  return {
    createdBy,
    stage: () => {
      const content = join(work, "content");
      const staged = stageChain(content, chain.missing, owner, base);
      for (const { ctx, rel, name } of paths) {
        const kind = rel === "" ? "dir" : ctx.entries.get(rel);
        if (kind === "dir") stage(ctx, rel, staged, owner, false);
        else stage(ctx, rel, join(staged, ontoFile ? basename(destAbs) : name), owner);
      }
      return { staged: content, into: chain.base, createdBy };
    },
  };
}

/** The directories missing in the image down to `into`; `base` the deepest that exists. */
function missingParts(root: string, image: ImageRecord, into: string, what: string): { base: string; missing: string[] } {
  const entry = imageEntry(root, image, into);
  if (entry.kind === "file") throw new TsdError(`${what} failed: cannot copy to non-directory: ${into}`, 1);
  const parts = into.split("/").filter((p) => p !== "");
  const have = entry.kind === "absent" ? entry.depth : parts.length;
  return { base: `/${parts.slice(0, have).join("/")}`, missing: parts.slice(have) };
}

/**
 * Makes `content` (the existing directory copied into: `base`'s mode and owner, which the copy
 * keeps) and the missing directories under it as Docker makes them (0755, the owner).
 */
function stageChain(content: string, missing: string[], owner: Owner, base = { mode: 0o755, uid: 0, gid: 0 }): string {
  let dir = content;
  mkdirSync(dir, { recursive: true });
  lchownSync(dir, base.uid, base.gid);
  chmodSync(dir, base.mode);
  for (const part of missing) {
    dir = join(dir, part);
    mkdirSync(dir);
    lchownSync(dir, owner.uid, owner.gid);
    chmodSync(dir, 0o755);
  }
  return dir;
}

/** The missing directories down to `into` staged under `content`; `base` the deepest that exists. */
function missingChain(root: string, image: ImageRecord, into: string, owner: Owner, content: string, what: string): { base: string; dir: string } {
  const { base, missing } = missingParts(root, image, into, what);
  return { base, dir: stageChain(content, missing, owner, imageDirMeta(root, image, base)) };
}

/** WORKDIR's directory when the image lacks it (a layer, as the classic builder makes). */
export function stageWorkdir(root: string, image: ImageRecord, work: string, path: string, createdBy: string): StagedCopy | undefined {
  const entry = imageEntry(root, image, path);
  const depth = path.split("/").filter((p) => p !== "").length;
  if (entry.kind === "link" || (entry.kind === "dir" && entry.depth === depth)) return undefined;
  if (entry.kind === "file") throw new TsdError(`WORKDIR ${path}: a file of the image is in the way`, 1);
  const { base } = missingChain(root, image, path, { uid: 0, gid: 0 }, join(work, "content"), "WORKDIR");
  return { staged: join(work, "content"), into: base, createdBy };
}

function copyOwner(root: string, image: ImageRecord, r: CopyRequest): Owner {
  let mode: number | undefined;
  if (r.chmod !== undefined) {
    if (!/^[0-7]{3,4}$/.test(r.chmod)) throw new TsdError(`${r.what} --chmod=${r.chmod}: want an octal mode such as 0755`, 1);
    mode = parseInt(r.chmod, 8);
  }
  if (r.chown === undefined) return { uid: 0, gid: 0, ...(mode !== undefined ? { mode } : {}) };
  const [u, g] = r.chown.split(":", 2) as [string, string?];
  const layerDirs = image.layers.map((d) => join(rootPaths(root).layers, d.replace(/^sha256:/, ""), "diff")).reverse();
  const passwd = readImageFile(layerDirs, "etc/passwd");
  const group = readImageFile(layerDirs, "etc/group");
  const uid = resolveUser(u, passwd, group).uid;
  // Docker: a user without a group gets the same number as the group.
  const gid = g === undefined ? uid : resolveUser(`${u}:${g}`, passwd, group).gid;
  return { uid, gid, ...(mode !== undefined ? { mode } : {}) };
}

/** A directory to commit as a step's layer; `adopt`: it is the build's own, moved into the store. */
export interface LayerDir {
  dir: string;
  adopt: boolean;
}

/**
 * The layer of a staged COPY (or WORKDIR): when it goes into / and none of its top entries is
 * in the image, the staged tree is the layer itself (an overlay's upper dir would hold exactly
 * it: nothing of the image copied up, replaced or hidden), so it is committed as it is, with no
 * overlay and no copy; otherwise it is written into an overlay of `image` (applyCopy).
 */
export async function copyLayer(db: Database, root: string, image: ImageRecord, work: string, s: StagedCopy): Promise<LayerDir> {
  if (s.into === "/" && readdirSync(s.staged).every((name) => imageEntry(root, image, `/${name}`).kind === "absent")) return { dir: s.staged, adopt: true };
  return { dir: await applyCopy(db, root, image, work, s), adopt: false };
}

/** Writes the staged content into an overlay of `image`; returns the upper dir to commit. */
export async function applyCopy(db: Database, root: string, image: ImageRecord, work: string, s: StagedCopy): Promise<string> {
  const fs = stepRootfs(db, root, image, join(work, "rootfs"), false);
  await runMonitor(["--copy", "in", ...fs.args, "--container-path", s.into, "--host-dir", s.staged, "--host-name", ".", "--name", "", "--source-dir", "--archive"], "ignore", "COPY failed", 1);
  return fs.upper;
}

/** COPY --from: the named paths of `image`'s rootfs copied out into `work`, as a context. */
export async function contextFromImage(db: Database, root: string, image: ImageRecord, sources: string[], work: string): Promise<{ ctx: Context; sources: string[] }> {
  const fs = stepRootfs(db, root, image, join(work, "from"), true);
  const out = join(work, "from-files");
  mkdirSync(out, { recursive: true });
  const rel: string[] = [];
  for (const [i, src] of sources.entries()) {
    // A glob: the directory above its first wildcard copied out, the pattern matched in it.
    const parts = joinPath("/", src).split("/").filter((x) => x !== "");
    const wild = parts.findIndex((x) => isGlob(x));
    const fixed = wild < 0 ? parts : parts.slice(0, wild);
    // The source's links followed in the image (Docker's); a glob's fixed part only.
    const p = followInImage(root, image, `/${fixed.join("/")}`);
    if (p === "/") throw new TsdError(`COPY --from of ${src}: copying from the image's / is not supported: name a directory`, 1);
    const target = join(out, String(i));
    mkdirSync(target);
    // Copied out under the name the Dockerfile gave (a followed link's, not its target's).
    const name = fixed.at(-1)!;
    await runMonitor(["--copy", "out", ...fs.args, "--container-dir", dirname(p), "--container-name", basename(p), "--host-dir", target, "--name", name, "--archive"], "ignore", "COPY failed", 1);
    rel.push([String(i), name, ...(wild < 0 ? [] : parts.slice(wild))].join("/"));
  }
  rmSync(fs.dir, { recursive: true, force: true });
  return { ctx: loadContext(out), sources: rel };
}

/** What ADD extracts: a tar, plain or gzip-compressed (by its first bytes, as Docker decides). */
export function archiveKind(path: string): "tar" | "gzip" | undefined {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(512);
    const n = readSync(fd, head, 0, 512, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
    if (n >= 262 && head.subarray(257, 262).toString("latin1") === "ustar") return "tar";
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** A local archive of an ADD, its tar (gunzipped when it was gzip'd) and the tar's sha256. */
async function tarOf(work: string, archive: string, n: number): Promise<{ tar: string; hash: string }> {
  // Required here: static imports of these load node:stream into every command's start-up.
  const { pipeline } = require("node:stream/promises") as typeof import("node:stream/promises");
  const { createGunzip } = require("node:zlib") as typeof import("node:zlib");
  let tar = archive;
  if (archiveKind(archive) === "gzip") {
    tar = join(work, `archive-${n}.tar`);
    await pipeline(createReadStream(archive), createGunzip(), createWriteStream(tar, { mode: 0o600 }));
  }
  const h = new Bun.CryptoHasher("sha256");
  await pipeline(createReadStream(tar), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) h.update(chunk);
  });
  return { tar, hash: h.digest("hex") };
}

/**
 * ADD of local archives (with other sources or not): each archive's content extracted into
 * DEST (made when missing), owners kept, after the other sources are copied (`copy`, planned
 * by planCopy). One archive alone is `ADD file:<tar's sha256>`, else `ADD multi:<sha256 of the
 * parts' hashes>`, as the history names them.
 */
export async function stageArchives(root: string, image: ImageRecord, work: string, archives: string[], destAbs: string, copy: PlannedCopy | undefined, createdBy: (kind: string, hash: string) => string): Promise<StagedArchive> {
  const tars: string[] = [];
  const hashes: string[] = copy ? [/ (?:file|dir|multi):([0-9a-f]{64}) in /.exec(copy.createdBy)![1]!] : [];
  for (const [i, a] of archives.entries()) {
    const t = await tarOf(work, a, i);
    tars.push(t.tar);
    hashes.push(t.hash);
  }
  const line = hashes.length === 1 ? createdBy("file", hashes[0]!) : createdBy("multi", new Bun.CryptoHasher("sha256").update(hashes.join("\n")).digest("hex"));
  if (copy) return { tars, dest: destAbs, copy, createdBy: line };
  const chain = missingChain(root, image, destAbs, { uid: 0, gid: 0 }, join(work, "content"), "ADD");
  return { tars, dest: destAbs, ...(chain.base === destAbs ? {} : { chain: { staged: join(work, "content"), into: chain.base, createdBy: "" } }), createdBy: line };
}

export interface StagedArchive {
  tars: string[];
  dest: string;
  /** The missing directories down to DEST (when nothing else is copied). */
  chain?: StagedCopy;
  /** The ADD's other sources. */
  copy?: PlannedCopy;
  createdBy: string;
}

/** Copies the other sources, extracts the staged archives into an overlay of `image`; returns the upper dir to commit. */
export async function applyArchives(db: Database, root: string, image: ImageRecord, work: string, a: StagedArchive): Promise<string> {
  const first = a.copy ? a.copy.stage() : a.chain;
  const upper = first ? await applyCopy(db, root, image, work, first) : undefined;
  let fs: ReturnType<typeof stepRootfs> | undefined;
  for (const tar of a.tars) {
    fs = stepRootfs(db, root, image, join(work, "rootfs"), false);
    const fd = openSync(tar, "r");
    try {
      await runMonitor(["--copy", "in", "--stdio", ...fs.args, "--container-path", a.dest, "--archive"], "ignore", "ADD failed", 1, fd);
    } finally {
      closeSync(fd);
    }
  }
  return upper ?? fs!.upper;
}

/** COPY <<EOF: each heredoc a file of the step's own context, named as its terminator. */
export function heredocContext(work: string, docs: { name: string; content: string }[]): Context {
  const dir = join(work, "heredocs");
  mkdirSync(dir, { recursive: true });
  for (const d of docs) writeFileSync(join(dir, d.name), d.content, { mode: 0o644 });
  return loadContext(dir);
}

/**
 * ADD URL: the file downloaded into the step's own context, named as the URL's last path
 * component (Docker's), mode 0600 as Docker writes it. Returns that context and the name.
 */
export async function urlContext(work: string, url: string): Promise<{ ctx: Context; name: string }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw new TsdError(`ADD failed: cannot download ${url}: ${(e as Error).message}`, 1);
  }
  if (!res.ok) throw new TsdError(`ADD failed: ${url} answered ${res.status} ${res.statusText}`, 1);
  const name = decodeURIComponent(new URL(url).pathname.split("/").filter((p) => p !== "").at(-1) ?? "") || "download";
  if (name.includes("/") || name === "." || name === "..") throw new TsdError(`ADD failed: cannot name a file after ${url}: give a destination file name`, 1);
  const dir = join(work, "url");
  mkdirSync(dir, { recursive: true });
  await Bun.write(join(dir, name), res);
  chmodSync(join(dir, name), 0o600);
  return { ctx: loadContext(dir), name };
}

export function readDockerfile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new TsdError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: ${(e as Error).message}`, 1);
  }
}
