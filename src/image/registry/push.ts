// `tsd push`: blobs first (skipped when the registry has them, mounted from another
// repository of the same registry when one of ours had them, else uploaded: one PUT for small
// blobs, PATCH chunks with Content-Range for large ones), then the manifest under the tag.
import { imageEvent } from "../events";
import type { Database } from "bun:sqlite";
import { existsSync, readFileSync, statSync } from "node:fs";
import { TsdError } from "../../errors";
import { blobPath, hasBlob } from "../blobs";
import { OCI_MANIFEST, type Descriptor } from "../media";
import type { Progress } from "../progress";
import { canonical, familiarName, parseReference } from "../reference";
import { compressedLayerBlob } from "../layer";
import { manifestFor } from "../save";
import { findImage, imageManifests, recordRepoDigest, type ImageRecord } from "../store";
import { loadRegistryConfig } from "./config";
import { errorText, RegistryClient, RegistryError, type Endpoint } from "./client";

const DEFAULT_CHUNK = 32 << 20;

interface PushManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  blobs: Descriptor[];
}

/**
 * The manifest the image was pulled or loaded with, when all its blobs are here; else a new OCI
 * one naming a compressed blob for each layer: a layer built or committed here is stored as a
 * plain tar and gzipped now, on its way out (as `docker push` does; compressedLayerBlob).
 */
async function pushManifest(db: Database, root: string, image: ImageRecord): Promise<PushManifest> {
  for (const digest of imageManifests(db, image.id)) {
    if (!hasBlob(root, digest)) continue;
    const bytes = readFileSync(blobPath(root, digest));
    const m = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string; config?: Descriptor; layers?: Descriptor[] };
    if (!m.config || !m.layers || m.config.digest !== `sha256:${image.id}`) continue;
    const blobs = [...m.layers, m.config];
    if (blobs.every((b) => hasBlob(root, b.digest))) return { bytes, digest, mediaType: m.mediaType ?? OCI_MANIFEST, blobs };
  }
  const chosen = new Map<string, { digest: string; mediaType: string }>();
  for (const diffId of image.layers) {
    const blob = chosen.has(diffId) ? undefined : await compressedLayerBlob(db, root, diffId);
    if (blob) chosen.set(diffId, blob);
  }
  const built = manifestFor(db, root, image, chosen);
  return { bytes: built.bytes, digest: built.digest, mediaType: OCI_MANIFEST, blobs: [...built.layers, built.config] };
}

/** Other repositories on the same registry that hold an image with this blob: mount sources. */
function mountSources(db: Database, domain: string, repo: string, digest: string): string[] {
  const rows = db
    .query(
      `SELECT DISTINCT r.repository AS repository FROM repo_digests r
       JOIN images i ON i.id = r.image_id
       WHERE r.repository LIKE ? || '/%' AND ('sha256:' || i.id = ? OR EXISTS (
         SELECT 1 FROM layer_blobs b WHERE b.digest = ? AND instr(i.layers, b.diff_id) > 0))`,
    )
    .all(domain, digest, digest) as { repository: string }[];
  return rows.map((r) => r.repository.slice(domain.length + 1)).filter((r) => r !== repo);
}

