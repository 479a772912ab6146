import { describe, expect, test } from "bun:test";
import { parseRunMount } from "../../src/image/build/run-mount";
import { platformArgs } from "../../src/image/build/stages";

describe("parseRunMount", () => {
  test("bind: the context's / by default, read-only unless rw; aliases", () => {
    expect(parseRunMount("target=/m", 3)).toEqual({ type: "bind", target: "/m", source: "/", rw: false });
    expect(parseRunMount("type=bind,src=a,dst=/m,from=s,rw", 3)).toEqual({ type: "bind", target: "/m", source: "a", from: "s", rw: true });
    expect(parseRunMount("type=bind,target=/m,rw=true,ro", 3)).toMatchObject({ rw: false });
  });
  test("cache: id defaults to the target; owner and octal mode", () => {
    expect(parseRunMount("type=cache,target=/c", 1)).toEqual({ type: "cache", target: "/c", id: "/c", readonly: false, sharing: "shared", uid: 0, gid: 0, mode: 0o755 });
    expect(parseRunMount("type=cache,target=/c,id=x,uid=1000,gid=5,mode=0700,sharing=locked", 1)).toMatchObject({ id: "x", uid: 1000, gid: 5, mode: 0o700, sharing: "locked" });
  });
  test("tmpfs: size with units", () => {
    expect(parseRunMount("type=tmpfs,target=/t,size=64m", 1)).toEqual({ type: "tmpfs", target: "/t", size: 64 * 1024 * 1024 });
  });
  test("refusals name the line and the fix", () => {
    expect(() => parseRunMount("type=secret,id=a", 7)).toThrow(/line 7: RUN --mount=type=secret is not supported: tsd build has no --secret/);
    expect(() => parseRunMount("type=ssh", 7)).toThrow(/type=ssh is not supported/);
    expect(() => parseRunMount("type=volume,target=/x", 7)).toThrow(/unknown mount type "volume"/);
    expect(() => parseRunMount("type=tmpfs,target=/t,from=x", 7)).toThrow(/unknown key "from"/);
    expect(() => parseRunMount("type=cache", 7)).toThrow(/a target is required/);
    expect(() => parseRunMount("type=cache,target=/c,mode=999", 7)).toThrow(/mode=999 is not an octal mode/);
    expect(() => parseRunMount("type=cache,target=/c,sharing=x", 7)).toThrow(/want shared, private or locked/);
  });
});

test("platformArgs: BuildKit's BUILD*/TARGET* args", () => {
  const m = platformArgs("linux/amd64", "linux/arm64/v8");
  expect(Object.fromEntries(m)).toEqual({
    BUILDPLATFORM: "linux/amd64", BUILDOS: "linux", BUILDARCH: "amd64", BUILDVARIANT: "",
    TARGETPLATFORM: "linux/arm64/v8", TARGETOS: "linux", TARGETARCH: "arm64", TARGETVARIANT: "v8",
  });
});
