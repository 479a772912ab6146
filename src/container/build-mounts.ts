// RUN --mount made real for the RUN's container: a bind of a context path (staged as COPY
// stages it, .dockerignore applied) or of a stage's or image's path (copied out as COPY
// --from does), read-only unless rw (writes land in that private copy and are dropped); a
// cache directory under the root, kept across builds by id, never in the layer; a tmpfs.
// Planned first (what names the step in the cache), made only when the step runs.
import type { Database } from "bun:sqlite";
import { closeSync, openSync } from "node:fs";
import { flockExclusive } from "../native/libc";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { plan, plannedHash, resolveSource, stage, type Context, type PlannedEntry } from "../image/build/context";
import { cacheDirName, cacheMountsDir, type RunMount } from "../image/build/run-mount";
import type { ImageRecord } from "../image/store";
import { contextFromImage } from "./build-copy";
import { imageEntry } from "./build-rootfs";
import type { BindMount, TmpfsMount } from "./options";

export interface Made {
  volumes: BindMount[];
  tmpfs: TmpfsMount[];
  /** Gives back the cache mounts' locks (sharing=locked) and uses (sharing=private). */
  release: () => void;
}

export interface MountPlan {
  /** Appended to the RUN's cache key: each mount's kind, target and source content. */
  key: string;
  make: () => Promise<Made>;
}

/** This process's cache mounts in use (sharing=private) and their lock queues (sharing=locked). */
const inUse = new Map<string, number>();
const queues = new Map<string, Promise<void>>();

interface Where {
  db: Database;
  root: string;
  ctx: Context;
}

export async function planMounts(w: Where, mounts: RunMount[], work: string, fromImage: (ref: string) => Promise<ImageRecord>): Promise<MountPlan> {
  if (mounts.length === 0) return { key: "", make: async () => ({ volumes: [], tmpfs: [], release: () => {} }) };
  const keys: string[] = [];
  const makers: ((i: number, out: Made, onRelease: (f: () => void) => void) => Promise<void>)[] = [];
  for (const m of mounts) {
    if (m.type === "tmpfs") {
      keys.push(`tmpfs:${m.target}:${m.size ?? ""}`);
      makers.push(async (_i, out) => void out.tmpfs.push({ destination: m.target, options: ["nosuid", "nodev", ...(m.size !== undefined ? [`size=${m.size}`] : [])] }));
    } else if (m.type === "cache") {
      keys.push(`cache:${m.target}:${m.id}:${m.readonly}`);
      makers.push(async (i, out, onRelease) => void out.volumes.push({ source: await cacheUse(w.root, m, join(work, `mount-${i}`), onRelease), destination: m.target, readonly: m.readonly, mustExist: true }));
    } else if (m.from !== undefined) {
      const image = await fromImage(m.from);
      keys.push(`bind:${m.target}:${image.id}:${m.source}:${m.rw}`);
      makers.push(async (i, out) => {
        const got = await contextFromImage(w.db, w.root, image, [m.source], join(work, `mount-${i}`));
        out.volumes.push({ source: join(got.ctx.dir, got.sources[0]!), destination: m.target, readonly: !m.rw, mustExist: true });
      });
    } else {
      const rel = resolveSource(w.ctx, m.source, "RUN --mount")[0]!;
      const tree = new Map<string, PlannedEntry>();
      plan(w.ctx, rel, "", { uid: 0, gid: 0 }, tree);
      keys.push(`bind:${m.target}:${plannedHash(tree)}:${m.rw}`);
      makers.push(async (i, out) => {
        const dest = join(work, `mount-${i}`);
        stage(w.ctx, rel, dest, { uid: 0, gid: 0 });
        out.volumes.push({ source: dest, destination: m.target, readonly: !m.rw, mustExist: true });
      });
    }
  }
  return {
    key: `\n#(mounts) ${keys.join(" ")}`,
    make: async () => {
      const undo: (() => void)[] = [];
      const out: Made = { volumes: [], tmpfs: [], release: () => undo.splice(0).reverse().forEach((f) => f()) };
      try {
        for (const [i, mk] of makers.entries()) await mk(i, out, (f) => undo.push(f));
      } catch (e) {
        out.release();
        throw e;
      }
      return out;
    },
  };
}

/**
 * The directory a cache mount binds for this RUN: the shared one; with sharing=locked once no
 * other RUN (of this build: an in-process queue; of another tsd: flock) has it; with
 * sharing=private a fresh one of the step's when this build's other stages use it now.
 */
async function cacheUse(root: string, m: Extract<RunMount, { type: "cache" }>, fresh: string, onRelease: (f: () => void) => void): Promise<string> {
  const dir = cacheDir(root, m);
  if (m.sharing === "private") {
    if ((inUse.get(dir) ?? 0) > 0) {
      mkdirSync(fresh, { recursive: true });
      chownSync(fresh, m.uid, m.gid);
      chmodSync(fresh, m.mode);
      return fresh;
    }
    inUse.set(dir, 1);
    onRelease(() => inUse.delete(dir));
    return dir;
  }
  if (m.sharing === "shared") return dir;
  const before = queues.get(dir) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((go) => (done = go));
  queues.set(dir, before.then(() => mine));
  await before;
  // Another tsd's build: flock (blocking; this build's own RUNs on it are queued above).
  const fd = openSync(`${dir}.lock`, "a", 0o600);
  flockExclusive(fd);
  onRelease(() => {
    closeSync(fd);
    done();
  });
  return dir;
}

/** A cache mount's directory, made with its uid, gid and mode the first time. */
function cacheDir(root: string, m: Extract<RunMount, { type: "cache" }>): string {
  const dir = join(cacheMountsDir(root), cacheDirName(m.id));
  if (!existsSync(dir)) {
    mkdirSync(cacheMountsDir(root), { recursive: true, mode: 0o700 });
    mkdirSync(dir);
    chownSync(dir, m.uid, m.gid);
    chmodSync(dir, m.mode);
  }
  return dir;
}

/**
 * The paths a RUN's mounts will create in the rootfs (each target and its missing parents,
 * deepest first): what the image does not have. BuildKit removes them after the RUN when they
 * are still empty (its mount stubs cleaner), so they stay out of the layer.
 */
export function mountStubs(root: string, image: ImageRecord, targets: string[]): string[] {
  const out: string[] = [];
  for (const target of targets) {
    const parts = target.split("/").filter((p) => p !== "");
    const e = imageEntry(root, image, target);
    if (e.kind !== "absent") continue;
    for (let i = parts.length; i > e.depth; i--) out.push(parts.slice(0, i).join("/"));
  }
  return out;
}

/** Removes the stubs still empty from the upper dir (never through a link: each parent lstat'd). */
export function removeStubs(upper: string, stubs: string[]): void {
  for (const rel of stubs) {
    const parts = rel.split("/");
    let ok = true;
    for (let i = 1; i < parts.length && ok; i++) ok = lstatOr(join(upper, ...parts.slice(0, i)))?.isDirectory() === true;
    const st = ok ? lstatOr(join(upper, rel)) : undefined;
    if (!st) continue;
    if (st.isDirectory() && readdirSync(join(upper, rel)).length === 0) rmdirSync(join(upper, rel));
    else if (st.isFile() && st.size === 0) unlinkSync(join(upper, rel));
  }
}

function lstatOr(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
