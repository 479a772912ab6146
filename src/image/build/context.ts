// The build context as COPY sees it: the directory's entries minus what .dockerignore
// excludes; a COPY's sources staged into a private directory with the ownership and mode the
// layer must have, and their content hash (paths, types, modes, owners, bytes, link targets;
// no times), which names the step in the history and the cache as Docker's `file:<hash>`.
import { chmodSync, copyFileSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../../errors";
import { cleanPath, ignored, isGlob, parseDockerignore, patternRegExp } from "./dockerignore";

/** A fifo is copied as one (COPY --from of an image's, or the context's). */
export type EntryKind = "dir" | "file" | "link" | "fifo";

export interface Context {
  dir: string;
  /** Relative paths of everything COPY may use, with their kind. */
  entries: Map<string, EntryKind>;
}

export function loadContext(dir: string): Context {
  let patterns = [] as ReturnType<typeof parseDockerignore>;
  try {
    patterns = parseDockerignore(readFileSync(join(dir, ".dockerignore"), "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new TsdError(`cannot read ${join(dir, ".dockerignore")}: ${(e as Error).message}`, 1);
  }
  const entries = new Map<string, EntryKind>();
  walk(dir, "", patterns, entries);
  return { dir, entries };
}

/** Entries under `rel`; a directory stays when it or something under it is not ignored. */
function walk(root: string, rel: string, patterns: ReturnType<typeof parseDockerignore>, out: Map<string, EntryKind>): boolean {
  let any = false;
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel === "" ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, path));
    const skip = ignored(patterns, path);
    if (st.isDirectory()) {
      const inner = walk(root, path, patterns, out);
      if (!skip || inner) {
        out.set(path, "dir");
        any = true;
      }
    } else if (!skip && (st.isFile() || st.isSymbolicLink() || st.isFIFO())) {
      out.set(path, st.isFile() ? "file" : st.isFIFO() ? "fifo" : "link");
      any = true;
    }
  }
  return any;
}

