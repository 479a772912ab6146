// Where things live under the root dir (DESIGN.md "State on disk").
import { join } from "node:path";

export interface RootPaths {
  root: string;
  blobs: string;
  layers: string;
  links: string; // layers/l: short names for overlay lowerdirs
  containers: string;
  tmp: string;
}

export function rootPaths(root: string): RootPaths {
  return {
    root,
    blobs: join(root, "blobs", "sha256"),
    layers: join(root, "layers"),
    links: join(root, "layers", "l"),
    containers: join(root, "containers"),
    tmp: join(root, "tmp"),
  };
}

export function containerDir(root: string, id: string): string {
  return join(root, "containers", id);
}
