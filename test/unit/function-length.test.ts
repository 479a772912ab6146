// TigerBeetle's 70-line rule (TIGER_STYLE), held by scripts/function-length.ts: no Zig function
// and no TypeScript function over 70 lines.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { maxLines, offenders, tsFunctions, zigFunctions } from "../../scripts/function-length";

const repo = join(import.meta.dir, "../..");

const body = (n: number) => Array.from({ length: n }, (_, i) => `    x += ${i};`).join("\n");

describe("the scanner", () => {
  test("Zig: a function runs from `fn` to its closing brace; types, strings and comments do not confuse it", () => {
    const src = [
      "const S = struct {",
      "    f: *const fn (u8) void,",
      "    pub fn method(s: *S) error{Bad}!struct { a: u8 } {",
      '        const t = "}}{"; // }',
      "        _ = s;",
      "        _ = t;",
      "        \\\\ a multiline string with }",
      "        return .{ .a = '}' };",
      "    }",
      "};",
      'test "not a function" {',
      "}",
      "fn long() void {",
      body(69),
      "}",
    ].join("\n");
    expect(zigFunctions(src)).toEqual([
      { name: "method", start: 3, end: 9 },
      { name: "long", start: 13, end: 83 },
    ]);
  });

  test("TypeScript: declarations, methods and assigned arrows; inline callbacks and calls are not functions", () => {
    const src = [
      "export async function a(x: { y: number }): Promise<{ z: string }> {",
      "  const re = /[}{]/g;",
      "  const s = `${x.y}} ${`${'}'}`}`;",
      "  test('cb', () => {",
      "  });",
      "  if (x) {",
      "  }",
      "}",
      "class C {",
      "  static m(): void {",
      "  }",
      "}",
      "const f = async (v: number): Promise<void> => {",
      "};",
      "const g = (v: number) => v + 1;",
    ].join("\n");
    expect(tsFunctions(src)).toEqual([
      { name: "a", start: 1, end: 8 },
      { name: "m", start: 10, end: 11 },
      { name: "f", start: 13, end: 14 },
    ]);
  });
});

describe(`functions are at most ${maxLines} lines`, () => {
  test("Zig (zig/)", () => {
    const found = offenders([join(repo, "zig")]).map((o) => `${o.file}:${o.start} ${o.name}: ${o.lines} lines`);
    expect(found).toEqual([]);
  });
  test("TypeScript (src/)", () => {
    const found = offenders([join(repo, "src")]).map((o) => `${o.file}:${o.start} ${o.name}: ${o.lines} lines`);
    expect(found).toEqual([]);
  });
});
