// `tsd commit`: which container, its image, and its processes paused while its upper dir is
// read; the layer and the image are made by image/commit.ts.
import { containerEvent } from "./events";
import { familiarName } from "../image/reference";
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerDir } from "../store/paths";
import { freezeBundle } from "../cgroup";
import { applyChanges, commitUpper } from "../image/commit";
import { takeLease } from "../image/lease";
import type { Reference } from "../image/reference";
import { imageById } from "../image/store";
import { decodeOptions } from "./options";
import { lookup } from "./resolve";
import { decide } from "./state";
import { containerById } from "./store";

export interface CommitOptions {
  ref?: Reference;
  changes: string[];
  author?: string;
  message?: string;
  /** Freeze a running container while its upper dir is read (Docker's default); false opts out. */
  pause?: boolean;
}

export async function commitContainer(db: Database, root: string, name: string, opts: CommitOptions): Promise<string> {
  const c = lookup(db, root, name);
  if (!c) throw new TsdError(`no such container: ${name}`);
  const parent = imageById(db, c.image_id);
  if (!parent) throw new TsdError(`the image of container ${c.name} is gone: nothing to commit onto`);
  const upper = join(containerDir(root, c.id), "upper");
  if (!existsSync(upper)) throw new TsdError(`container ${c.name} has no upper layer (its files are gone)`);
  // The container's Healthcheck (the image's merged with its --health-* flags) goes on, as
  // Docker commits the container's config.
  const healthcheck = decodeOptions(c.options).healthcheck;
  const runConfig = applyChanges({ ...parent.config.config, ...(healthcheck ? { Healthcheck: healthcheck } : {}) }, opts.changes);
  const lease = takeLease(root);
  try {
    const layer = { ref: opts.ref, author: opts.author, message: opts.message, createdBy: `tsd commit ${c.name}` };
    const id = await withPaused(db, root, c.id, opts.pause !== false, () => commitUpper(db, root, parent, upper, runConfig, layer));
    containerEvent(db, c, "commit", { comment: opts.message ?? "", imageID: `sha256:${id}`, imageRef: opts.ref ? familiarName(opts.ref) : "" });
    return id;
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
  if (!pause || !row || decide("freeze", row) !== "live") return fn();
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
