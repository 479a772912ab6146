// `tsd system prune`: Docker 20.10's order (cli/command/system/prune.go): stopped containers,
// unused networks, unused volumes (--volumes), dangling images (every unused one with -a),
// the build cache (tsd has none), each through its own domain's prune, then one total.
import type { Database } from "bun:sqlite";
import { pruneContainers } from "../container/prune";
import { pruneNetworks } from "../container/network-commands";
import { reconcile } from "../container/resolve";
import { decodeOptions } from "../container/options";
import { pruneVolumes, volumeLabels } from "../container/volumes";
import { pruneImages } from "../image/remove";
import { TsdError } from "../errors";
import { matchLabels, parseFilters, type Filters } from "../format/filters";

export interface PruneOptions {
  all: boolean;
  volumes: boolean;
  /** --filter until=TIME (ms since the epoch, parsed by the caller) and label=, label!=. */
  filters: string[];
  now: number;
  parseTime: (text: string) => number;
}

export interface PruneReport {
  containers: string[];
  networks: string[];
  volumes: string[];
  untagged: string[];
  deleted: string[];
  reclaimed: number;
}

/** Docker's prune filters: until (not for volumes) and label / label! (pure). */
export function pruneFilter(list: string[], parseTime: (t: string) => number): (created: number, labels: Record<string, string>) => boolean {
  const f: Filters = parseFilters(list, ["until", "label", "label!"]);
  for (const k of f.keys()) if (!["until", "label", "label!"].includes(k)) throw new TsdError(`Invalid filter '${k}'`, 1);
  const until = f.get("until") ?? [];
  if (until.length > 1) throw new TsdError("more than one until filter specified", 1);
  const limit = until[0] === undefined ? undefined : parseTime(until[0]);
  const not = f.get("label!") ?? [];
  return (created, labels) =>
    (limit === undefined || created < limit) && matchLabels(f, labels) && !(not.length > 0 && not.some((l) => matchLabels(new Map([["label", [l]]]), labels)));
}

export function systemPrune(db: Database, root: string, o: PruneOptions): PruneReport {
  const keep = pruneFilter(o.filters, o.parseTime);
  const containers = pruneContainers(db, root, (row) => keep(row.created_at, (decodeOptions(row.options) as { labels?: Record<string, string> }).labels ?? {}));
  const networks = pruneNetworks(db, root, (n) => keep(n.created_at, {}));
  // Docker 20.10 prunes every unused local volume, named ones too (23.0 made it anonymous only).
  const volumes = o.volumes ? pruneVolumes(db, root, true, (v) => keep(v.created_at, volumeLabels(v))) : { removed: [], bytes: 0 };
  reconcile(db, root);
  const images = pruneImages(db, root, o.all, (i) => keep(i.created ? Date.parse(i.created) : 0, ((i.config.config as { Labels?: Record<string, string> } | undefined)?.Labels ?? {})));
  return {
    containers: containers.removed, networks, volumes: volumes.removed, untagged: images.untagged, deleted: images.deleted,
    reclaimed: containers.bytes + volumes.bytes + images.reclaimed,
  };
}

/** Docker's WARNING before it asks (cli/command/system/prune.go's template). */
export function pruneWarning(o: Pick<PruneOptions, "all" | "volumes" | "filters">): string {
  const items = ["all stopped containers", "all networks not used by at least one container"];
  if (o.volumes) items.push("all volumes not used by at least one container");
  items.push(o.all ? "all images without at least one container associated to them" : "all dangling images");
  items.push(o.all ? "all build cache" : "all dangling build cache");
  let text = `WARNING! This will remove:\n${items.map((i) => `  - ${i}`).join("\n")}\n`;
  if (o.filters.length) text += `\n  Items to be pruned will be filtered with:\n${o.filters.map((f) => `  - ${f}`).join("\n")}\n`;
  return `${text}\nAre you sure you want to continue? [y/N] `;
}
