// `tsd pull`: manifest (through an index to the platform's manifest), config, then the
// layers: downloaded in parallel (3 at a time, as Docker), each verified into the blob store,
// and unpacked in order as they arrive. Layers already unpacked are not downloaded again.
import type { Database } from "bun:sqlite";
import { TsdError } from "../../errors";
import { blobPath, hasBlob, openPartial, putBlob, sha256Hex, adoptBlob } from "../blobs";
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
import { findImage, hasLayer, importLayer, layerSize, putImage, recordImageManifest, recordLayerBlob, recordRepoDigest, tagImage, type ImageConfig } from "../store";
import { loadRegistryConfig } from "./config";
import { errorText, noteEventLoopStall, RegistryClient, RegistryError, type Endpoint } from "./client";

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

  return client.withEndpoint(async (ep) => {
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

    const configBytes = await fetchSmallBlob(client, ep, ref.path, m.config);
    putBlob(root, m.config.digest, configBytes);
    const config = JSON.parse(new TextDecoder().decode(configBytes)) as ImageConfig;
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new TsdError(`the config of ${familiarName(ref)} has no rootfs.diff_ids`);
    if (config.rootfs.diff_ids.length !== m.layers.length) {
      throw new TsdError(`${familiarName(ref)}: the manifest has ${m.layers.length} layers but the config ${config.rootfs.diff_ids.length}: the image is corrupt`);
    }
    const id = m.config.digest.slice("sha256:".length);
    const before = ref.tag ? findImage(db, canonical(ref)) : undefined;

    let downloaded = false;
    const ids = m.layers.map((l) => l.digest.slice(7, 19));
    const present = config.rootfs.diff_ids.map((d) => hasLayer(db, root, d));
    ids.forEach((lid, i) => p.layer(lid, present[i] ? "Already exists" : "Pulling fs layer"));

    // Downloads run ahead (bounded); unpacking follows in layer order.
    const inflight = new Map<string, Promise<string>>();
    let running = 0;
    const queue: (() => void)[] = [];
    const slot = async <T>(f: () => Promise<T>): Promise<T> => {
      if (running >= PARALLEL_DOWNLOADS) await new Promise<void>((r) => queue.push(r));
      running++;
      try {
        return await f();
      } finally {
        running--;
        queue.shift()?.();
      }
    };
    const download = (layer: Descriptor, lid: string): Promise<string> => {
      let d = inflight.get(layer.digest);
      if (!d) {
        p.layer(lid, "Waiting");
        d = slot(() => fetchLayerBlob(client, ep, ref.path, layer, root, p, lid));
        inflight.set(layer.digest, d);
      }
      return d;
    };
    const pending = m.layers.map((l, i) => (present[i] ? undefined : download(l, ids[i]!)));
    // Keep later failures from surfacing as unhandled while an earlier layer is awaited.
    for (const d of pending) d?.catch(() => {});
    let size = 0;
    for (let i = 0; i < m.layers.length; i++) {
      const diffId = config.rootfs.diff_ids[i]!;
      const layer = m.layers[i]!;
      if (present[i]) {
        size += layerSize(db, diffId) ?? 0;
        continue;
      }
      downloaded = true;
      const blob = await pending[i]!;
      if (!hasLayer(db, root, diffId)) {
        p.layer(ids[i]!, "Extracting");
        try {
          size += importLayer(db, root, blob, diffId);
        } finally {
          noteEventLoopStall();
        }
      } else size += layerSize(db, diffId) ?? 0;
      recordLayerBlob(db, diffId, layer.digest, layer.mediaType ?? "", layer.size ?? 0);
      p.layer(ids[i]!, "Pull complete");
    }
    p.end();
    db.transaction(() => {
      putImage(db, id, config, size);
      if (ref.tag) tagImage(db, ref, id);
      recordRepoDigest(db, `${ref.domain}/${ref.path}`, top.digest, id);
      recordImageManifest(db, id, manifest.digest);
    }).immediate();
    if (before?.id !== id) downloaded = true;
    p.say(`Digest: ${top.digest}`);
    p.say(downloaded ? `Status: Downloaded newer image for ${familiarName(ref)}` : `Status: Image is up to date for ${familiarName(ref)}`);
    return { id, ref, digest: top.digest, downloaded };
  });
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

