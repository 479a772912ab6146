import { describe, expect, test } from "bun:test";
import { authKey, decodeAuth, encodeAuth, parseChallenge } from "../../src/image/registry/auth";
import { allowsHttp, parseRegistryConfig } from "../../src/image/registry/config";
import { endpointsFor } from "../../src/image/registry/client";
import { choosePlatform, parsePlatform } from "../../src/image/media";

describe("parseChallenge", () => {
  test("Docker Hub's bearer challenge", () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
    });
  });
  test("basic, with spaces and an unquoted value", () => {
    expect(parseChallenge('Basic realm="tsd test", charset=UTF-8')).toEqual({ scheme: "basic", params: { realm: "tsd test", charset: "UTF-8" } });
  });
  test("escaped quotes", () => {
    expect(parseChallenge('Bearer realm="a\\"b"')?.params.realm).toBe('a"b');
  });
  test("empty", () => {
    expect(parseChallenge("")).toBeUndefined();
  });
});

describe("credentials", () => {
  test("round trip through base64 user:password (colons in the password kept)", () => {
    expect(decodeAuth(encodeAuth({ username: "u", password: "p:w" }), "x")).toEqual({ username: "u", password: "p:w" });
  });
  test("Docker Hub is filed under its v1 URL", () => {
    expect(authKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(authKey("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });
  test("a malformed entry is an error", () => {
    expect(() => decodeAuth(Buffer.from("nocolon").toString("base64"), "h")).toThrow(/malformed/);
  });
});

describe("config", () => {
  test("defaults", () => {
    const c = parseRegistryConfig({}, "x");
    expect(c).toEqual({ mirrors: [], insecure: [], ca: {}, timeoutMs: 30000, retries: 3 });
  });
  test("mirrors are normalised to scheme://host", () => {
    expect(parseRegistryConfig({ "registry-mirrors": ["https://m.example/"] }, "x").mirrors).toEqual(["https://m.example"]);
  });
  test("bad values are errors naming the key", () => {
    expect(() => parseRegistryConfig({ "registry-mirrors": ["ftp://x"] }, "x")).toThrow(/http/);
    expect(() => parseRegistryConfig({ "registry-mirrors": "x" }, "x")).toThrow(/registry-mirrors/);
    expect(() => parseRegistryConfig({ "registry-timeout": -1 }, "x")).toThrow(/registry-timeout/);
    expect(() => parseRegistryConfig([], "x")).toThrow(/object/);
  });
  test("plain HTTP for loopback and configured insecure registries only", () => {
    const c = parseRegistryConfig({ "insecure-registries": ["lan:5000"] }, "x");
    expect(allowsHttp("127.0.0.1:5000", c)).toBe(true);
    expect(allowsHttp("localhost", c)).toBe(true);
    expect(allowsHttp("[::1]:5000", c)).toBe(true);
    expect(allowsHttp("lan:5000", c)).toBe(true);
    expect(allowsHttp("lan:5001", c)).toBe(false);
    expect(allowsHttp("quay.io", c)).toBe(false);
  });
  test("docker.io goes to its mirrors first, then registry-1.docker.io; others have none", () => {
    const c = parseRegistryConfig({ "registry-mirrors": ["http://127.0.0.1:5001"] }, "x");
    expect(endpointsFor("docker.io", c).map((e) => e.base)).toEqual(["http://127.0.0.1:5001", "https://registry-1.docker.io"]);
    expect(endpointsFor("quay.io", c).map((e) => [e.base, e.schemes])).toEqual([["https://quay.io", ["https"]]]);
    expect(endpointsFor("127.0.0.1:5000", c)[0]!.schemes).toEqual(["https", "http"]);
  });
});

describe("platforms", () => {
  const list = [
    { digest: "a", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { digest: "b", platform: { os: "linux", architecture: "amd64" } },
    { digest: "c", platform: { os: "linux", architecture: "arm", variant: "v7" } },
    { digest: "d", platform: { os: "linux", architecture: "arm", variant: "v6" } },
  ];
  test("parse", () => {
    expect(parsePlatform("linux/arm64/v8")).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    expect(parsePlatform("linux/x86_64")).toEqual({ os: "linux", architecture: "amd64" });
    expect(parsePlatform("arm64")).toEqual({ os: "linux", architecture: "arm64" });
    expect(() => parsePlatform("a/b/c/d")).toThrow(/invalid platform/);
  });
  test("choose", () => {
    expect(choosePlatform(list, { os: "linux", architecture: "amd64" })?.digest).toBe("b");
    expect(choosePlatform(list, { os: "linux", architecture: "arm64" })?.digest).toBe("a");
    expect(choosePlatform(list, { os: "linux", architecture: "arm", variant: "v6" })?.digest).toBe("d");
    expect(choosePlatform(list, { os: "linux", architecture: "s390x" })).toBeUndefined();
  });
});
