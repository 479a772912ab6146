// Media types of the image formats tsd reads and writes, and platform selection.
import { TsdError } from "../errors";
import type { LayerFormat } from "./stream-checks";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
export const DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/** The OCI media type of a layer blob in the format its magic bytes say (load, import). */
export const LAYER_MEDIA_TYPES: Record<LayerFormat, string> = { plain: OCI_LAYER, gzip: OCI_LAYER_GZIP, zstd: OCI_LAYER_ZSTD };

export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(", ");

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export function isIndex(mediaType: string | undefined, body: Record<string, unknown>): boolean {
  if (mediaType === OCI_INDEX || mediaType === DOCKER_LIST) return true;
  if (mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST) return false;
  return Array.isArray(body.manifests) && !("config" in body);
}

export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[process.arch] ?? process.arch;
}

/** `--platform linux/arm64/v8`, `linux`, `arm64`; the default is linux/<host arch>. */
export function parsePlatform(text: string | undefined): Required<Pick<Platform, "os" | "architecture">> & Platform {
  if (!text) return { os: "linux", architecture: hostArchitecture() };
  const parts = text.toLowerCase().split("/");
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new TsdError(`invalid platform "${text}": want OS/ARCH[/VARIANT], e.g. linux/arm64`);
  }
  let [os, architecture, variant] = parts as [string, string | undefined, string | undefined];
  if (parts.length === 1 && os !== "linux" && os !== "windows") {
    architecture = os;
    os = "linux";
  }
  architecture = normaliseArch(architecture ?? hostArchitecture());
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function normaliseArch(a: string): string {
  const aliases: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", i386: "386", i686: "386" };
  return aliases[a] ?? a;
}

/** The manifest of an index for `want`: exact variant if asked, else the first of os/arch. */
export function choosePlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const matching = manifests.filter((m) => m.platform?.os === want.os && normaliseArch(m.platform?.architecture ?? "") === want.architecture);
  if (want.variant) return matching.find((m) => m.platform?.variant === want.variant);
  // arm64 images say v8 or nothing; prefer the plain one, then any.
  return matching.find((m) => !m.platform?.variant) ?? matching[0];
}

export function platformString(p: Platform | undefined): string {
  if (!p) return "unknown";
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}
