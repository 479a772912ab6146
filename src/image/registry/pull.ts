// `tsd pull`: manifest (through an index to the platform's manifest), config, then the
// layers: downloaded in parallel (3 at a time, as Docker), each verified into the blob store,
// and unpacked in order as they arrive. Layers already unpacked are not downloaded again.
import { imageEvent } from "../events";
import type { Database } from "bun:sqlite";
import { TsdError } from "../../errors";
import { rmSync } from "node:fs";
import { blobPath, hasBlob, openPartial, putBlob, removeStaleLocks, sha256Hex, adoptBlob, type PartialDownload } from "../blobs";
import type { UnpackChild } from "../unpack-child";
import { LayerStreamError } from "../layer-stream";
import { LayerUnpack, UnpackFeedError } from "../layer-unpack";
import { Slots } from "../../io";
import { takeLease } from "../lease";
import {
  choosePlatform,
  DOCKER_SCHEMA1,
  isIndex,
  MANIFEST_ACCEPT,
  parsePlatform,
  platformString,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from "../media";
import type { Progress } from "../progress";
import { canonical, familiarName, parseReference, type Reference } from "../reference";
import { commitLayerStaging, findImage, hasLayer, layerBlobs, layerSize, putImage, removeStaleStaging, recordImageManifest, recordLayerBlob, recordRepoDigest, tagImage, type ImageConfig } from "../store";
import { loadRegistryConfig } from "./config";
import { errorText, RegistryClient, RegistryError, type Endpoint } from "./client";

const PARALLEL_DOWNLOADS = 3;
const MAX_MANIFEST_BYTES = 4 << 20;

export interface PullOptions {
  platform?: string;
  progress: Progress;
}

export interface PullResult {
  id: string;
  ref: Reference;
  digest: string;
  /** False when the image was already there with every layer. */
  downloaded: boolean;
}

export async function pullImage(db: Database, root: string, name: string, opts: PullOptions): Promise<PullResult> {
  const ref = parseReference(name);
  const platform = parsePlatform(opts.platform);
  const client = new RegistryClient(ref.domain, { config: loadRegistryConfig() });
  const p = opts.progress;
  const last = name.slice(name.lastIndexOf("/") + 1);
  if (!last.includes(":") && !name.includes("@")) p.say("Using default tag: latest");
  p.say(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}`);

  const lease = takeLease(root);
  try {
    return await pullWith(db, root, ref, platform, client, p);
  } finally {
    lease.release();
  }
}

async function pullWith(
  db: Database,
  root: string,
  ref: Reference,
  platform: Platform,
  client: RegistryClient,
  p: Progress,
): Promise<PullResult> {
  return client.withEndpoint(async (ep) => {
    const { top, manifest, m } = await resolveManifest(client, ep, ref, platform, root);
    const config = await fetchConfig(client, ep, ref, m, root);
    const id = m.config.digest.slice("sha256:".length);
    const before = ref.tag ? findImage(db, canonical(ref)) : undefined;
    const layers = await pullLayers({ client, ep, repo: ref.path, db, root, p }, m, config);
    p.end();
    db.transaction(() => {
      putImage(db, id, config, layers.size);
      if (ref.tag) tagImage(db, ref, id);
      recordRepoDigest(db, `${ref.domain}/${ref.path}`, top.digest, id);
      recordImageManifest(db, id, manifest.digest);
      imageEvent(db, "pull", familiarName(ref), familiarName(ref));
    }).immediate();
    const downloaded = layers.downloaded || before?.id !== id;
    p.say(`Digest: ${top.digest}`);
    p.say(downloaded ? `Status: Downloaded newer image for ${familiarName(ref)}` : `Status: Image is up to date for ${familiarName(ref)}`);
    return { id, ref, digest: top.digest, downloaded };
  });
}

/** The reference's manifest, through an index to the platform's one; both kept as blobs. */
async function resolveManifest(client: RegistryClient, ep: Endpoint, ref: Reference, platform: Platform, root: string) {
  const top = await fetchManifest(client, ep, ref.path, ref.digest ?? ref.tag!, ref.digest);
  let manifest = top;
  if (isIndex(top.mediaType, top.body)) {
    const index = top.body as unknown as ImageIndex;
    const chosen = choosePlatform(index.manifests ?? [], platform);
    if (!chosen) {
      const have = (index.manifests ?? []).map((m) => platformString(m.platform)).join(", ");
      throw new TsdError(`no matching manifest for ${platformString(platform)} in the manifest list entries of ${familiarName(ref)} (it has ${have}): choose one with --platform`);
    }
    manifest = await fetchManifest(client, ep, ref.path, chosen.digest, chosen.digest);
    putBlob(root, top.digest, top.bytes);
  }
  if (manifest.mediaType === DOCKER_SCHEMA1 || (manifest.body as { schemaVersion?: number }).schemaVersion === 1) {
    throw new TsdError(`${familiarName(ref)} is a Docker schema 1 image, which tsd does not pull: push it again with a current client`);
  }
  const m = manifest.body as unknown as ImageManifest;
  if (!m.config?.digest || !Array.isArray(m.layers)) throw new TsdError(`the manifest of ${familiarName(ref)} is not an image manifest`);
  putBlob(root, manifest.digest, manifest.bytes);
  return { top, manifest, m };
}

/** The image config, stored as its blob and checked against the manifest's layer count. */
async function fetchConfig(client: RegistryClient, ep: Endpoint, ref: Reference, m: ImageManifest, root: string): Promise<ImageConfig> {
  const configBytes = await fetchSmallBlob(client, ep, ref.path, m.config);
  putBlob(root, m.config.digest, configBytes);
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
  if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new TsdError(`the config of ${familiarName(ref)} has no rootfs.diff_ids`);
  if (config.rootfs.diff_ids.length !== m.layers.length) {
    throw new TsdError(`${familiarName(ref)}: the manifest has ${m.layers.length} layers but the config ${config.rootfs.diff_ids.length}: the image is corrupt`);
  }
  return config;
}

type PullContext = Omit<LayerContext, "desc" | "diffId" | "lid" | "children">;

/**
 * Every layer not already here downloads and unpacks at once (3 at a time, as Docker
 * downloads), each in its own unpack process; layers are separate directories, so their
 * order does not matter. A layer named twice in the manifest is pulled once.
 */
async function pullLayers(base: PullContext, m: ImageManifest, config: ImageConfig): Promise<{ size: number; downloaded: boolean }> {
  const { db, root, p } = base;
  const diffIds = config.rootfs.diff_ids;
  const ids = m.layers.map((l) => l.digest.slice(7, 19));
  // A stored layer stands for a manifest's layer only when its blob digest is known to
  // unpack to that diff_id (as Docker keeps digest -> diffID): otherwise a manifest could
  // name any blob, bogus or not, for a diff_id we happen to have. Unknown pairs download
  // and are checked (digest and diff_id) like a new layer.
  const present = diffIds.map((d, i) => hasLayer(db, root, d) && layerBlobs(db, d).some((b) => b.digest === m.layers[i]!.digest));
  ids.forEach((lid, i) => p.layer(lid, present[i] ? "Already exists" : "Pulling fs layer"));
  removeStaleStaging(root);
  removeStaleLocks(root);
  const children = new Set<UnpackChild>();
  const inflight = new Map<string, Promise<number>>();
  const slots = new Slots(PARALLEL_DOWNLOADS);
  const layerJob = (i: number): Promise<number> => {
    const desc = m.layers[i]!;
    const diffId = diffIds[i]!;
    const key = `${desc.digest} ${diffId}`;
    const running = inflight.get(key);
    if (running) return running;
    p.layer(ids[i]!, "Waiting");
    const job = slots.with(() => pullLayer({ ...base, desc, diffId, lid: ids[i]!, children })).then((size) => {
      recordLayerBlob(db, diffId, desc.digest, desc.mediaType ?? "", desc.size ?? 0);
      p.layer(ids[i]!, "Pull complete");
      return size;
    });
    inflight.set(key, job);
    return job;
  };
  const jobs = m.layers.map((_, i) => (present[i] ? Promise.resolve(layerSize(db, diffIds[i]!) ?? 0) : layerJob(i)));
  try {
    const sizes = await Promise.all(jobs);
    return { size: sizes.reduce((a, b) => a + b, 0), downloaded: present.some((x) => !x) };
  } catch (e) {
    for (const c of children) c.kill();
    throw e;
  }
}

interface FetchedManifest {
  mediaType: string | undefined;
  digest: string;
  bytes: Uint8Array;
  body: Record<string, unknown>;
}

async function fetchManifest(client: RegistryClient, ep: Endpoint, repo: string, reference: string, expect: string | undefined): Promise<FetchedManifest> {
  const t = await client.request(ep, repo, `${repo}/manifests/${reference}`, { method: "GET", headers: { accept: MANIFEST_ACCEPT } });
  try {
    if (t.res.status === 404) {
      throw new RegistryError(`manifest for ${client.domain}/${repo}:${reference} not found: ${await errorText(t.res)}`, 404);
    }
    if (!t.res.ok) throw new RegistryError(`registry ${ep.host} answered ${t.res.status} for the manifest of ${repo}:${reference}: ${await errorText(t.res)}`, t.res.status);
    const bytes = await readBounded(t.res, MAX_MANIFEST_BYTES, t.touch, `the manifest of ${repo}`);
    const digest = `sha256:${sha256Hex(bytes)}`;
    if (expect && digest !== expect) throw new TsdError(`the manifest of ${repo}@${expect} has digest ${digest}: refused (corrupt or tampered)`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new TsdError(`the manifest of ${repo}:${reference} is not JSON`);
    }
    const mediaType = (body.mediaType as string | undefined) ?? t.res.headers.get("content-type")?.split(";")[0];
    return { mediaType, digest, bytes, body };
  } finally {
    t.done();
  }
}

async function fetchSmallBlob(client: RegistryClient, ep: Endpoint, repo: string, desc: Descriptor): Promise<Uint8Array> {
  const t = await client.request(ep, repo, `${repo}/blobs/${desc.digest}`, { method: "GET" });
  try {
    if (!t.res.ok) throw new RegistryError(`cannot fetch blob ${desc.digest} of ${repo}: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
    const bytes = await readBounded(t.res, MAX_MANIFEST_BYTES, t.touch, `blob ${desc.digest}`);
    if (desc.size !== undefined && bytes.length !== desc.size) throw new TsdError(`blob ${desc.digest} has ${bytes.length} bytes, the manifest says ${desc.size}: refused`);
    return bytes;
  } finally {
    t.done();
  }
}

