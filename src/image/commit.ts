// `tsd commit`'s image side: a container's upper dir becomes a new layer on top of its image,
// with the config changed by `--change` instructions (Dockerfile syntax: CMD, ENTRYPOINT, ENV,
// WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME, HEALTHCHECK). The container side (which container, its
// processes paused) is container/commit.ts.
import type { Database } from "bun:sqlite";
import { TsdError } from "../errors";
import { putBlob, sha256Hex } from "./blobs";
import { layerFromDir } from "./layer";
import type { Reference } from "./reference";
import { putImage, tagImage, type ImageConfig, type ImageRecord } from "./store";
import { parseHealthcheckInstruction } from "./healthcheck";

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
      case "HEALTHCHECK":
        out.Healthcheck = parseHealthcheckInstruction(arg);
        break;
      case "LABEL": {
        const labels = { ...(out.Labels ?? {}) };
        for (const [k, v] of envPairs(arg, change)) labels[k] = v;
        out.Labels = labels;
        break;
      }
      default:
        throw new TsdError(`--change "${change}": ${op} is not one of CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR`);
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

export interface LayerCommit {
  ref?: Reference;
  author?: string;
  message?: string;
  /** The history entry's created_by. */
  createdBy: string;
  /** `upper` is the caller's to give away: it becomes the stored layer (layer.ts layerFromDir). */
  adopt?: boolean;
  /** Nothing writes `upper` any more (no container runs on it): packed in this process. */
  settled?: boolean;
}

/** A new image: `parent` with the upper dir `upper` packed as one more layer and `runConfig`
 *  as its run config; tagged `ref` when given. Returns its id. */
export async function commitUpper(db: Database, root: string, parent: ImageRecord, upper: string, runConfig: RunConfig, o: LayerCommit): Promise<string> {
  const layer = await layerFromDir(db, root, upper, { adopt: o.adopt === true, settled: o.settled === true });
  const now = new Date().toISOString();
  // The parent's author and comment are its own: the new image has what this commit gives.
  const { author: _author, comment: _comment, ...base } = parent.config as ImageConfig & { author?: string; comment?: string };
  const config: ImageConfig & { author?: string; comment?: string } = {
    ...base,
    created: now,
    ...(o.author ? { author: o.author } : {}),
    ...(o.message ? { comment: o.message } : {}),
    config: runConfig,
    rootfs: { type: "layers", diff_ids: [...parent.config.rootfs.diff_ids, layer.diffId] },
    history: [
      ...(parent.config.history ?? []),
      { created: now, created_by: o.createdBy, ...(o.author ? { author: o.author } : {}), ...(o.message ? { comment: o.message } : {}) },
    ],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  const id = sha256Hex(bytes);
  putBlob(root, `sha256:${id}`, bytes);
  db.transaction(() => {
    putImage(db, id, config, parent.size + layer.unpacked);
    if (o.ref) tagImage(db, o.ref, id, true);
  }).immediate();
  return id;
}
