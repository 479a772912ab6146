import { describe, expect, test } from "bun:test";
import { imageConfigProblem, jsonSizeProblem, MAX_ARCHIVE_JSON, parseDockerManifest, parseImageManifest, parseIndexManifests } from "../../src/image/archive-check";
import { fdinfoCloseOnExec } from "../../src/io";
import { isLegacyWorkDir, workDirOwner } from "../../src/store/workdir";

const D = `sha256:${"a".repeat(64)}`;

describe("imageConfigProblem", () => {
  test("a well-formed config passes", () => {
    expect(imageConfigProblem({ architecture: "amd64", os: "linux", config: { Env: ["A=1"], Cmd: null, Labels: { a: "b" } }, rootfs: { type: "layers", diff_ids: [D] } })).toBeUndefined();
    expect(imageConfigProblem({ rootfs: { type: "layers", diff_ids: [] }, config: null })).toBeUndefined();
  });
  test("wrong shapes are named", () => {
    expect(imageConfigProblem(null)).toBe("the config is null, not an object");
    expect(imageConfigProblem([])).toBe("the config is a list, not an object");
    expect(imageConfigProblem("x")).toBe("the config is a string, not an object");
    expect(imageConfigProblem({})).toBe(`the config has no "rootfs" object: not an image config`);
    expect(imageConfigProblem({ rootfs: { diff_ids: null } })).toBe("the config's rootfs.diff_ids is not a list");
    expect(imageConfigProblem({ rootfs: { diff_ids: ["sha256:xyz"] } })).toBe(`the config's rootfs.diff_ids holds "sha256:xyz", not a sha256 digest`);
    expect(imageConfigProblem({ rootfs: { diff_ids: [7] } })).toBe("the config's rootfs.diff_ids holds 7, not a sha256 digest");
    expect(imageConfigProblem({ os: 1, rootfs: { diff_ids: [] } })).toBe(`the config's "os" is not a string`);
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: "x" })).toBe(`the config's "config" is not an object`);
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: { Env: "A=1" } })).toBe("the config's config.Env is not a list of strings");
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: { Cmd: ["a", 1] } })).toBe("the config's config.Cmd is not a list of strings");
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: { User: 0 } })).toBe("the config's config.User is not a string");
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: { ExposedPorts: [] } })).toBe("the config's config.ExposedPorts is not an object");
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, config: { Labels: { a: 1 } } })).toBe("the config's config.Labels has a value that is not a string");
    expect(imageConfigProblem({ rootfs: { diff_ids: [] }, history: {} })).toBe(`the config's "history" is not a list`);
  });
});

test("jsonSizeProblem: the 4 MiB limit is inclusive", () => {
  expect(jsonSizeProblem(MAX_ARCHIVE_JSON)).toBeUndefined();
  expect(jsonSizeProblem(MAX_ARCHIVE_JSON + 1)).toBe(`${MAX_ARCHIVE_JSON + 1} bytes, more than the 4194304 a JSON document of an image may have`);
});

describe("archive documents", () => {
  test("manifest.json", () => {
    expect(parseDockerManifest([{ Config: "c.json", RepoTags: null, Layers: ["l.tar"] }])).toEqual([{ Config: "c.json", RepoTags: [], Layers: ["l.tar"] }]);
    expect(parseDockerManifest({})).toBe("manifest.json is not a list: not a docker save archive");
    expect(parseDockerManifest([null])).toBe("manifest.json entry 0 is not an object");
    expect(parseDockerManifest([{ Layers: [] }])).toBe(`manifest.json entry 0 has no "Config" path`);
    expect(parseDockerManifest([{ Config: "c", Layers: "l" }])).toBe(`manifest.json entry 0: "Layers" is not a list of paths`);
    expect(parseDockerManifest([{ Config: "c", Layers: [], RepoTags: "a:1" }])).toBe(`manifest.json entry 0: "RepoTags" is not a list of names`);
  });
  test("index and manifest descriptors", () => {
    expect(parseIndexManifests({ manifests: [{ digest: D }] }, "index.json")).toEqual([{ digest: D }]);
    expect(parseIndexManifests({}, "index.json")).toEqual([]);
    expect(parseIndexManifests(null, "index.json")).toBe("index.json is not an object");
    expect(parseIndexManifests({ manifests: {} }, "index.json")).toBe(`index.json: "manifests" is not a list`);
    expect(parseIndexManifests({ manifests: [{ digest: 1 }] }, "index.json")).toBe("index.json: manifests[0] has no digest");
    expect(parseIndexManifests({ manifests: [{ digest: D, annotations: "x" }] }, "index.json")).toBe("index.json: manifests[0] has annotations that are not an object");
    expect(parseImageManifest({ config: { digest: D }, layers: [{ digest: D }] }, "m")).toEqual({ config: { digest: D }, layers: [{ digest: D }] });
    expect(parseImageManifest({ layers: [] }, "m")).toBe("m: config is not a descriptor");
    expect(parseImageManifest({ config: { digest: D } }, "m")).toBe(`m: "layers" is not a list`);
    expect(parseImageManifest({ config: { digest: D }, layers: [null] }, "m")).toBe("m: layers[0] is not a descriptor");
  });
});

test("workDirOwner: only KIND-PID-XXXXXX of a known kind", () => {
  expect(workDirOwner("load-1234-AbC123")).toBe(1234);
  expect(workDirOwner("import-7-zzzzzz")).toBe(7);
  expect(workDirOwner("layer-99-ABCDEF")).toBe(99);
  expect(workDirOwner("leases")).toBeUndefined();
  expect(workDirOwner("partial")).toBeUndefined();
  expect(workDirOwner("load-ABC123")).toBeUndefined();
  expect(workDirOwner("other-12-ABCDEF")).toBeUndefined();
  expect(workDirOwner("load-0-ABCDEF")).toBeUndefined();
  expect(workDirOwner("load-12-ABCDEF/x")).toBeUndefined();
});

test("fdinfoCloseOnExec: the O_CLOEXEC bit of the octal flags line", () => {
  expect(fdinfoCloseOnExec("pos:\t0\nflags:\t02100002\nmnt_id:\t25\n")).toBe(true);
  expect(fdinfoCloseOnExec("pos:\t0\nflags:\t0100001\nmnt_id:\t25\n")).toBe(false);
  expect(fdinfoCloseOnExec("pos:\t0\nflags:\t04001\n")).toBe(false);
  expect(fdinfoCloseOnExec("garbage")).toBe(false);
});

test("isLegacyWorkDir: the KIND-XXXXXX names of older tsd", () => {
  expect(isLegacyWorkDir("load-Ab12Cd")).toBe(true);
  expect(isLegacyWorkDir("stdin-Ab12Cd")).toBe(true);
  expect(isLegacyWorkDir("load-123-Ab12Cd")).toBe(false);
  expect(isLegacyWorkDir("leases")).toBe(false);
  expect(isLegacyWorkDir("partial")).toBe(false);
});