async function readBounded(res: Response, max: number, touch: () => void, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  if (res.body) {
    for await (const c of res.body) {
      touch();
      n += c.length;
      if (n > max) throw new TsdError(`${what} is larger than ${max} bytes: refused`);
      chunks.push(c);
    }
  }
  return Buffer.concat(chunks);
}

interface LayerContext {
  client: RegistryClient;
  ep: Endpoint;
  repo: string;
  desc: Descriptor;
  diffId: string;
  db: Database;
  root: string;
  p: Progress;
  lid: string;
  children: Set<UnpackChild>;
}

/** The end of a pulled layer's stream: a stream that does not decompress though its digest is
 *  right is refused, and the store keeps no blob of it either. */
async function finishLayer(ctx: LayerContext, u: LayerUnpack): Promise<{ size: number; diffId: string }> {
  try {
    return await u.finish();
  } catch (e) {
    if (!(e instanceof LayerStreamError)) throw e;
    const d = ctx.desc.digest;
    rmSync(blobPath(ctx.root, d), { force: true });
    throw new TsdError(`layer ${d} of ${ctx.client.domain}/${ctx.repo}: ${e.message}: refused (corrupt image)`);
  }
}

/**
 * One layer: its blob downloaded into the store (resumed from a partial file with a Range
 * request, size and digest checked before it becomes visible) while the same bytes stream
 * into an unpack process; the unpacked tree is committed only when the blob's digest and the
 * tree's diffID are both right. Returns the unpacked size.
 */
