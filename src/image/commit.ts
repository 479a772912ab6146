// `tsd commit`: a container's upper dir becomes a new layer on top of its image, with the
// config changed by `--change` instructions (Dockerfile syntax: CMD, ENTRYPOINT, ENV, WORKDIR,
// USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME).
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { putBlob, sha256Hex } from "./blobs";
import { layerFromDir } from "./layer";
import type { Reference } from "./reference";
import { imageById, putImage, tagImage, type ImageConfig, type ImageRecord } from "./store";
import { takeLease } from "./lease";
import { freezeBundle } from "../cgroup";
import { containerById, type ContainerRow as FullRow } from "../container/store";
import { lookup } from "../container/resolve";
import { decide } from "../container/state";

type RunConfig = NonNullable<ImageConfig["config"]>;

/** Applies Dockerfile-style instructions to an image's run config (a copy is returned). */
export function applyChanges(config: RunConfig, changes: string[]): RunConfig {
  const out: RunConfig = JSON.parse(JSON.stringify(config ?? {}));
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*?)\s*$/.exec(change);
    if (!m) throw new TsdError(`invalid --change "${change}": want INSTRUCTION ARGUMENTS, e.g. CMD ["sh"]`);
    const op = m[1]!.toUpperCase();
    const arg = m[2]!;
    switch (op) {
      case "CMD":
        out.Cmd = execForm(arg) ?? ["/bin/sh", "-c", arg];
        break;
      case "ENTRYPOINT":
        out.Entrypoint = execForm(arg) ?? ["/bin/sh", "-c", arg];
        break;
      case "ENV": {
        const env = [...(out.Env ?? [])];
        for (const [k, v] of envPairs(arg, change)) {
          const i = env.findIndex((e) => e.split("=")[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case "WORKDIR":
        out.WorkingDir = arg.startsWith("/") ? arg : `${(out.WorkingDir || "/").replace(/\/$/, "")}/${arg}`;
        break;
      case "USER":
        out.User = arg;
        break;
      case "STOPSIGNAL":
        out.StopSignal = arg;
        break;
      case "EXPOSE": {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of arg.split(/\s+/)) ports[p.includes("/") ? p : `${p}/tcp`] = {};
        out.ExposedPorts = ports;
        break;
      }
      case "VOLUME": {
        const vols = { ...(out.Volumes ?? {}) };
        for (const v of execForm(arg) ?? arg.split(/\s+/)) vols[v] = {};
        out.Volumes = vols;
        break;
      }
      case "LABEL": {
        const labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of envPairs(arg, change)) labels[k] = v;
        out.Labels = labels;
        break;
      }
      default:
        throw new TsdError(`--change "${change}": ${op} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR`);
    }
  }
  return out;
}

function execForm(arg: string): string[] | undefined {
  if (!arg.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(arg);
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  } catch {
    // Shell form after all.
  }
  return undefined;
}

/** `K=V K2="a b"` or the legacy `K V…`. */
function envPairs(arg: string, change: string): [string, string][] {
  if (!/^[^\s=]+=/.test(arg)) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(arg);
    if (!m) throw new TsdError(`invalid --change "${change}": want KEY=VALUE`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))\s*/gy;
  let mm: RegExpExecArray | null;
  let last = 0;
  while ((mm = re.exec(arg))) {
    out.push([mm[1]!, mm[2] !== undefined ? mm[2].replace(/\\(.)/g, "$1") : (mm[3] ?? mm[4] ?? "")]);
    last = re.lastIndex;
  }
  if (last !== arg.length) throw new TsdError(`invalid --change "${change}": want KEY=VALUE pairs`);
  return out;
}

type ContainerRow = Pick<FullRow, "id" | "name" | "image_id">;

/** The container by id, prefix or name (container/resolve.ts, the one resolver). */
export function findContainer(db: Database, root: string, name: string): ContainerRow | undefined {
  return lookup(db, root, name);
}

export interface CommitOptions {
  ref?: Reference;
  changes: string[];
  author?: string;
  message?: string;
  /** Freeze a running container while its upper dir is read (Docker's default); false opts out. */
  pause?: boolean;
}

export async function commitContainer(db: Database, root: string, name: string, opts: CommitOptions): Promise<string> {
  const c = findContainer(db, root, name);
  if (!c) throw new TsdError(`no such container: ${name}`);
  const parent = imageById(db, c.image_id);
  if (!parent) throw new TsdError(`the image of container ${c.name} is gone: nothing to commit onto`);
  const upper = join(containerDir(root, c.id), "upper");
  if (!existsSync(upper)) throw new TsdError(`container ${c.name} has no upper layer (its files are gone)`);
  const runConfig = applyChanges(parent.config.config ?? {}, opts.changes);
  const lease = takeLease(root);
  try {
    return await withPaused(db, root, c.id, opts.pause !== false, () => commitLayer(db, root, c, parent, upper, runConfig, opts));
  } finally {
    lease.release();
  }
}

/**
 * Runs `fn` with the container's processes frozen when it is running and `pause` is asked, so
 * the layer is one consistent state of its upper dir; thawed on every way out, a signal to the
 * CLI included.
 */
async function withPaused<T>(db: Database, root: string, id: string, pause: boolean, fn: () => Promise<T>): Promise<T> {
  const row = containerById(db, id);
  if (!pause || !row || decide("pause", row) !== "live") return fn();
  const bundle = containerDir(root, row.id);
  const frozen = await freezeBundle(bundle, true);
  if (!frozen) return fn();
  const thawAndExit = (sig: NodeJS.Signals) => {
    void freezeBundle(bundle, false).finally(() => process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15)));
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const sig of signals) process.on(sig, thawAndExit);
  try {
    return await fn();
  } finally {
    for (const sig of signals) process.off(sig, thawAndExit);
    await freezeBundle(bundle, false);
  }
}

async function commitLayer(
  db: Database,
  root: string,
  c: ContainerRow,
  parent: ImageRecord,
  upper: string,
  runConfig: RunConfig,
  opts: CommitOptions,
): Promise<string> {
  const layer = await layerFromDir(db, root, upper, { upper: true });
  const now = new Date().toISOString();
  const config: ImageConfig & { author?: string } = {
    ...parent.config,
    created: now,
    ...(opts.author ? { author: opts.author } : {}),
    config: runConfig,
    rootfs: { type: "layers", diff_ids: [...parent.config.rootfs.diff_ids, layer.diffId] },
    history: [
      ...(parent.config.history ?? []),
      { created: now, created_by: `tsd commit ${c.name}`, ...(opts.author ? { author: opts.author } : {}), ...(opts.message ? { comment: opts.message } : {}) },
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256Hex(bytes);
  putBlob(root, `sha256:${id}`, bytes);
  db.transaction(() => {
    putImage(db, id, config, parent.size + layer.unpacked);
    if (opts.ref) tagImage(db, opts.ref, id);
  }).immediate();
  return id;
}
