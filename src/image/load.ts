// `tsd load`: a `docker save` archive or an OCI image layout (as a tar), into the store.
// The archive streams (from stdin or a file, through a `tsd image unpack --archive` child so a
// signal is acted on at once) into a scratch dir of the root's tmp, taking
// only files, directories and links (zig: UNPACK_ARCHIVE refuses fifos and device nodes,
// which reading back would hang on or read forever); its JSON documents are size-limited
// and checked before use.
import { imageEvent } from "./events";
import type { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, rmSync, statSync } from "node:fs";
import { adoptBlob, fileDigest, hasBlob, putBlob } from "./blobs";
import { takeLease } from "./lease";
import { choosePlatform, DOCKER_LIST, hostArchitecture, OCI_INDEX, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, platformString, type Descriptor } from "./media";
import { join, normalize } from "node:path";
import { unpackArchive } from "./unpack-child";
import { onInterrupt } from "../interrupt";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { TsdError } from "../errors";
import { importLayer, putImage, recordImageManifest, recordLayerBlob, tagImage, type ImageConfig } from "./store";
import { familiarName, parseReference, type Reference } from "./reference";
import { imageConfigProblem, jsonSizeProblem, parseDockerManifest, parseImageManifest, parseIndexManifests } from "./archive-check";

/** An image found in an archive: its config blob and layer tars, in the archive's tree. */
interface ArchiveImage {
  configPath: string;
  /** The config's name in the archive, for messages. */
  configName: string;
  layers: { path: string; name: string; digest?: string }[];
  names: Reference[];
  manifest?: { digest: string; path: string };
}

export interface LoadedImage {
  id: string;
  names: Reference[];
}

