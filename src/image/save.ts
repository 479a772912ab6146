// `tsd save`: images as a tar archive. The default is what `docker save` (Docker 25+) writes,
// both at once: manifest.json for `docker load` and an OCI image layout (oci-layout,
// index.json, blobs/sha256) for OCI tools; `--format oci-archive` writes the OCI layout
// only. Layers go out as the blobs they came in as (compressed or not; a built or committed
// layer as its plain tar), so the diffIDs in the config stay true and nothing is recompressed.
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { TsdError } from "../errors";
import { blobPath, hasBlob, sha256Hex } from "./blobs";
import { DOCKER_LAYER_GZIP, OCI_CONFIG, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, OCI_MANIFEST, type Descriptor } from "./media";
import { canonical, familiarName, type Reference } from "./reference";
import { layerBlobs, type ImageRecord } from "./store";
import { TarWriter } from "./tar";

export interface SaveItem {
  image: ImageRecord;
  /** The tag the user named (docker saves RepoTags only for names given as tags). */
  ref?: Reference;
}

export interface BuiltManifest {
  bytes: Uint8Array;
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** An OCI manifest for a stored image, from its config blob and the layers' stored blobs (the
 *  first recorded of each, or the one `chosen` names for its diffID). */
export function manifestFor(db: Database, root: string, image: ImageRecord, chosen?: Map<string, { digest: string; mediaType: string }>): BuiltManifest {
  const configDigest = `sha256:${image.id}`;
  if (!hasBlob(root, configDigest)) throw new TsdError(`image ${image.id.slice(0, 12)} has no stored config blob: pull or load it again`);
  const config = { mediaType: OCI_CONFIG, digest: configDigest, size: statSync(blobPath(root, configDigest)).size };
  const layers = image.layers.map((diffId) => {
    const blob = chosen?.get(diffId) ?? layerBlobs(db, diffId).find((b) => hasBlob(root, b.digest));
    if (!blob) throw new TsdError(`layer ${diffId.slice(7, 19)} of image ${image.id.slice(0, 12)} has no stored blob (an image from an older tsd): pull or load it again`);
    return { mediaType: ociLayerType(blob.mediaType), digest: blob.digest, size: statSync(blobPath(root, blob.digest)).size };
  });
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  return { bytes, digest: `sha256:${sha256Hex(bytes)}`, config, layers };
}

function ociLayerType(t: string): string {
  if (t === DOCKER_LAYER_GZIP || t === OCI_LAYER_GZIP || t.endsWith("+gzip") || t.endsWith(".gzip")) return OCI_LAYER_GZIP;
  if (t.endsWith("+zstd")) return OCI_LAYER_ZSTD;
  return OCI_LAYER;
}

export function writeArchive(db: Database, root: string, items: SaveItem[], format: "docker" | "oci", tw: TarWriter): void {
  for (const it of new Set(items.map((i) => i.image.id))) imageEvent(db, "save", `sha256:${it}`, `sha256:${it}`);
  const mtime = 0;
  const written = new Set<string>();
  const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const index: { schemaVersion: 2; mediaType: string; manifests: Descriptor[] } = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [],
  };
  const dirs = ["blobs/", "blobs/sha256/"];
  for (const d of dirs) tw.header({ name: d, type: "dir", mode: 0o755, uid: 0, gid: 0, mtime });
  const blob = (digest: string, bytes?: Uint8Array) => {
    if (written.has(digest)) return;
    written.add(digest);
    const name = `blobs/sha256/${digest.slice(7)}`;
    if (bytes) return tw.addBytes(name, bytes, 0o644, mtime);
    const path = blobPath(root, digest);
    const size = statSync(path).size;
    tw.header({ name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime, size });
    tw.addFileData(path, size);
  };
  for (const item of items) {
    const m = manifestFor(db, root, item.image);
    blob(m.config.digest);
    for (const l of m.layers) blob(l.digest);
    blob(m.digest, m.bytes);
    const desc: Descriptor = { mediaType: OCI_MANIFEST, digest: m.digest, size: m.bytes.length };
    if (item.ref) {
      desc.annotations = {
        "io.containerd.image.name": canonical(item.ref),
        // The tag alone, as umoci, skopeo (oci-archive:FILE:TAG) and docker write it.
        "org.opencontainers.image.ref.name": item.ref.tag ?? "latest",
      };
    }
    index.manifests.push(desc);
    dockerManifest.push({
      Config: `blobs/sha256/${item.image.id}`,
      RepoTags: item.ref ? [familiarName(item.ref)] : [],
      Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
    });
  }
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  tw.addBytes("index.json", json(index), 0o644, mtime);
  tw.addBytes("oci-layout", json({ imageLayoutVersion: "1.0.0" }), 0o644, mtime);
  if (format === "docker") tw.addBytes("manifest.json", json(dockerManifest), 0o644, mtime);
  tw.end();
}
