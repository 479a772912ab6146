// `tsd system df`: what images, containers and volumes take on disk, as Docker's /system/df
// (moby daemon/disk_usage.go) and the CLI's summary (cli/command/formatter/disk_usage.go).
// Images count their layers (shared with another image, or unique); containers their
// writable layer (upper/); volumes their _data. tsd has no build cache: always 0B.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { listImages, type ImageRecord } from "../image/store";
import { reconcile } from "../container/resolve";
import { stateOf } from "../container/state";
import { listContainers, type ContainerRow } from "../container/store";
import { decodeOptions } from "../container/options";
import { dirSize, listVolumes, volumeData } from "../container/volumes";
import { containerDir } from "../store/paths";

export interface ImageUsage {
  image: ImageRecord;
  tags: string[];
  size: number;
  sharedSize: number;
  containers: number;
}

export interface ContainerUsage {
  row: ContainerRow;
  sizeRw: number;
  localVolumes: number;
  active: boolean;
}

export interface VolumeUsage {
  name: string;
  links: number;
  size: number;
}

export interface DiskUsage {
  layersSize: number;
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
}

const sizeOr0 = (dir: string): number => {
  try {
    return dirSize(dir);
  } catch {
    return 0;
  }
};

/** Docker's isActive: running, paused or restarting. */
const ACTIVE = new Set(["running", "paused", "restarting"]);

export function diskUsage(db: Database, root: string): DiskUsage {
  reconcile(db, root);
  const layerSizes = new Map((db.query("SELECT diff_id, size FROM layers").all() as { diff_id: string; size: number }[]).map((l) => [l.diff_id, l.size]));
  const all = listImages(db);
  const uses = new Map<string, number>();
  for (const { image } of all) for (const l of new Set(image.layers)) uses.set(l, (uses.get(l) ?? 0) + 1);
  const rows = listContainers(db);
  const images = all.map(({ image, tags }) => ({
    image, tags, size: image.size,
    sharedSize: [...new Set(image.layers)].filter((l) => (uses.get(l) ?? 0) > 1).reduce((n, l) => n + (layerSizes.get(l) ?? 0), 0),
    containers: rows.filter((r) => r.image_id === image.id).length,
  }));
  const links = new Map<string, number>();
  const containers = rows.map((row) => {
    const named = decodeOptions(row.options).volumes.filter((v) => v.volume).map((v) => v.volume!);
    for (const v of named) links.set(v, (links.get(v) ?? 0) + 1);
    return { row, sizeRw: sizeOr0(join(containerDir(root, row.id), "upper")), localVolumes: named.length, active: ACTIVE.has(stateOf(row, root)) };
  });
  const volumes = listVolumes(db).map((v) => ({ name: v.name, links: links.get(v.name) ?? 0, size: sizeOr0(volumeData(root, v.name)) }));
  const layersSize = [...layerSizes.values()].reduce((a, b) => a + b, 0);
  return { layersSize, images, containers, volumes };
}

/** One row of the summary table (TYPE TOTAL ACTIVE SIZE RECLAIMABLE), sizes in bytes. */
export interface UsageSummary {
  type: "Images" | "Containers" | "Local Volumes" | "Build Cache";
  total: number;
  active: number;
  size: number;
  reclaimable: number;
  /** Whether RECLAIMABLE shows a percentage (Docker: when the total is above 0; never for the build cache). */
  percent: boolean;
}

/** The summary as Docker's CLI computes it (pure). */
export function summarise(u: DiskUsage): UsageSummary[] {
  const used = u.images.filter((i) => i.containers > 0).reduce((n, i) => n + i.size - i.sharedSize, 0);
  const rw = u.containers.reduce((n, c) => n + c.sizeRw, 0);
  const vol = u.volumes.reduce((n, v) => n + v.size, 0);
  return [
    { type: "Images", total: u.images.length, active: u.images.filter((i) => i.containers > 0).length, size: u.layersSize, reclaimable: u.layersSize - used, percent: u.layersSize > 0 },
    {
      type: "Containers", total: u.containers.length, active: u.containers.filter((c) => c.active).length, size: rw,
      reclaimable: u.containers.filter((c) => !c.active).reduce((n, c) => n + c.sizeRw, 0), percent: rw > 0,
    },
    {
      type: "Local Volumes", total: u.volumes.length, active: u.volumes.filter((v) => v.links > 0).length, size: vol,
      reclaimable: u.volumes.filter((v) => v.links === 0).reduce((n, v) => n + v.size, 0), percent: vol > 0,
    },
    { type: "Build Cache", total: 0, active: 0, size: 0, reclaimable: 0, percent: false },
  ];
}
