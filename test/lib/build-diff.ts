// The differential build test's material (test/e2e/build-diff.test.ts): one context, the
// Dockerfiles built from it by tsd, buildah and docker, and the comparison of the images they
// make (root filesystem and config) with its allowlist of known legitimate differences.
import { chmodSync, chownSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

export type Engine = "tsd" | "buildah" | "docker" | "buildkit";
export type Other = Exclude<Engine, "tsd">;

export interface Case {
  name: string;
  dockerfile: string;
  /** Engines that build it (tsd, buildah, docker by default): docker 20.10's classic builder
   *  has no --chmod (its built-in BuildKit, "buildkit", has). Heredocs are not here: neither
   *  buildah 1.28 nor docker 20.10's BuildKit frontend parses them (test/e2e/build*.test.ts
   *  cover tsd's). */
  engines?: Engine[];
  target?: string;
  buildArgs?: Record<string, string>;
}

// Every instruction; multi-stage with COPY --from; ARG before FROM and ${:-}/${:+} forms;
// COPY's directory, glob, rename, symlink and --chown cases; ADD of tars and a plain file;
// WORKDIR made; RUN deleting base, earlier-layer and own files (whiteouts, an opaque dir),
// making a fifo, a hard link, a setuid file, changing a base file's mode and a base dir's owner.
const MAIN = `ARG BASE=busybox
FROM $BASE AS gen
ARG GREETING=hello
ENV DIR=/out NAME=\${GREETING:-none} UNSET=\${NOPE:-dflt} PLUS=\${GREETING:+set} EMPTY=
WORKDIR $DIR
COPY src/ ./src/
COPY src/*.txt /globbed/
COPY src /srcdir
COPY one.txt renamed.txt
COPY one.txt /newdir/
COPY link.txt script.sh /top/
RUN echo "$GREETING $NAME $UNSET $PLUS [$EMPTY]" > made.txt && mkdir -p gone keep && touch gone/x keep/y && ln -s made.txt link
RUN rm -rf gone keep /home /bin/vi && mkdir keep && echo z > keep/z && rm /srcdir/one.txt && chmod 0751 /out/src
RUN mkfifo fifo && ln made.txt hard && echo s > suid && chmod 4755 suid && chmod 600 /etc/group && chown 1000:1000 /usr && touch /etc/passwd && mkdir -p deep/a/b && chmod 1777 deep
SHELL ["/bin/sh", "-ec"]
RUN ["sh", "-c", "echo exec-form > /out/exec.txt"]
RUN echo shell-form "$0" > /out/shell.txt

FROM busybox
LABEL org.example.name="the app" multi="a b" empty=""
MAINTAINER someone <a@example.invalid>
COPY --from=gen /out /app
COPY --from=gen /globbed/ /app/globbed/
COPY --from=gen /top/link.txt /app/
COPY --from=gen /out/link /app/direct-link
COPY src/srcl* /globlink/
COPY --chown=1000:1000 one.txt src /owned/
COPY --chown=user two.dat /owned-by-name/
COPY src /srcdir
COPY src/ /tmp/
COPY --chown=1000:1000 src/ /home/
ADD plain.tar /x/
ADD packed.tar.gz /y
ADD one.txt /added/
ADD packed.tar.gz /z/packed.tar.gz/
ADD plain.tar other.tar.gz one.txt src /multi/
ADD other.tar.gz packed.tar.gz /multi2/
ADD *.tar.gz /globbed-tars/
WORKDIR /made/by/workdir
WORKDIR rel
ENV PATH=/app/bin:$PATH GREETING=\${GREETING:-unset}
USER 1000:1000
RUN id > /tmp/id.txt && pwd > /tmp/pwd.txt && touch /tmp/by-user
USER user
EXPOSE 8080 53/udp 9000/tcp
VOLUME /data ["/data2"]
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=5s --start-period=2s --retries=2 CMD test -f /app/made.txt
SHELL ["/bin/sh", "-xc"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/made.txt"]
`;

// --chmod (BuildKit's and buildah's; docker 20.10's classic builder refuses it).
const CHMOD = `FROM busybox
COPY --chmod=0640 one.txt /m/
COPY --chown=1000:1000 --chmod=700 src /m/src
COPY --chmod=700 src /tmp/
ADD --chmod=0600 one.txt /m/added.txt
CMD ["sh"]
HEALTHCHECK NONE
`;

// A target stage of its own, shell-form ENTRYPOINT/CMD, an ARG from --build-arg.
const TARGET = `FROM busybox AS first
ARG V=default
RUN echo "v=$V" > /v.txt
ENTRYPOINT echo entry
CMD echo cmd

FROM first AS second
RUN echo never > /never.txt
`;

export const CASES: Case[] = [
  { name: "main", dockerfile: MAIN, buildArgs: { GREETING: "hi" } },
  // Its first stage as well (whiteouts, what RUN deletes, SHELL).
  { name: "main-gen", dockerfile: MAIN, target: "gen", buildArgs: { GREETING: "hi" } },
  { name: "chmod", dockerfile: CHMOD, engines: ["tsd", "buildah", "buildkit"] },
  { name: "target", dockerfile: TARGET, target: "first", buildArgs: { V: "given" } },
];

/** The context every case builds from (one Dockerfile.NAME per case). */
export function writeContext(dir: string): void {
  const put = (p: string, content: string | Uint8Array, mode = 0o644) => {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
    chmodSync(join(dir, p), mode);
  };
  put("one.txt", "one\n");
  put("two.dat", "two\n", 0o600);
  put("script.sh", "#!/bin/sh\necho hi\n", 0o755);
  put("src/one.txt", "src one\n");
  put("src/two.txt", "src two\n", 0o640);
  put("src/deep/er/file.txt", "deep\n");
  put("src/skip.tmp", "ignored\n");
  put("src/keep.tmp", "kept by !\n");
  put("src/secret/key", "ignored dir\n");
  put("src/docs/a/x.md", "ignored by **\n");
  put("src/docs/important.md", "kept\n");
  chmodSync(join(dir, "src"), 0o750);
  mkdirSync(join(dir, "src/emptydir"));
  chmodSync(join(dir, "src/emptydir"), 0o700);
  symlinkSync("one.txt", join(dir, "src/srclink"));
  symlinkSync("one.txt", join(dir, "link.txt"));
  const tar = archive(dir);
  put("plain.tar", tar);
  put("packed.tar.gz", gzipSync(tar));
  put("other.tar.gz", gzipSync(otherArchive(dir)));
  put(".dockerignore", "**/*.tmp\n!src/keep.tmp\nsrc/secret\nsrc/docs/**/*.md\n!src/docs/important.md\n");
  for (const c of CASES) put(`Dockerfile.${c.name}`, c.dockerfile);
}

/** A second tar: a file of its own, and one of the first's at another place. */
function otherArchive(dir: string): Uint8Array {
  const stage = join(dir, ".tar-stage2");
  mkdirSync(join(stage, "other"), { recursive: true });
  writeFileSync(join(stage, "other/a.txt"), "other a\n");
  writeFileSync(join(stage, "top.txt"), "top from other\n");
  chownSync(join(stage, "other/a.txt"), 1000, 1000);
  const r = Bun.spawnSync(["tar", "-C", stage, "--numeric-owner", "--mtime=@1700000000", "-cf", "-", "other", "top.txt"]);
  if (r.exitCode !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  rmSync(stage, { recursive: true });
  return new Uint8Array(r.stdout);
}

/** A tar (GNU tar's) with owners, modes, a symlink, a hard link, an entry without its parent's. */
function archive(dir: string): Uint8Array {
  const stage = join(dir, ".tar-stage");
  const put = (p: string, content: string, mode: number, uid: number, gid: number) => {
    mkdirSync(dirname(join(stage, p)), { recursive: true });
    writeFileSync(join(stage, p), content);
    chmodSync(join(stage, p), mode);
    chownSync(join(stage, p), uid, gid);
  };
  put("tdir/f.txt", "in tar\n", 0o604, 1000, 65534);
  put("noparent/sub/g.txt", "g\n", 0o755, 0, 0);
  put("top.txt", "top\n", 0o644, 0, 0);
  symlinkSync("f.txt", join(stage, "tdir/l"));
  linkSync(join(stage, "tdir/f.txt"), join(stage, "tdir/h"));
  chmodSync(join(stage, "tdir"), 0o750);
  chownSync(join(stage, "tdir"), 1000, 1000);
  const r = Bun.spawnSync(["tar", "-C", stage, "--numeric-owner", "--mtime=@1700000000", "-cf", "-", "tdir", "noparent/sub/g.txt", "top.txt"]);
  if (r.exitCode !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  rmSync(stage, { recursive: true });
  return new Uint8Array(r.stdout);
}

export interface FileEntry {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  link?: string;
  size?: number;
  sha256?: string;
}

export interface ImageFs {
  config: { config?: Record<string, unknown>; architecture?: string; os?: string };
  files: Record<string, FileEntry>;
}

/** The config fields compared (the issue's list and the rest a Dockerfile sets). */
export const CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Labels", "Volumes", "StopSignal", "Healthcheck", "Shell", "OnBuild"];

/**
 * Known legitimate differences. Not compared at all: mtimes (each engine stamps its own build
 * time), history (docker's and tsd's created_by carry `#(nop)` and content hashes, buildah's
 * its own words) and the layer split (engines make a different number of layers for the same
 * result: compared flattened). In the config: buildah's `io.buildah.version` label, and null,
 * absent and empty values taken as one (normal(), below). The rest, per engine and path:
 */
function allowed(other: Other, what: string, path: string): boolean {
  return ALLOW.some((a) => (a.engine === undefined || a.engine === other) && a.what === what && a.path.test(path));
}

const ALLOW: { engine?: Other; what: string; path: RegExp; why: string }[] = [
  // buildah 1.28's RUN (chroot isolation) leaves the mount points it made in the layer; docker's
  // are in the container's init layer, never committed (tsd's are removed when left empty).
  ...["/dev", "/proc", "/sys", "/run", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"].map((p) => ({ engine: "buildah" as const, what: "missing", path: new RegExp(`^${p}$`), why: "buildah's RUN mount points" })),
  // buildah makes a WORKDIR when a later RUN needs it, owned by that RUN's USER; docker's
  // classic builder makes it at the WORKDIR step, owned by root (tsd: docker's).
  ...["uid", "gid"].map((what) => ({ engine: "buildah" as const, what, path: /^\/made(\/by(\/workdir(\/rel)?)?)?$/, why: "buildah's WORKDIR owner" })),
];

/** The differences between tsd's image and `other`'s, one line each; [] when the same. */
export function compareImages(tsd: ImageFs, theirs: ImageFs, other: Other): string[] {
  const out: string[] = [];
  const paths = new Set([...Object.keys(tsd.files), ...Object.keys(theirs.files)]);
  for (const p of [...paths].sort()) {
    const a = tsd.files[p];
    const b = theirs.files[p];
    if (!a || !b) {
      if (!allowed(other, a ? "extra" : "missing", p)) out.push(`${p}: ${a ? `only in tsd's (${a.type})` : `only in ${other}'s (${b!.type})`}`);
      continue;
    }
    for (const k of ["type", "mode", "uid", "gid", "link", "size", "sha256"] as const) {
      if (a[k] !== b[k] && !allowed(other, k, p)) out.push(`${p}: ${k} ${String(a[k])} in tsd's, ${String(b[k])} in ${other}'s`);
    }
  }
  const ca = tsd.config.config ?? {};
  const cb = { ...(theirs.config.config ?? {}) };
  // buildah labels every image with its version (the one config difference allowed).
  if (other === "buildah" && cb.Labels) cb.Labels = Object.fromEntries(Object.entries(cb.Labels as Record<string, string>).filter(([k]) => k !== "io.buildah.version"));
  for (const f of CONFIG_FIELDS) {
    const va = JSON.stringify(normal(ca[f]));
    const vb = JSON.stringify(normal(cb[f]));
    if (va !== vb) out.push(`config ${f}: ${va} in tsd's, ${vb} in ${other}'s`);
  }
  return out;
}

/**
 * null, absent and empty (a "" User, an [] Entrypoint or OnBuild, a {} Volumes: buildah and
 * docker write them, tsd leaves them out) are the same; object keys sorted.
 */
function normal(v: unknown): unknown {
  if (v === null || v === undefined || v === "") return undefined;
  if (Array.isArray(v) && v.length === 0) return undefined;
  if (typeof v === "object" && Object.keys(v).length === 0) return undefined;
  if (Array.isArray(v)) return v.map(normal);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)).map(([k, x]) => [k, normal(x)]));
  return v;
}
