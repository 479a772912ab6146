// `tsd update`: new limits for a container. A running one gets them in its cgroup at once; the
// row, the bundle's record and its config.json (linux.resources, so the bundle stays
// self-sufficient) keep them for the next start.
import type { Database } from "bun:sqlite";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TsdError } from "../errors";
import { containerGroup, hostCpus, hostDriver } from "../cgroup";
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
  if (decide("update", row, ref) === "live") hostDriver().update(containerGroup(row.id, options), merged);
  const updated = encodeOptions({ ...options, resources: merged });
  updateOptions(db, row.id, updated);
  recordContainer(root, { ...row, options: updated });
  updateSpecResources(root, row.id, ociResources(merged));
}

/** config.json's linux.resources as the limits now are; its device rules stay as they were. */
function updateSpecResources(root: string, id: string, resources: Record<string, unknown>): void {
  const path = join(containerDir(root, id), "config.json");
  let spec: { linux?: { resources?: Record<string, unknown> } };
  try {
    spec = JSON.parse(readFileSync(path, "utf8")) as typeof spec;
  } catch {
    return; // no bundle left (rm races us): nothing to keep current
  }
  const devices = spec.linux?.resources?.devices;
  spec.linux = { ...spec.linux, resources: { ...resources, ...(devices !== undefined ? { devices } : {}) } };
  writeFileSync(`${path}.tmp`, JSON.stringify(spec, null, 2));
  renameSync(`${path}.tmp`, path);
}