async function pullLayer(ctx: LayerContext): Promise<number> {
  const { desc, root, p, lid } = ctx;
  const u = new LayerUnpack(root, ctx.children);
  try {
    const part = hasBlob(root, desc.digest, desc.size) ? undefined : await openPartial(root, desc.digest);
    if (!part) {
      // The blob is here already (an earlier pull of another image, or a concurrent one).
      p.layer(lid, "Extracting");
      u.start();
      await u.feedFile(blobPath(root, desc.digest));
    } else {
      await fetchLayerBlob(ctx, part, u);
    }
    const r = await finishLayer(ctx, u);
    if (r.diffId !== ctx.diffId) {
      throw new TsdError(`layer ${desc.digest} unpacks to ${r.diffId}, but the image config says ${ctx.diffId}: refused (corrupt image)`);
    }
    return commitLayerStaging(ctx.db, root, u.staging!, ctx.diffId, r.size);
  } catch (e) {
    // An unpack that failed first explains more than the broken pipe the download then hit.
    throw await u.explain(e);
  } finally {
    await u.stop();
  }
}

/** Downloads the layer's blob into `part` (retrying a dropped connection from where it broke
 *  off) while feeding the unpack; the blob joins the store only when size and digest match. */
async function fetchLayerBlob(ctx: LayerContext, part: PartialDownload, u: LayerUnpack): Promise<void> {
  const { desc, root, p, lid } = ctx;
  try {
    if (desc.size !== undefined && part.offset > desc.size) part.restart();
    const sink: BlobSink = {
      begin: async (resumed) => {
        if (!resumed && part.offset > 0) part.restart();
        if (resumed && u.child) return;
        await u.stop();
        u.start();
        if (resumed) await u.feedFile(part.path);
      },
      chunk: (c) => u.write(c),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadInto(ctx, part, sink);
        break;
      } catch (e) {
        // A dropped connection mid-body resumes from what arrived; anything else is final.
        if (!(e instanceof RegistryError) || !e.retriable || attempt >= ctx.client.retries) throw e;
        await Bun.sleep(200 * 2 ** attempt);
      }
    }
    p.layer(lid, "Verifying Checksum");
    const got = `sha256:${part.hasher.digest("hex")}`;
    const size = part.offset;
    part.close();
    if (got !== desc.digest || (desc.size !== undefined && size !== desc.size)) {
      part.discard();
      throw new TsdError(`layer ${desc.digest} from ${ctx.client.domain}/${ctx.repo} arrived as ${got} (${size} bytes, want ${desc.size ?? "?"}): refused (corrupt or tampered)`);
    }
    adoptBlob(root, desc.digest, part.path);
    p.layer(lid, "Download complete");
    p.layer(lid, "Extracting");
  } finally {
    part.release();
  }
}

