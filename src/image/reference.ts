// Image references as the Docker CLI normalises them (distribution/reference):
// `busybox` → docker.io/library/busybox:latest, `host:5000/a/b:tag`, `name@sha256:…`.
export interface Reference {
  domain: string;
  path: string; // repository path inside the registry: library/busybox
  tag?: string;
  digest?: string; // sha256:<64 hex>
}

export const DEFAULT_DOMAIN = "docker.io";
const DEFAULT_TAG = "latest";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?::[0-9]{1,5})?$|^\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?$/;

export class ReferenceError extends Error {}

export function parseReference(input: string): Reference {
  if (input === "") throw new ReferenceError("invalid reference format: empty image name");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ReferenceError(`invalid reference format: "${input}" has a malformed digest (want sha256:<64 hex digits>)`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ReferenceError(`invalid reference format: "${input}" has a malformed tag`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const first = rest.indexOf("/");
  if (first >= 0) {
    const head = rest.slice(0, first);
    if (head.includes(".") || head.includes(":") || head === "localhost") {
      domain = head === "index.docker.io" ? DEFAULT_DOMAIN : head;
      path = rest.slice(first + 1);
      if (!DOMAIN.test(head)) throw new ReferenceError(`invalid reference format: "${input}" has a malformed registry host "${head}"`);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  for (const c of path.split("/")) {
    if (!COMPONENT.test(c)) {
      const hint = /[A-Z]/.test(c) ? " (repository names must be lowercase)" : "";
      throw new ReferenceError(`invalid reference format: "${input}"${hint}`);
    }
  }
  if (!tag && !digest) tag = DEFAULT_TAG;
  return { domain, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The full canonical name: docker.io/library/busybox:latest. */
export function canonical(ref: Reference): string {
  return `${ref.domain}/${ref.path}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The repository as Docker prints it: `busybox` for docker.io/library/busybox. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith("library/") ? ref.path.slice("library/".length) : ref.path;
}

/** `busybox:latest` for display, with the familiar repository. */
export function familiarName(ref: Reference): string {
  return `${familiarRepository(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
