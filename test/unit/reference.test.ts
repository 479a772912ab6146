import { describe, expect, test } from "bun:test";
import { canonical, familiarName, parseReference, ReferenceError } from "../../src/image/reference";

describe("parseReference", () => {
  const cases: [string, string, string][] = [
    ["busybox", "docker.io/library/busybox:latest", "busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"],
    ["user/app:1", "docker.io/user/app:1", "user/app:1"],
    ["index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest"],
    ["127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b:tag"],
    ["localhost/x", "localhost/x:latest", "localhost/x:latest"],
    ["quay.io/org/img", "quay.io/org/img:latest", "quay.io/org/img:latest"],
    ["localhost:5000/x:1", "localhost:5000/x:1", "localhost:5000/x:1"],
    [`host:5000/a/b:t@sha256:${"b".repeat(64)}`, `host:5000/a/b:t@sha256:${"b".repeat(64)}`, `host:5000/a/b:t@sha256:${"b".repeat(64)}`],
    [`alpine@sha256:${"a".repeat(64)}`, `docker.io/library/alpine@sha256:${"a".repeat(64)}`, `alpine@sha256:${"a".repeat(64)}`],
  ];
  for (const [input, full, short] of cases) {
    test(input, () => {
      const ref = parseReference(input);
      expect(canonical(ref)).toBe(full);
      expect(familiarName(ref)).toBe(short);
    });
  }
  for (const bad of ["", "Busybox", "a//b", "x:", "x@sha256:zz", "-x", "a:b:c/d", "host:99999999/x", "x@md5:abc", "a/", "x:-tag"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parseReference(bad)).toThrow(ReferenceError);
    });
  }
});
