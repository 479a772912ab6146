// RUN --mount made real for the RUN's container: a bind of a context path (staged as COPY
// stages it, .dockerignore applied) or of a stage's or image's path (copied out as COPY
// --from does), read-only unless rw (writes land in that private copy and are dropped); a
// cache directory under the root, kept across builds by id, never in the layer; a tmpfs.
// Planned first (what names the step in the cache), made only when the step runs.
import type { Database } from "bun:sqlite";
import { chmodSync, chownSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { plan, plannedHash, resolveSource, stage, type Context, type PlannedEntry } from "../image/build/context";
import { cacheDirName, cacheMountsDir, type RunMount } from "../image/build/run-mount";
import type { ImageRecord } from "../image/store";
import { contextFromImage } from "./build-copy";
import type { BindMount, TmpfsMount } from "./options";

export interface MountPlan {
  /** Appended to the RUN's cache key: each mount's kind, target and source content. */
  key: string;
  make: () => Promise<{ volumes: BindMount[]; tmpfs: TmpfsMount[] }>;
}

interface Where {
  db: Database;
  root: string;
  ctx: Context;
}

export async function planMounts(w: Where, mounts: RunMount[], work: string, fromImage: (ref: string) => Promise<ImageRecord>): Promise<MountPlan> {
  if (mounts.length === 0) return { key: "", make: async () => ({ volumes: [], tmpfs: [] }) };
  const keys: string[] = [];
  const makers: ((i: number, out: { volumes: BindMount[]; tmpfs: TmpfsMount[] }) => Promise<void>)[] = [];
  for (const m of mounts) {
    if (m.type === "tmpfs") {
      keys.push(`tmpfs:${m.target}:${m.size ?? ""}`);
      makers.push(async (_i, out) => void out.tmpfs.push({ destination: m.target, options: ["nosuid", "nodev", ...(m.size !== undefined ? [`size=${m.size}`] : [])] }));
    } else if (m.type === "cache") {
      keys.push(`cache:${m.target}:${m.id}:${m.readonly}`);
      makers.push(async (_i, out) => void out.volumes.push({ source: cacheDir(w.root, m), destination: m.target, readonly: m.readonly, mustExist: true }));
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
      const out = { volumes: [] as BindMount[], tmpfs: [] as TmpfsMount[] };
      for (const [i, mk] of makers.entries()) await mk(i, out);
      return out;
    },
  };
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