/** Loads the archive at `source`, a file path or "-" for stdin (a pipe or a file). */
export async function loadArchive(db: Database, root: string, source: string): Promise<LoadedImage[]> {
  const label = source === "-" ? "stdin" : `"${source}"`;
  if (source !== "-") {
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new TsdError(`cannot load ${label}: no such file`);
    }
    if (st.isDirectory()) throw new TsdError(`cannot load ${label}: it is a directory (an OCI layout directory must be a tar: tar -C DIR -c . | tsd load)`);
  }
  sweepStaleWorkDirs(root);
  const work = makeWorkDir(root, "load");
  // The archive is spooled there (docker save writes manifest.json last): removed however
  // the command ends, a signal too (then the unpacking child is killed first).
  const child = unpackArchive(root, source, work);
  const forget = onInterrupt(() => {
    child.stop();
    rmSync(work, { recursive: true, force: true });
  });
  try {
    try {
      const { size } = await child.done;
      if (size === 0) throw new TsdError(source === "-" ? "stdin was empty: pipe an archive in or give -i FILE" : "the file is empty");
      const images = existsSync(join(work, "manifest.json"))
        ? dockerArchiveImages(work)
        : existsSync(join(work, "index.json"))
          ? ociLayoutImages(work)
          : undefined;
      if (!images) throw new TsdError("not a docker save archive or an OCI image layout (no manifest.json or index.json)");
      if (images.length === 0) throw new TsdError("the archive holds no image");
      const out: LoadedImage[] = [];
      const lease = takeLease(root);
      try {
        for (const img of images) out.push(await storeImage(db, root, img));
      } finally {
        lease.release();
      }
      return out;
    } catch (e) {
      if (e instanceof TsdError) throw new TsdError(`cannot load ${label}: ${e.message}`, e.exitCode);
      throw e;
    }
  } finally {
    forget();
    child.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function storeImage(db: Database, root: string, img: ArchiveImage): Promise<LoadedImage> {
  const raw = readLimited(img.configPath, img.configName);
  const id = sha256Hex(raw);
  const what = img.names[0] ? `image ${familiarName(img.names[0])}` : `image ${id.slice(0, 12)}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch (e) {
    throw new TsdError(`${what}: its config ${img.configName} is not JSON (${(e as Error).message})`);
  }
  const problem = imageConfigProblem(parsed);
  if (problem) throw new TsdError(`${what}: ${problem} (${img.configName})`);
  const config = parsed as ImageConfig;
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== img.layers.length) {
    throw new TsdError(`${what}: the manifest lists ${img.layers.length} layers but the config ${diffIds.length}: the archive is corrupt`);
  }
  let size = 0;
  const blobs: { diffId: string; digest: string; mediaType: string; size: number }[] = [];
  for (let i = 0; i < img.layers.length; i++) {
    const layer = img.layers[i]!;
    let st;
    try {
      st = statSync(layer.path);
    } catch {
      throw new TsdError(`${what}: the archive lacks layer ${layer.name}`);
    }
    if (!st.isFile()) throw new TsdError(`${what}: layer ${layer.name} is not a file in the archive`);
    const { digest, size: n } = await fileDigest(layer.path);
    if (layer.digest !== undefined && layer.digest !== digest) throw new TsdError(`${what}: layer ${layer.digest} has content ${digest}: the archive is corrupt`);
    // The file's digest decides whether a stored layer with this diff_id may stand for it.
    size += importLayer(db, root, layer.path, diffIds[i]!, digest);
    // The layer's archive bytes are kept as a blob, so save and push send what was loaded.
    const mediaType = layerMediaType(layer.path);
    if (!hasBlob(root, digest)) adoptBlob(root, digest, layer.path);
    blobs.push({ diffId: diffIds[i]!, digest, mediaType, size: n });
  }
  putBlob(root, `sha256:${id}`, raw);
  if (img.manifest && existsSync(img.manifest.path)) putBlob(root, img.manifest.digest, readFileSync(img.manifest.path));
  db.transaction(() => {
    putImage(db, id, config, size);
    for (const n of img.names) tagImage(db, n, id);
    for (const b of blobs) recordLayerBlob(db, b.diffId, b.digest, b.mediaType, b.size);
    if (img.manifest) recordImageManifest(db, id, img.manifest.digest);
    imageEvent(db, "load", `sha256:${id}`, `sha256:${id}`);
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

/** `docker save`: manifest.json is a list of {Config, RepoTags, Layers} with paths. */
function dockerArchiveImages(dir: string): ArchiveImage[] {
  const manifest = parseDockerManifest(readJson(dir, "manifest.json"));
  if (typeof manifest === "string") throw new TsdError(manifest);
  return manifest.map((m) => ({
    configPath: inside(dir, m.Config),
    configName: m.Config,
    layers: m.Layers.map((l) => ({ path: inside(dir, l), name: l })),
    names: m.RepoTags.map((t) => {
      try {
        return parseReference(t);
      } catch (e) {
        throw new TsdError(`manifest.json names the image "${t}": ${(e as Error).message}`);
      }
    }),
  }));
}

/** An OCI image layout: index.json → (index →)* manifest → config + layers, all blobs. */
function ociLayoutImages(dir: string): ArchiveImage[] {
  const index = parseIndexManifests(readJson(dir, "index.json"), "index.json");
  if (typeof index === "string") throw new TsdError(index);
  const out: ArchiveImage[] = [];
  for (const desc of index) {
    const manifestDesc = resolvePlatform(dir, desc, 0);
    const manifest = parseImageManifest(readBlobJson(dir, manifestDesc), `blob ${manifestDesc.digest}`);
    if (typeof manifest === "string") throw new TsdError(manifest);
    const configPath = blobPath(dir, manifest.config.digest);
    verifyBlob(configPath, manifest.config.digest);
    const refName = desc.annotations?.["io.containerd.image.name"] ?? desc.annotations?.["org.opencontainers.image.ref.name"];
    out.push({
      configPath,
      configName: manifest.config.digest,
      layers: manifest.layers.map((l) => ({ path: blobPath(dir, l.digest), name: l.digest, digest: l.digest })),
      names: namesFromAnnotation(typeof refName === "string" ? refName : undefined),
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
  const manifests = parseIndexManifests(readBlobJson(dir, desc), `index ${desc.digest}`);
  if (typeof manifests === "string") throw new TsdError(manifests);
  const chosen = choosePlatform(manifests, { os: "linux", architecture: hostArchitecture() });
  if (!chosen) {
    const have = manifests.map((m) => platformString(m.platform)).join(", ");
    throw new TsdError(`no image for linux/${hostArchitecture()} in the index (it has ${have || "none"})`);
  }
  return resolvePlatform(dir, chosen, depth + 1);
}

function readBlobJson(dir: string, desc: Descriptor): unknown {
  const path = blobPath(dir, desc.digest);
  const raw = verifyBlob(path, desc.digest);
  return parseJson(raw, `blob ${desc.digest}`);
}

function blobPath(dir: string, digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new TsdError(`unsupported or malformed digest "${digest.slice(0, 80)}" (only sha256 is supported)`);
  return inside(dir, join("blobs", "sha256", m[1]!));
}

/** A small blob (a manifest, index or config) read whole and checked against its digest. */
function verifyBlob(path: string, digest: string): Uint8Array {
  if (!existsSync(path)) throw new TsdError(`the archive lacks blob ${digest}`);
  const raw = readLimited(path, `blob ${digest}`);
  const got = `sha256:${sha256Hex(raw)}`;
  if (got !== digest) throw new TsdError(`blob ${digest} has content ${got}: the archive is corrupt`);
  return raw;
}

function sha256Hex(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** A JSON document of the archive: a regular file of at most MAX_ARCHIVE_JSON bytes. */
function readLimited(path: string, name: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TsdError(`the archive lacks ${name}`);
  }
  if (!st.isFile()) throw new TsdError(`${name} is not a file in the archive`);
  const tooBig = jsonSizeProblem(st.size);
  if (tooBig) throw new TsdError(`${name} is ${tooBig}: refused`);
  return readFileSync(path);
}

function readJson(dir: string, name: string): unknown {
  return parseJson(readLimited(inside(dir, name), name), name);
}

function parseJson(raw: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(raw));
  } catch (e) {
    throw new TsdError(`${name} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * A path named inside the archive, refused if it climbs out of it, by name or through a
 * symlink (docker save before 25 links repeated layers to one another; a hostile archive
 * could link manifest.json or a layer to a host file). A missing path is returned as named.
 */
function inside(dir: string, rel: string): string {
  const n = normalize(rel);
  if (n.startsWith("..") || n.startsWith("/")) throw new TsdError(`the archive names a path outside itself: "${rel.slice(0, 200)}"`);
  let real: string;
  try {
    real = realpathSync(join(dir, n));
  } catch {
    return join(dir, n);
  }
  const base = realpathSync(dir);
  if (real !== base && !real.startsWith(`${base}/`)) throw new TsdError(`the archive's "${rel.slice(0, 200)}" is a symlink out of the archive: refused`);
  return real;
}
