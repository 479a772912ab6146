// `tsd load`: a `docker save` archive or an OCI image layout (as a tar), into the store.
import type { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, realpathSync, rmSync } from "node:fs";
import { adoptBlob, fileDigest, hasBlob, putBlob } from "./blobs";
import { takeLease } from "./lease";
import { choosePlatform, DOCKER_LIST, hostArchitecture, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, platformString, type Descriptor } from "./media";
import { join, normalize } from "node:path";
import { unpack } from "../native/ffi";
import { rootPaths } from "../store/paths";
import { TsdError } from "../errors";
import { importLayer, putImage, recordImageManifest, recordLayerBlob, tagImage, type ImageConfig } from "./store";
import { parseReference, type Reference } from "./reference";

/** An image found in an archive: its config blob and layer tars, in the archive's tree. */
interface ArchiveImage {
  configPath: string;
  layerPaths: string[];
  names: Reference[];
  manifest?: { digest: string; path: string };
}

export interface LoadedImage {
  id: string;
  names: Reference[];
}

export async function loadArchive(db: Database, root: string, file: string): Promise<LoadedImage[]> {
  if (!existsSync(file)) throw new TsdError(`cannot load "${file}": no such file`);
  const tmp = rootPaths(root).tmp;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(tmp, "load-"));
  try {
    unpack(file, work, { layer: false });
    const images = existsSync(join(work, "manifest.json"))
      ? dockerArchiveImages(work)
      : existsSync(join(work, "index.json"))
        ? ociLayoutImages(work)
        : undefined;
    if (!images) throw new TsdError(`cannot load "${file}": not a docker save archive or an OCI image layout (no manifest.json or index.json)`);
    if (images.length === 0) throw new TsdError(`cannot load "${file}": the archive holds no image`);
    const out: LoadedImage[] = [];
    const lease = takeLease(root);
    try {
      for (const img of images) out.push(await storeImage(db, root, img));
    } finally {
      lease.release();
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `tsd load < archive.tar`: the stream is spooled to the root's tmp dir, then loaded. */
export async function loadFromStdin(db: Database, root: string): Promise<LoadedImage[]> {
  const tmp = rootPaths(root).tmp;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(tmp, "stdin-"));
  try {
    const file = join(dir, "archive.tar");
    const bytes = await Bun.write(file, Bun.stdin);
    if (bytes === 0) throw new TsdError("tsd load: stdin was empty: pipe an archive in or give -i FILE");
    return await loadArchive(db, root, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function storeImage(db: Database, root: string, img: ArchiveImage): Promise<LoadedImage> {
  const raw = readFileSync(img.configPath);
  const id = sha256Hex(raw);
  const config = parseConfig(raw);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== img.layerPaths.length) {
    throw new TsdError(`image ${id.slice(0, 12)}: the manifest lists ${img.layerPaths.length} layers but the config ${diffIds.length}: the archive is corrupt`);
  }
  let size = 0;
  const blobs: { diffId: string; digest: string; mediaType: string; size: number }[] = [];
  for (let i = 0; i < img.layerPaths.length; i++) {
    const p = img.layerPaths[i]!;
    size += importLayer(db, root, p, diffIds[i]!);
    // The layer's archive bytes are kept as a blob, so save and push send what was loaded.
    if (existsSync(p)) {
      const { digest, size: n } = await fileDigest(p);
      const mediaType = layerMediaType(p);
      if (!hasBlob(root, digest)) adoptBlob(root, digest, p);
      blobs.push({ diffId: diffIds[i]!, digest, mediaType, size: n });
    }
  }
  putBlob(root, `sha256:${id}`, raw);
  if (img.manifest && existsSync(img.manifest.path)) putBlob(root, img.manifest.digest, readFileSync(img.manifest.path));
  db.transaction(() => {
    putImage(db, id, config, size);
    for (const n of img.names) tagImage(db, n, id);
    for (const b of blobs) recordLayerBlob(db, b.diffId, b.digest, b.mediaType, b.size);
    if (img.manifest) recordImageManifest(db, id, img.manifest.digest);
  }).immediate();
  return { id, names: img.names };
}

/** The OCI media type of a layer file, by its magic number. */
function layerMediaType(path: string): string {
  const fd = openSync(path, "r");
  const b = new Uint8Array(4);
  try {
    readSync(fd, b, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return OCI_LAYER_GZIP;
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return OCI_LAYER_ZSTD;
  return OCI_LAYER;
}

function parseConfig(raw: Uint8Array): ImageConfig {
  const config = JSON.parse(new TextDecoder().decode(raw)) as ImageConfig;
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new TsdError("the image config has no rootfs.diff_ids: not an image config");
  return config;
}

/** `docker save`: manifest.json is a list of {Config, RepoTags, Layers} with paths. */
function dockerArchiveImages(dir: string): ArchiveImage[] {
  const manifest = readJson(inside(dir, "manifest.json")) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  if (!Array.isArray(manifest)) throw new TsdError("manifest.json is not a list: not a docker save archive");
  return manifest.map((m) => ({
    configPath: inside(dir, m.Config),
    layerPaths: m.Layers.map((l) => inside(dir, l)),
    names: (m.RepoTags ?? []).map((t) => parseReference(t)),
  }));
}

/** An OCI image layout: index.json → (index →)* manifest → config + layers, all blobs. */
function ociLayoutImages(dir: string): ArchiveImage[] {
  const index = readJson(inside(dir, "index.json")) as { manifests?: Descriptor[] };
  const out: ArchiveImage[] = [];
  for (const desc of index.manifests ?? []) {
    const manifestDesc = resolvePlatform(dir, desc, 0);
    const manifest = readBlobJson(dir, manifestDesc) as { config: Descriptor; layers: Descriptor[] };
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new TsdError(`blob ${manifestDesc.digest} is not an image manifest`);
    const configPath = blobPath(dir, manifest.config.digest);
    verifyBlob(configPath, manifest.config.digest);
    const refName = desc.annotations?.["io.containerd.image.name"] ?? desc.annotations?.["org.opencontainers.image.ref.name"];
    out.push({
      configPath,
      layerPaths: manifest.layers.map((l) => blobPath(dir, l.digest)),
      names: namesFromAnnotation(refName),
      manifest: { digest: manifestDesc.digest, path: blobPath(dir, manifestDesc.digest) },
    });
  }
  return out;
}

/** A bare tag ("latest", as umoci writes) names no repository, so the image stays untagged. */
export function namesFromAnnotation(refName: string | undefined): Reference[] {
  if (!refName || /^[\w][\w.-]{0,127}$/.test(refName)) return [];
  try {
    return [parseReference(refName)];
  } catch {
    return [];
  }
}

function resolvePlatform(dir: string, desc: Descriptor, depth: number): Descriptor {
  if (depth > 4) throw new TsdError("image index nesting deeper than 4 levels");
  if (desc.mediaType !== OCI_INDEX && desc.mediaType !== DOCKER_LIST) return desc;
  const index = readBlobJson(dir, desc) as { manifests: Descriptor[] };
  const chosen = choosePlatform(index.manifests, { os: "linux", architecture: hostArchitecture() });
  if (!chosen) {
    const have = index.manifests.map((m) => platformString(m.platform)).join(", ");
    throw new TsdError(`no image for linux/${hostArchitecture()} in the index (it has ${have})`);
  }
  return resolvePlatform(dir, chosen, depth + 1);
}

function readBlobJson(dir: string, desc: Descriptor): unknown {
  const path = blobPath(dir, desc.digest);
  verifyBlob(path, desc.digest);
  return readJson(path);
}

function blobPath(dir: string, digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new TsdError(`unsupported or malformed digest "${digest}" (only sha256 is supported)`);
  return inside(dir, join("blobs", "sha256", m[1]!));
}

function verifyBlob(path: string, digest: string): void {
  if (!existsSync(path)) throw new TsdError(`the archive lacks blob ${digest}`);
  const got = `sha256:${sha256Hex(readFileSync(path))}`;
  if (got !== digest) throw new TsdError(`blob ${digest} has content ${got}: the archive is corrupt`);
}

function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new TsdError(`cannot read ${path.split("/").slice(-2).join("/")}: ${(e as Error).message}`);
  }
}

/**
 * A path named inside the archive, refused if it climbs out of it, by name or through a
 * symlink (docker save links repeated layers to one another; a hostile archive could link
 * manifest.json or a layer to a host file). A missing path is returned as named.
 */
function inside(dir: string, rel: string): string {
  const n = normalize(rel);
  if (n.startsWith("..") || n.startsWith("/")) throw new TsdError(`the archive names a path outside itself: "${rel}"`);
  let real: string;
  try {
    real = realpathSync(join(dir, n));
  } catch {
    return join(dir, n);
  }
  const base = realpathSync(dir);
  if (real !== base && !real.startsWith(`${base}/`)) throw new TsdError(`the archive's "${rel}" is a symlink out of the archive: refused`);
  return real;
}