/** The context paths a COPY source names: itself, or a glob's matches (sorted). */
export function resolveSource(ctx: Context, src: string, what: string): string[] {
  const clean = cleanPath(src);
  if (clean === ".." || clean.startsWith("../")) throw new TsdError(`${what} failed: forbidden path outside the build context: ${src} ()`, 1);
  if (clean === "") return [""];
  if (isGlob(clean)) {
    const re = patternRegExp(clean, false);
    const hits = [...ctx.entries.keys()].filter((p) => re.test(p)).sort();
    if (hits.length === 0) throw new TsdError(`${what} failed: no source files were specified`, 1);
    return hits;
  }
  if (!ctx.entries.has(clean)) throw new TsdError(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${clean}: file does not exist`, 1);
  return [clean];
}

/**
 * A source that is a symlink of the context, followed as Docker's FollowSymlinkInScope does:
 * an absolute target from the context's top, `..` never above it, links in turn (at most 255).
 * Returns the context path it names; a target outside the context's entries (or ignored) is
 * the missing-file error.
 */
export function followSource(ctx: Context, rel: string, what: string): string {
  let cur = rel;
  for (let i = 0; i < 255 && ctx.entries.get(cur) === "link"; i++) {
    const target = readlinkSync(join(ctx.dir, cur));
    const base = target.startsWith("/") ? [] : cur.split("/").slice(0, -1);
    for (const part of target.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") base.pop();
      else base.push(part);
    }
    cur = base.join("/");
    if (cur !== "" && !ctx.entries.has(cur)) throw new TsdError(`${what} failed: file not found in build context or excluded by .dockerignore: stat ${rel}: file does not exist`, 1);
  }
  if (ctx.entries.get(cur) === "link") throw new TsdError(`${what} failed: ${rel}: too many levels of symbolic links`, 1);
  return cur;
}

export interface Owner {
  uid: number;
  gid: number;
  /** --chmod: every staged entry's mode. */
  mode?: number;
}

/**
 * Copies context path `rel` (a directory: its content) to `dest`, owned and moded as `o` says.
 * `top` false: a directory's content only, `dest` itself left as it is (an existing directory
 * of the image, or one the copy made), as Docker leaves the directory it copies into.
 */
export function stage(ctx: Context, rel: string, dest: string, o: Owner, top = true): void {
  const kind = rel === "" ? "dir" : ctx.entries.get(rel);
  const from = join(ctx.dir, rel);
  if (kind === "dir") {
    mkdirSync(dest, { recursive: true });
    const prefix = rel === "" ? "" : `${rel}/`;
    for (const p of ctx.entries.keys()) {
      if (!p.startsWith(prefix) || p.slice(prefix.length).includes("/")) continue;
      stage(ctx, p, join(dest, p.slice(prefix.length)), o);
    }
    if (top) finish(dest, lstatSync(from).mode & 0o7777, o);
  } else if (kind === "link") {
    symlinkSync(readlinkSync(from), dest);
    lchownSync(dest, o.uid, o.gid);
  } else if (kind === "fifo") {
    // node:fs has no mkfifo: coreutils' (rare: a fifo in a --from image or the context).
    const r = Bun.spawnSync(["mkfifo", dest], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) throw new TsdError(`COPY failed: mkfifo ${dest}: ${r.stderr.toString().trim()}`, 1);
    finish(dest, lstatSync(from).mode & 0o7777, o);
  } else {
    copyFileSync(from, dest);
    finish(dest, lstatSync(from).mode & 0o7777, o);
  }
}

function finish(path: string, mode: number, o: Owner): void {
  lchownSync(path, o.uid, o.gid);
  chmodSync(path, o.mode ?? mode);
}

/**
 * The size of the tar the Docker CLI sends for this context (a 512-byte header per entry, file
 * content in 512-byte blocks, the two-block trailer), for the "Sending build context" line;
 * `dockerfile`: the size of a Dockerfile sent with it from outside the context.
 */
export function contextTarSize(ctx: Context, dockerfile?: number): number {
  const blocks = (n: number) => Math.ceil(n / 512) * 512;
  let size = 1024 + (dockerfile !== undefined ? 512 + blocks(dockerfile) : 0);
  for (const [p, kind] of ctx.entries) size += 512 + (kind === "file" ? blocks(lstatSync(join(ctx.dir, p)).size) : 0);
  return size;
}

/** go-units HumanSizeWithPrecision(n, 4), as docker build prints the context's size. */
export function contextSizeText(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** One entry of a COPY's layer content as staging would write it: where from, and its mode. */
export interface PlannedEntry {
  /** S_IFMT bits included, as lstat reports them. */
  mode: number;
  uid: number;
  gid: number;
  /** A context file (its bytes) or link (its target); none for a directory or fifo. */
  from?: string;
}

/** Adds `rel` (context path, a directory: its content) planned at `dest` to `tree`: what stage() writes. */
export function plan(ctx: Context, rel: string, dest: string, o: Owner, tree: Map<string, PlannedEntry>, top = true): void {
  const kind = rel === "" ? "dir" : ctx.entries.get(rel);
  const from = join(ctx.dir, rel);
  if (kind === "dir") {
    const prefix = rel === "" ? "" : `${rel}/`;
    for (const p of ctx.entries.keys()) {
      if (!p.startsWith(prefix) || p.slice(prefix.length).includes("/")) continue;
      plan(ctx, p, dest === "" ? p.slice(prefix.length) : `${dest}/${p.slice(prefix.length)}`, o, tree);
    }
    if (top) tree.set(dest, { mode: 0o040000 | (o.mode ?? lstatSync(from).mode & 0o7777), uid: o.uid, gid: o.gid });
  } else if (kind === "link") {
    tree.set(dest, { mode: 0o120777, uid: o.uid, gid: o.gid, from });
  } else if (kind === "fifo") {
    tree.set(dest, { mode: 0o010000 | (o.mode ?? lstatSync(from).mode & 0o7777), uid: o.uid, gid: o.gid });
  } else {
    tree.set(dest, { mode: 0o100000 | (o.mode ?? lstatSync(from).mode & 0o7777), uid: o.uid, gid: o.gid, from });
  }
}

/**
 * The content hash of a planned layer tree (paths relative to its top, "" the top itself):
 * paths, types, modes, owners, bytes, link targets; no times. Computed before anything is
 * staged, so a cached COPY copies nothing.
 */
export function plannedHash(tree: Map<string, PlannedEntry>): string {
  const h = new Bun.CryptoHasher("sha256");
  const children = new Map<string, string[]>();
  for (const p of tree.keys()) {
    if (p === "") continue;
    const cut = p.lastIndexOf("/");
    const parent = cut < 0 ? "" : p.slice(0, cut);
    const list = children.get(parent) ?? [];
    list.push(p);
    children.set(parent, list);
  }
  const visit = (rel: string) => {
    const e = tree.get(rel)!;
    h.update(`${rel}\0${e.mode}\0${e.uid}\0${e.gid}\0`);
    if ((e.mode & 0o170000) === 0o120000) h.update(readlinkSync(e.from!));
    else if ((e.mode & 0o170000) === 0o100000) h.update(readFileSync(e.from!));
    else for (const c of (children.get(rel) ?? []).sort()) visit(c);
    h.update("\0");
  };
  visit("");
  return h.digest("hex");
}