/**
 * Downloads a layer blob into the store: resumes a partial file with a Range request, checks
 * size and digest, then renames it into blobs/. A corrupt result is deleted and refused.
 */
async function fetchLayerBlob(client: RegistryClient, ep: Endpoint, repo: string, desc: Descriptor, root: string, p: Progress, lid: string): Promise<string> {
  if (hasBlob(root, desc.digest, desc.size)) {
    p.layer(lid, "Download complete");
    return blobPath(root, desc.digest);
  }
  const part = await openPartial(root, desc.digest);
  if (!part) return blobPath(root, desc.digest);
  try {
    if (desc.size !== undefined && part.offset > desc.size) part.restart();
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadInto(client, ep, repo, desc, part, p, lid);
        break;
      } catch (e) {
        // A dropped connection mid-body resumes from what arrived; anything else is final.
        if (!(e instanceof RegistryError) || !e.retriable || attempt >= 3) throw e;
        await Bun.sleep(200 * 2 ** attempt);
      }
    }
    p.layer(lid, "Verifying Checksum");
    const got = `sha256:${part.hasher.digest("hex")}`;
    const size = part.offset;
    part.close();
    if (got !== desc.digest || (desc.size !== undefined && size !== desc.size)) {
      part.discard();
      throw new TsdError(`layer ${desc.digest} from ${client.domain}/${repo} arrived as ${got} (${size} bytes, want ${desc.size ?? "?"}): refused (corrupt or tampered)`);
    }
    const path = adoptBlob(root, desc.digest, part.path);
    p.layer(lid, "Download complete");
    return path;
  } finally {
    part.release();
  }
}

async function downloadInto(
  client: RegistryClient,
  ep: Endpoint,
  repo: string,
  desc: Descriptor,
  part: Awaited<ReturnType<typeof openPartial>> & {},
  p: Progress,
  lid: string,
): Promise<void> {
  const headers: Record<string, string> = {};
  if (part.offset > 0) headers.range = `bytes=${part.offset}-`;
  const t = await client.request(ep, repo, `${repo}/blobs/${desc.digest}`, { method: "GET", headers });
  try {
    if (t.res.status === 416 && part.offset > 0) {
      // What we have is already the whole blob (or junk): the digest check decides.
      await t.res.body?.cancel().catch(() => {});
      return;
    }
    if (!t.res.ok) throw new RegistryError(`cannot fetch layer ${desc.digest} of ${repo}: ${t.res.status} ${await errorText(t.res)}`, t.res.status);
    if (part.offset > 0 && t.res.status !== 206) part.restart();
    const total = desc.size;
    let lastShown = 0;
    if (t.res.body) {
      try {
        for await (const chunk of t.res.body) {
          t.touch();
          part.append(chunk);
          part.offset += chunk.length;
          if (total !== undefined && part.offset > total) throw new TsdError(`layer ${desc.digest} is larger than the ${total} bytes the manifest says: refused`);
          if (part.offset - lastShown > 256 * 1024 || part.offset === total) {
            lastShown = part.offset;
            p.layer(lid, "Downloading", part.offset, total);
          }
        }
      } catch (e) {
        if (e instanceof TsdError) throw e;
        if (t.timedOut()) throw new RegistryError(`registry ${ep.host} stopped sending ${desc.digest} at ${part.offset} bytes: it did not answer within ${client.timeoutSeconds}s`, 0, true);
        throw new RegistryError(`the download of ${desc.digest} broke off at ${part.offset} bytes: ${(e as Error).message}`, 0, true);
      }
    }
  } finally {
    t.done();
  }
}
