// `tsd update`: new limits for a container. Its config.json's linux.resources is rewritten
// first, and a running container's group then takes them from there (createBundleCgroup and
// updateBundleCgroup read the spec: the bundle is the one source of its limits). The row and
// the bundle's record keep the flags' form for inspect (HostConfig.NanoCpus …).
import type { Database } from "bun:sqlite";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { hostCpus, updateBundleCgroup } from "../cgroup";
import { checkAgainstHost, ociResources, resourcesFromFlags, type ResourceFlags } from "../cgroup/resources";
import { containerDir } from "../store/paths";
import { decodeOptions, encodeOptions } from "./options";
import { recordContainer } from "./record";
import { mustFind } from "./resolve";
import { decide } from "./state";
import { updateOptions } from "./store";

export function updateContainer(db: Database, root: string, ref: string, flags: ResourceFlags): void {
  const row = mustFind(db, root, ref);
  const options = decodeOptions(row.options);
  const merged = resourcesFromFlags(flags, options.resources ?? {});
  checkAgainstHost(merged, hostCpus());
  const bundle = containerDir(root, row.id);
  const before = updateSpecResources(bundle, ociResources(merged));
  if (decide("update", row, ref) === "live") {
    try {
      updateBundleCgroup(bundle);
    } catch (e) {
      // The kernel refused (a limit below what the container uses): the spec keeps the
      // limits the group still has.
      if (before !== undefined) writeSpec(bundle, before);
      throw e;
    }
  }
  const updated = encodeOptions({ ...options, resources: merged });
  updateOptions(db, row.id, updated);
  recordContainer(root, { ...row, options: updated });
}

function writeSpec(bundle: string, text: string): void {
  const path = join(bundle, "config.json");
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** config.json's linux.resources as the limits now are; what no flag sets (its device rules,
 *  v2 `unified` files) stays as it was. Returns the file as it was (undefined: no bundle left,
 *  rm races us). */
function updateSpecResources(bundle: string, resources: Record<string, unknown>): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(bundle, "config.json"), "utf8");
  } catch {
    return undefined;
  }
  const spec = JSON.parse(text) as { linux?: { resources?: Record<string, unknown> } };
  const { devices, unified } = spec.linux?.resources ?? {};
  spec.linux = { ...spec.linux, resources: { ...resources, ...(devices !== undefined ? { devices } : {}), ...(unified !== undefined ? { unified } : {}) } };
  writeSpec(bundle, JSON.stringify(spec, null, 2));
  return text;
}
