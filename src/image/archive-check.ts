// Checks on the JSON documents of an image archive (`tsd load`) and of image configs, before
// anything reads their fields: a hostile or broken archive gets one line naming the problem,
// never a JavaScript TypeError from deep inside.
import type { Descriptor } from "./media";

/** manifest.json, index.json, image configs and manifests: far below this in practice. */
export const MAX_ARCHIVE_JSON = 4 * 1024 * 1024;

export function jsonSizeProblem(size: number): string | undefined {
  return size > MAX_ARCHIVE_JSON ? `${size} bytes, more than the ${MAX_ARCHIVE_JSON} a JSON document of an image may have` : undefined;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringList(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** What is wrong with an image config (OCI image-spec config.md), or undefined. */
export function imageConfigProblem(v: unknown): string | undefined {
  if (!isObject(v)) return `the config is ${v === null ? "null" : Array.isArray(v) ? "a list" : `a ${typeof v}`}, not an object`;
  for (const k of ["created", "architecture", "os", "variant", "author"]) {
    if (v[k] !== undefined && typeof v[k] !== "string") return `the config's "${k}" is not a string`;
  }
  if (!isObject(v.rootfs)) return `the config has no "rootfs" object: not an image config`;
  const ids = v.rootfs.diff_ids;
  if (!Array.isArray(ids)) return `the config's rootfs.diff_ids is not a list`;
  const bad = ids.find((d) => typeof d !== "string" || !DIGEST.test(d));
  if (bad !== undefined) return `the config's rootfs.diff_ids holds ${JSON.stringify(bad)?.slice(0, 80)}, not a sha256 digest`;
  if (v.history !== undefined && v.history !== null && !Array.isArray(v.history)) return `the config's "history" is not a list`;
  const c = v.config;
  if (c === undefined || c === null) return undefined;
  if (!isObject(c)) return `the config's "config" is not an object`;
  for (const k of ["User", "WorkingDir", "StopSignal"]) {
    if (c[k] !== undefined && c[k] !== null && typeof c[k] !== "string") return `the config's config.${k} is not a string`;
  }
  for (const k of ["Env", "Entrypoint", "Cmd"]) {
    if (c[k] !== undefined && c[k] !== null && !isStringList(c[k])) return `the config's config.${k} is not a list of strings`;
  }
  for (const k of ["ExposedPorts", "Volumes", "Labels"]) {
    if (c[k] !== undefined && c[k] !== null && !isObject(c[k])) return `the config's config.${k} is not an object`;
  }
  if (isObject(c.Labels) && !Object.values(c.Labels).every((x) => typeof x === "string")) return `the config's config.Labels has a value that is not a string`;
  return undefined;
}

export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** A `docker save` manifest.json: a list of {Config, RepoTags, Layers}. */
export function parseDockerManifest(v: unknown): DockerManifestEntry[] | string {
  if (!Array.isArray(v)) return "manifest.json is not a list: not a docker save archive";
  const out: DockerManifestEntry[] = [];
  for (const [i, m] of v.entries()) {
    if (!isObject(m)) return `manifest.json entry ${i} is not an object`;
    if (typeof m.Config !== "string") return `manifest.json entry ${i} has no "Config" path`;
    if (!isStringList(m.Layers)) return `manifest.json entry ${i}: "Layers" is not a list of paths`;
    if (m.RepoTags !== undefined && m.RepoTags !== null && !isStringList(m.RepoTags)) return `manifest.json entry ${i}: "RepoTags" is not a list of names`;
    out.push({ Config: m.Config, RepoTags: (m.RepoTags as string[] | null | undefined) ?? [], Layers: m.Layers as string[] });
  }
  return out;
}

/** The `manifests` of an OCI index (index.json or an index blob); `what` names it. */
export function parseIndexManifests(v: unknown, what: string): Descriptor[] | string {
  if (!isObject(v)) return `${what} is not an object`;
  if (v.manifests === undefined || v.manifests === null) return [];
  if (!Array.isArray(v.manifests)) return `${what}: "manifests" is not a list`;
  for (const [i, d] of v.manifests.entries()) {
    const p = descriptorProblem(d);
    if (p) return `${what}: manifests[${i}] ${p}`;
  }
  return v.manifests as Descriptor[];
}

/** An OCI image manifest: config and layer descriptors. */
export function parseImageManifest(v: unknown, what: string): { config: Descriptor; layers: Descriptor[] } | string {
  if (!isObject(v)) return `${what} is not an image manifest`;
  const cp = descriptorProblem(v.config);
  if (cp) return `${what}: config ${cp}`;
  if (!Array.isArray(v.layers)) return `${what}: "layers" is not a list`;
  for (const [i, d] of v.layers.entries()) {
    const p = descriptorProblem(d);
    if (p) return `${what}: layers[${i}] ${p}`;
  }
  return { config: v.config as Descriptor, layers: v.layers as Descriptor[] };
}

function descriptorProblem(d: unknown): string | undefined {
  if (!isObject(d)) return "is not a descriptor";
  if (typeof d.digest !== "string") return "has no digest";
  if (d.mediaType !== undefined && typeof d.mediaType !== "string") return "has a mediaType that is not a string";
  if (d.annotations !== undefined && d.annotations !== null && !isObject(d.annotations)) return "has annotations that are not an object";
  if (d.platform !== undefined && d.platform !== null && !isObject(d.platform)) return "has a platform that is not an object";
  return undefined;
}
