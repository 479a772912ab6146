import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyChanges } from "../../src/image/commit";
import { renderInspect } from "../../src/format/inspect";
import { TarWriter } from "../../src/image/tar";

describe("applyChanges (commit --change)", () => {
  test("exec and shell forms, ENV forms, WORKDIR relative, EXPOSE, LABEL", () => {
    const c = applyChanges({ Env: ["PATH=/bin", "A=0"], WorkingDir: "/srv" }, [
      'CMD ["a", "b"]',
      "ENTRYPOINT run me",
      'ENV A=1 B="two words"',
      "ENV C three words",
      "WORKDIR app",
      "EXPOSE 80 53/udp",
      "LABEL k=v",
      "USER 1000",
    ]);
    expect(c.Cmd).toEqual(["a", "b"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c", "run me"]);
    expect(c.Env).toEqual(["PATH=/bin", "A=1", "B=two words", "C=three words"]);
    expect(c.WorkingDir).toBe("/srv/app");
    expect(c.ExposedPorts).toEqual({ "80/tcp": {}, "53/udp": {} });
    expect(c.Labels).toEqual({ k: "v" });
    expect(c.User).toBe("1000");
  });
  test("the input is not modified", () => {
    const base = { Env: ["A=0"] };
    applyChanges(base, ["ENV A=1"]);
    expect(base.Env).toEqual(["A=0"]);
  });
  test("unknown or malformed instructions are errors", () => {
    expect(() => applyChanges({}, ["RUN echo"])).toThrow(/RUN is not one of/);
    expect(() => applyChanges({}, ["CMD"])).toThrow(/invalid --change/);
  });
});

describe("renderInspect (docker inspect -f)", () => {
  const doc = { Id: "sha256:x", Config: { Cmd: ["sh"], Env: ["A=1"], Labels: { a: "1" }, Volumes: null }, Size: 5 };
  test("fields, json, a missing field is an error, a missing label is <no value>, a nil Go map is map[] and null", () => {
    expect(renderInspect("{{.Id}} {{ .Size }}", [doc]).out).toBe("sha256:x 5\n");
    expect(renderInspect("{{json .Config.Cmd}}", [doc]).out).toBe('["sh"]\n');
    expect(renderInspect("{{.Config.Env}}", [doc]).out).toBe("[A=1]\n");
    expect(renderInspect("{{.Config.Labels.b}} {{.Config.Volumes}} {{json .Config.Volumes}} {{.Config.Volumes.x}}", [doc]).out).toBe("<no value> map[] null <no value>\n");
    expect(renderInspect("{{.Nope}}", [doc, doc])).toEqual({
      out: "\n",
      errors: Array(2).fill('template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
    });
    expect(() => renderInspect("{{.Id", [doc])).toThrow("template parsing error: template: :1: unclosed action");
  });
});

describe("TarWriter", () => {
  test("GNU tar reads long names, links, devices and xattrs back", async () => {
    const dir = mkdtempSync("/tmp/tsd-unit-tar-");
    try {
      const chunks: Uint8Array[] = [];
      const tw = new TarWriter((c) => chunks.push(c.slice()));
      const long = `${"d".repeat(120)}/${"f".repeat(120)}`;
      tw.header({ name: "dir", type: "dir", mode: 0o755, uid: 0, gid: 0, mtime: 1 });
      tw.addBytes(long, new TextEncoder().encode("hello"), 0o600, 2);
      tw.header({ name: "ln", type: "symlink", linkname: "l".repeat(150), mode: 0o777, uid: 0, gid: 0, mtime: 3 });
      tw.header({ name: "null", type: "char", mode: 0o666, uid: 0, gid: 0, mtime: 4, devmajor: 1, devminor: 3 });
      tw.header({ name: "cap", type: "file", mode: 0o755, uid: 1000, gid: 1000, mtime: 5, size: 0, xattrs: { "user.k": new TextEncoder().encode("v") } });
      tw.end();
      expect(tw.bytes % 512).toBe(0);
      const file = join(dir, "t.tar");
      writeFileSync(file, Buffer.concat(chunks));
      const proc = Bun.spawnSync(["tar", "--numeric-owner", "--xattrs", "-tvf", file]);
      const out = proc.stdout.toString();
      expect(proc.exitCode).toBe(0);
      expect(out).toContain(long);
      expect(out).toContain(`ln -> ${"l".repeat(150)}`);
      expect(out).toMatch(/^crw-rw-rw-\s+0\/0\s+1,3 .* null$/m);
      expect(out).toMatch(/^-rwxr-xr-x\* 1000\/1000 .* cap$/m); // * : it has xattrs
      const x = Bun.spawnSync(["tar", "--xattrs", "--xattrs-include=*", "-xOf", file, long]);
      expect(x.stdout.toString()).toBe("hello");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("images --filter", () => {
  const image = (labels: Record<string, string>) => ({ id: "x", config: { config: { Labels: labels } }, layers: [], size: 0, loadedAt: 0 }) as never;
  const rows = [
    { repository: "busybox", tag: "latest", image: image({ tier: "base" }) },
    { repository: "example.com/team/app", tag: "1", image: image({ tier: "app", team: "a" }) },
    { repository: "<none>", tag: "<none>", image: image({}) },
  ];
  test("dangling, label and reference globs; Docker's errors", async () => {
    const { imageFilter } = await import("../../src/cli/images");
    expect(rows.filter(imageFilter(["dangling=true"]))).toEqual([rows[2]!]);
    expect(rows.filter(imageFilter(["dangling=false"])).length).toBe(2);
    expect(rows.filter(imageFilter(["reference=busy*"]))).toEqual([rows[0]!]);
    expect(rows.filter(imageFilter(["reference=example.com/*/app:1"]))).toEqual([rows[1]!]);
    expect(rows.filter(imageFilter(["reference=*"]))).toEqual([rows[0]!, rows[2]!]);
    expect(rows.filter(imageFilter(["label=tier"])).length).toBe(2);
    expect(rows.filter(imageFilter(["label=tier=app", "label=team"]))).toEqual([rows[1]!]);
    expect(() => imageFilter(["color=x"])).toThrow("Invalid filter 'color'");
    expect(() => imageFilter(["dangling=maybe"])).toThrow("Invalid filter 'dangling=[maybe]'");
  });
});