export async function pushImage(db: Database, root: string, name: string, p: Progress): Promise<{ digest: string; size: number }> {
  const ref = parseReference(name);
  if (ref.digest) throw new TsdError(`cannot push by digest (${name}): push a tag`);
  const image = findImage(db, canonical(ref));
  if (!image) throw new TsdError(`no such image: ${familiarName(ref)}: tag an image with that name first (tsd tag IMAGE ${familiarName(ref)})`);
  const config = loadRegistryConfig();
  const chunk = Number(process.env.TSD_PUSH_CHUNK_SIZE) || DEFAULT_CHUNK;
  const client = new RegistryClient(ref.domain, { config });
  // Pushes go to the registry itself, never to a pull mirror.
  const ep = client.endpoints[client.endpoints.length - 1]!;
  await client.ping(ep);
  const m = await pushManifest(db, root, image);
  p.say(`The push refers to repository [${ref.domain}/${ref.path}]`);
  const repo = ref.path;
  const ids = m.blobs.map((b) => b.digest.slice(7, 19));
  const layers = m.blobs.slice(0, -1);
  for (let i = 0; i < layers.length; i++) p.layer(ids[i]!, "Preparing");
  for (let i = 0; i < m.blobs.length; i++) {
    const b = m.blobs[i]!;
    const isConfig = i === m.blobs.length - 1;
    const status = await pushBlob(client, ep, repo, b, root, chunk, mountSources(db, ref.domain, repo, b.digest), (s, cur, total) => {
      if (!isConfig) p.layer(ids[i]!, s, cur, total);
    });
    if (!isConfig) p.layer(ids[i]!, status);
  }
  const t = await client.request(ep, repo, `${repo}/manifests/${ref.tag}`, { method: "PUT", headers: { "content-type": m.mediaType }, body: m.bytes }, "pull,push");
  try {
    if (t.res.status !== 201 && !t.res.ok) throw new RegistryError(`the registry refused the manifest of ${familiarName(ref)}: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
    await t.res.body?.cancel().catch(() => {});
  } finally {
    t.done();
  }
  p.end();
  recordRepoDigest(db, `${ref.domain}/${ref.path}`, m.digest, image.id);
  p.say(`${ref.tag}: digest: ${m.digest} size: ${m.bytes.length}`);
  imageEvent(db, "push", familiarName(ref), familiarName(ref));
  return { digest: m.digest, size: m.bytes.length };
}

type Show = (status: string, cur?: number, total?: number) => void;

async function pushBlob(client: RegistryClient, ep: Endpoint, repo: string, desc: Descriptor, root: string, chunk: number, sources: string[], show: Show): Promise<string> {
  const head = await client.request(ep, repo, `${repo}/blobs/${desc.digest}`, { method: "HEAD" }, "pull,push");
  head.done();
  await head.res.body?.cancel().catch(() => {});
  if (head.res.ok) return "Layer already exists";
  const started = await startUpload(client, ep, repo, desc, sources);
  if (started.mounted) return `Mounted from ${started.mounted}`;
  const path = blobPath(root, desc.digest);
  if (!existsSync(path)) throw new TsdError(`blob ${desc.digest} is missing from the store: pull the image again`);
  const size = statSync(path).size;
  const file = Bun.file(path);
  let location = started.location;
  let offset = 0;
  // Large blobs go up in PATCH chunks, the rest (or all of a small one) with the closing PUT.
  while (size > chunk && offset < size) {
    const end = Math.min(size, offset + chunk);
    const headers = { "content-type": "application/octet-stream", "content-range": `${offset}-${end - 1}` };
    const t = await client.request(ep, repo, relative(ep, location), { method: "PATCH", headers, body: file.slice(offset, end) }, "pull,push");
    t.done();
    if (t.res.status !== 202) throw new RegistryError(`upload of ${desc.digest} to ${repo} failed at ${offset}: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
    await t.res.body?.cancel().catch(() => {});
    location = t.res.headers.get("location") ?? location;
    offset = end;
    show("Pushing", offset, size);
  }
  const rest = offset < size ? file.slice(offset, size) : new Uint8Array(0);
  const sep = location.includes("?") ? "&" : "?";
  const put = { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: rest };
  const t = await client.request(ep, repo, relative(ep, `${location}${sep}digest=${encodeURIComponent(desc.digest)}`), put, "pull,push");
  t.done();
  if (t.res.status !== 201) throw new RegistryError(`upload of ${desc.digest} to ${repo} was refused: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
  await t.res.body?.cancel().catch(() => {});
  show("Pushing", size, size);
  return "Pushed";
}

/** A cross-repository mount from one of `sources` when the registry allows it (the blob is
 *  there then), else a new upload session's Location. */
async function startUpload(client: RegistryClient, ep: Endpoint, repo: string, desc: Descriptor, sources: string[]): Promise<{ mounted?: string; location: string }> {
  for (const from of sources) {
    const t = await client.request(ep, repo, `${repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`, { method: "POST" }, "pull,push");
    t.done();
    await t.res.body?.cancel().catch(() => {});
    if (t.res.status === 201) return { mounted: from, location: "" };
    const location = t.res.headers.get("location");
    if (t.res.status === 202 && location) return { location };
  }
  const t = await client.request(ep, repo, `${repo}/blobs/uploads/`, { method: "POST" }, "pull,push");
  t.done();
  const text = t.res.status === 202 ? "" : await errorText(t.res);
  await t.res.body?.cancel().catch(() => {});
  if (t.res.status !== 202) throw new RegistryError(`the registry refused to start an upload to ${repo}: ${t.res.status} ${text}`, t.res.status);
  const location = t.res.headers.get("location");
  if (!location) throw new RegistryError(`the registry started an upload to ${repo} without a Location`);
  return { location };
}

/** The part of an upload Location after /v2/ (request() puts the endpoint base in front). */
function relative(ep: Endpoint, location: string): string {
  const u = new URL(location, `${ep.base}/`);
  if (u.origin !== new URL(ep.base).origin) throw new RegistryError(`the registry sent an upload to another host (${u.host}), which tsd does not follow`);
  if (!u.pathname.startsWith("/v2/")) throw new RegistryError(`the registry sent an upload location outside /v2/: ${u.pathname}`);
  return `${u.pathname.slice(4)}${u.search}`;
}
