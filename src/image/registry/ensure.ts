// `tsd run IMAGE` with IMAGE missing: pull it first, as `docker run` does, with the pull's
// progress on stderr so the container's stdout stays its own. `--pull always|missing|never`.
import type { Database } from "bun:sqlite";
import { TsdError } from "../../errors";
import { findImage } from "../store";

export async function ensureImage(db: Database, root: string, name: string, opts: { policy?: string | undefined; platform?: string } = {}): Promise<void> {
  const policy = opts.policy ?? "missing";
  if (policy !== "always" && policy !== "missing" && policy !== "never") {
    throw new TsdError(`invalid --pull "${policy}": want always, missing or never`);
  }
  if (policy === "never") return;
  const have = findImage(db, name);
  if (have && policy === "missing") return;
  // An id (or id prefix) is not a reference one could pull.
  if (!have && /^(sha256:)?[a-f0-9]{12,64}$/.test(name)) return;
  if (!have) process.stderr.write(`Unable to find image '${name}' locally\n`);
  // Loaded only for a pull: the pull's streams (node:zlib pulls in node:stream) cost every
  // `run` of a local image ~5 ms of start-up otherwise.
  const [{ pullImage }, { makeProgress }] = await Promise.all([import("./pull"), import("../progress")]);
  await pullImage(db, root, name, { progress: makeProgress(process.stderr, false), ...(opts.platform ? { platform: opts.platform } : {}) });
}
