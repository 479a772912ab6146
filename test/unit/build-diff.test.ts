// The pure parts behind tsd build's differential test and what it found: the comparison of two
// images (it must report a difference, and nothing for the allowlist's), Docker's chain ids
// (rmi's `Deleted:` lines of layers), a COPY source's symlinks followed inside the context.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { compareImages, type ImageFs } from "../lib/build-diff";
import { chainIds } from "../../src/image/remove";
import { followSource, loadContext } from "../../src/image/build/context";

const file = (over: Partial<ImageFs["files"][string]> = {}) => ({ type: "file", mode: "0o644", uid: 0, gid: 0, size: 1, sha256: "a", ...over });
const image = (files: ImageFs["files"], config: Record<string, unknown> = {}): ImageFs => ({ config: { config }, files });

describe("compareImages", () => {
  test("the same image: no difference; null, absent and empty config values are one", () => {
    const a = image({ "/f": file() }, { Env: ["A=1"], User: "", Volumes: {} });
    expect(compareImages(a, image({ "/f": file() }, { Env: ["A=1"], Entrypoint: null }), "docker")).toEqual([]);
  });

  test("every kind of difference is one line", () => {
    const a = image({ "/f": file(), "/only": file(), "/l": { type: "symlink", mode: "0o777", uid: 0, gid: 0, link: "x" } }, { Cmd: ["sh"], Labels: { a: "b" } });
    const b = image({ "/f": file({ mode: "0o600", uid: 1, sha256: "b" }), "/l": { type: "symlink", mode: "0o777", uid: 0, gid: 0, link: "y" } }, { Cmd: ["ls"], Labels: { a: "b" } });
    expect(compareImages(a, b, "docker")).toEqual([
      "/f: mode 0o644 in tsd's, 0o600 in docker's",
      "/f: uid 0 in tsd's, 1 in docker's",
      "/f: sha256 a in tsd's, b in docker's",
      "/l: link x in tsd's, y in docker's",
      "/only: only in tsd's (file)",
      'config Cmd: ["sh"] in tsd\'s, ["ls"] in docker\'s',
    ]);
  });

  test("the allowlist is per engine: buildah's mount points and label pass, docker's would not", () => {
    const a = image({ "/f": file() }, { Labels: { a: "b" } });
    const b = image({ "/f": file(), "/etc/hosts": file(), "/run": { type: "dir", mode: "0o755", uid: 0, gid: 0 } }, { Labels: { a: "b", "io.buildah.version": "1" } });
    expect(compareImages(a, b, "buildah")).toEqual([]);
    expect(compareImages(a, b, "docker").length).toBe(3);
  });
});

test("chainIds: the first diff id, then sha256 of 'PARENT DIFF' (Docker's layer ids)", () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const ids = chainIds([d("a"), d("b")]);
  expect(ids[0]).toBe(d("a"));
  expect(ids[1]).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(`${d("a")} ${d("b")}`).digest("hex")}`);
  expect(chainIds([])).toEqual([]);
});

describe("followSource", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsd-unit-follow-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "d"));
  writeFileSync(join(dir, "d/f.txt"), "f");
  writeFileSync(join(dir, "ignored.txt"), "i");
  writeFileSync(join(dir, ".dockerignore"), "ignored.txt\n");
  symlinkSync("d/f.txt", join(dir, "rel"));
  symlinkSync("/d", join(dir, "abs"));
  symlinkSync("../../../d/f.txt", join(dir, "d/up"));
  symlinkSync("rel", join(dir, "chain"));
  symlinkSync("ignored.txt", join(dir, "toignored"));
  symlinkSync("loop", join(dir, "loop"));
  const ctx = loadContext(dir);

  test("relative, absolute (from the context's top), `..` never above the top, links in turn", () => {
    expect(followSource(ctx, "rel", "COPY")).toBe("d/f.txt");
    expect(followSource(ctx, "abs", "COPY")).toBe("d");
    expect(followSource(ctx, "d/up", "COPY")).toBe("d/f.txt");
    expect(followSource(ctx, "chain", "COPY")).toBe("d/f.txt");
    expect(followSource(ctx, "d/f.txt", "COPY")).toBe("d/f.txt");
  });

  test("a target outside the context's entries, or a loop, is an error", () => {
    expect(() => followSource(ctx, "toignored", "COPY")).toThrow("file not found in build context or excluded by .dockerignore");
    expect(() => followSource(ctx, "loop", "ADD")).toThrow("too many levels of symbolic links");
  });
});
