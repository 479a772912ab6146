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
import { takeLease, type Lease } from "./lease";
import { choosePlatform, DOCKER_LIST, hostArchitecture, LAYER_MEDIA_TYPES, OCI_INDEX, platformString, type Descriptor } from "./media";
import { join, normalize } from "node:path";
import { unpackArchive } from "./unpack-child";
import { onInterrupt } from "../interrupt";
import { makeWorkDir, sweepStaleWorkDirs } from "../store/workdir";
import { TsdError } from "../errors";
import { commitLayerStaging, hasLayer, layerBlobs, layerSize, putImage, recordImageManifest, recordLayerBlob, removeStaleStaging, tagImage, type ImageConfig } from "./store";
import { LayerUnpack, streamLayer, unpackerMessage } from "./layer-unpack";
import { Slots } from "../io";
import { LayerStreamError } from "./layer-stream";
import { DETECT_LEN, detectFormat } from "./stream-checks";
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
  removeStaleStaging(root);
  const work = makeWorkDir(root, "load");
  // The archive is spooled there (docker save writes manifest.json last): removed however
  // the command ends, a signal too (then the unpacking child is killed first).
  const child = unpackArchive(root, source, work);
  // Layers unpacking into staging directories of the store (stageLayers).
  const units = new Set<LayerUnpack>();
  let lease: Lease | undefined;
  const forget = onInterrupt(() => {
    child.stop();
    for (const u of units) u.abandon();
    rmSync(work, { recursive: true, force: true });
    lease?.release();
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
      lease = takeLease(root);
      try {
        for (const img of images) out.push(await storeImage(db, root, img, units));
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
    for (const u of units) await u.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Layers unpacked at once (each a child process and an inflate on Bun's thread pool), as pull. */
const PARALLEL_LAYERS = 3;

async function storeImage(db: Database, root: string, img: ArchiveImage, units: Set<LayerUnpack>): Promise<LoadedImage> {
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
  const staged = await stageLayers(db, root, img.layers, diffIds, what, units);
  // Every layer is whole and right: only now does any of them join the store.
  let size = 0;
  for (const s of staged) size += s.staging ? commitLayerStaging(db, root, s.staging, s.diffId, s.size) : s.size;
  // The layer's archive bytes are kept as a blob, so save and push send what was loaded.
  for (const s of staged) if (!hasBlob(root, s.digest)) adoptBlob(root, s.digest, s.path);
  putBlob(root, `sha256:${id}`, raw);
  if (img.manifest && existsSync(img.manifest.path)) putBlob(root, img.manifest.digest, readFileSync(img.manifest.path));
  db.transaction(() => {
    putImage(db, id, config, size);
    for (const n of img.names) tagImage(db, n, id);
    for (const s of staged) recordLayerBlob(db, s.diffId, s.digest, s.mediaType, s.bytes);
    if (img.manifest) recordImageManifest(db, id, img.manifest.digest);
    imageEvent(db, "load", `sha256:${id}`, `sha256:${id}`);
  }).immediate();
  return { id, names: img.names };
}

/** A layer of the archive checked and, unless the store has it already, unpacked into a
 *  staging directory (`staging`) that the caller commits. */
interface StagedLayer {
  path: string;
  diffId: string;
  digest: string;
  mediaType: string;
  /** The layer file's bytes; the unpacked size. */
  bytes: number;
  size: number;
  staging?: string;
}

/**
 * Every layer of an image checked and unpacked, PARALLEL_LAYERS at once, each into a staging
 * directory of its own unit in `units`. A layer named twice is unpacked once. When one fails,
 * the ones not begun do not begin, the running ones end, and its error is thrown: the caller
 * stops every unit (no staging directory is left).
 */
async function stageLayers(db: Database, root: string, layers: ArchiveImage["layers"], diffIds: string[], what: string, units: Set<LayerUnpack>): Promise<StagedLayer[]> {
  const slots = new Slots(PARALLEL_LAYERS);
  const jobs = new Map<string, Promise<StagedLayer>>();
  let failure: { error: unknown } | undefined;
  const all = layers.map((layer, i) => {
    const diffId = diffIds[i]!;
    const key = `${layer.path}\0${diffId}`;
    let job = jobs.get(key);
    if (!job) {
      job = slots.with(async () => {
        if (failure) throw failure.error;
        try {
          return await stageLayer(db, root, layer, diffId, what, units);
        } catch (e) {
          // Set before the slot frees: the next layer in line sees it and does not begin.
          failure ??= { error: e };
          throw e;
        }
      });
      jobs.set(key, job);
    }
    return job;
  });
  const settled = await Promise.allSettled(all);
  if (failure) throw failure.error;
  return settled.map((r) => (r as PromiseFulfilledResult<StagedLayer>).value);
}

async function stageLayer(db: Database, root: string, layer: ArchiveImage["layers"][number], diffId: string, what: string, units: Set<LayerUnpack>): Promise<StagedLayer> {
  let st;
  try {
    st = statSync(layer.path);
  } catch {
    throw new TsdError(`${what}: the archive lacks layer ${layer.name}`);
  }
  if (!st.isFile()) throw new TsdError(`${what}: layer ${layer.name} is not a file in the archive`);
  const checkDigest = (digest: string) => {
    if (layer.digest !== undefined && layer.digest !== digest) throw new TsdError(`${what}: layer ${layer.digest} has content ${digest}: the archive is corrupt`);
  };
  // A stored layer with this diff_id stands for the file only when the file's digest is known
  // to unpack to it: otherwise the file is unpacked to prove it (a bogus layer cannot claim it).
  const known = layerSize(db, diffId);
  if (known !== undefined && hasLayer(db, root, diffId)) {
    const { digest, size: bytes } = await fileDigest(layer.path);
    checkDigest(digest);
    if (digest === diffId || layerBlobs(db, diffId).some((b) => b.digest === digest)) {
      return { path: layer.path, diffId, digest, mediaType: layerMediaType(layer.path), bytes, size: known };
    }
  }
  const u = new LayerUnpack(root);
  units.add(u);
  let r;
  try {
    r = await streamLayer(u, Bun.file(layer.path).stream());
  } catch (e) {
    if (e instanceof LayerStreamError) throw new TsdError(`${what}: layer ${layer.name}: ${e.message}: the archive is corrupt`);
    if (e instanceof TsdError) throw new TsdError(`${what}: layer ${layer.name}: ${unpackerMessage(e.message)}`, e.exitCode);
    throw e;
  }
  checkDigest(r.digest);
  if (r.diffId !== diffId) throw new TsdError(`layer content ${r.diffId} does not match the image config's diff_id ${diffId}: the archive is corrupt`);
  return { path: layer.path, diffId, digest: r.digest, mediaType: LAYER_MEDIA_TYPES[r.format], bytes: r.bytes, size: r.size, staging: u.staging! };
}

/** The OCI media type of a layer file, by its magic number. */
function layerMediaType(path: string): string {
  const fd = openSync(path, "r");
  const b = new Uint8Array(DETECT_LEN);
  let n;
  try {
    n = readSync(fd, b, 0, DETECT_LEN, 0);
  } finally {
    closeSync(fd);
  }
  return LAYER_MEDIA_TYPES[detectFormat(b.subarray(0, n))];
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