/** Where downloaded bytes go besides the partial file: `begin` says whether they continue
 *  the bytes already there (a 206 to our Range request) or start over. */
interface BlobSink {
  begin: (resumed: boolean) => Promise<void>;
  chunk: (c: Uint8Array) => Promise<void>;
}

async function downloadInto(ctx: LayerContext, part: PartialDownload, sink: BlobSink): Promise<void> {
  const { client, ep, repo, desc, p, lid } = ctx;
  const headers: Record<string, string> = {};
  if (part.offset > 0) headers.range = `bytes=${part.offset}-`;
  const t = await client.request(ep, repo, `${repo}/blobs/${desc.digest}`, { method: "GET", headers });
  try {
    if (t.res.status === 416 && part.offset > 0) {
      // What we have is already the whole blob (or junk): the digest check decides.
      await t.res.body?.cancel().catch(() => {});
      await sink.begin(true);
      return;
    }
    if (!t.res.ok) throw new RegistryError(`cannot fetch layer ${desc.digest} of ${repo}: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
    await sink.begin(part.offset > 0 && t.res.status === 206);
    const total = desc.size;
    let lastShown = 0;
    if (t.res.body) {
      try {
        for await (const chunk of t.res.body) {
          t.touch();
          part.append(chunk);
          part.offset += chunk.length;
          if (total !== undefined && part.offset > total) throw new TsdError(`layer ${desc.digest} is larger than the ${total} bytes the manifest says: refused`);
          await sink.chunk(chunk);
          t.touch();
          if (part.offset - lastShown > 256 * 1024 || part.offset === total) {
            lastShown = part.offset;
            p.layer(lid, "Downloading", part.offset, total);
          }
        }
      } catch (e) {
        if (e instanceof TsdError || e instanceof UnpackFeedError) throw e;
        if (t.timedOut()) throw new RegistryError(`registry ${ep.host} stopped sending ${desc.digest} at ${part.offset} bytes: it did not answer within ${client.timeoutSeconds}s`, 0, true);
        throw new RegistryError(`the download of ${desc.digest} broke off at ${part.offset} bytes: ${(e as Error).message}`, 0, true);
      }
    }
  } finally {
    t.done();
  }
}
