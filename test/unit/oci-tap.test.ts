import { describe, expect, test } from "bun:test";
import { countFile, diagnosticError, parseTap, splitDirective } from "../oci/tap.ts";

const SAMPLE = `TAP version 13
ok 1 - has config
not ok 2 - hostname matches
  ---
  reference: https://example.invalid/spec#x
  stderr: |
    not ok 99 - a line inside the YAML block
    1..7
  ...
ok 3 # SKIP no kmem on this host
not ok 4 - flaky thing # TODO later
1..4
`;

describe("parseTap", () => {
  test("reads test lines, skips YAML blocks, finds the plan", () => {
    const s = parseTap(SAMPLE);
    expect(s.plan).toBe(4);
    expect(s.results.map((r) => [r.ok, r.number, r.description, r.directive])).toEqual([
      [true, 1, "has config", ""],
      [false, 2, "hostname matches", ""],
      [true, 3, "", "skip"],
      [false, 4, "flaky thing", "todo"],
    ]);
  });

  test("counts skips as ok, TODO failures as ok, and a whole file's breakage", () => {
    expect(countFile(parseTap(SAMPLE), 1)).toEqual({ ok: 3, notOk: 1, skipped: 1, broken: "", noTests: false });
    expect(countFile(parseTap("TAP version 13\nfailed to delete\n1..0\n"), 0)).toEqual({ ok: 0, notOk: 0, skipped: 0, broken: "", noTests: true });
    expect(countFile(parseTap("ok 1 - a\n"), 2).broken).toBe("no plan (exit 2)");
    expect(countFile(parseTap("ok 1 - a\n"), 0).broken).toBe("no plan (exit 0)");
    expect(countFile(parseTap(""), 1).broken).toBe("no plan (exit 1)");
    expect(countFile(parseTap(""), 0)).toEqual({ ok: 0, notOk: 0, skipped: 0, broken: "", noTests: true });
    expect(countFile(parseTap("ok 1 - a\n1..3\n"), 0).broken).toBe("planned 3, ran 1");
    expect(countFile(parseTap("ok 1 - a\n1..1\n"), null).broken).toBe("timed out");
    expect(countFile(parseTap("ok 1 - a\n1..1\n"), 1).broken).toBe("exit 1 with no failing test");
    expect(countFile(parseTap("Bail out! no runtime\n"), 1).broken).toBe("bailed out");
  });

  test("two TAP streams in one program: the plans add up", () => {
    const s = parseTap("TAP version 13\nok 1 - a\nok 2 - b\n1..2\nTAP version 13\n1..0\n");
    expect(s.plan).toBe(2);
    expect(countFile(s, 0).broken).toBe("");
  });

  test("a hook program's 1..0 after an error diagnostic is broken, a bare 1..0 is not", () => {
    const failed = 'TAP version 13\n  ---\n  {\n    "error": "Pre-start hooks MUST be called\\nRefer to: x"\n  }\n  ...\n1..0\n';
    expect(parseTap(failed).diagnostics.length).toBe(1);
    expect(countFile(parseTap(failed), 0)).toEqual({ ok: 0, notOk: 0, skipped: 0, broken: "no test, an error: Pre-start hooks MUST be called", noTests: false });
    expect(countFile(parseTap("TAP version 13\n1..0\n"), 0).noTests).toBe(true);
    expect(diagnosticError("  a: b")).toBe("a: b");
  });

  test("splitDirective", () => {
    expect(splitDirective("x # skip why")).toEqual({ description: "x", directive: "skip" });
    expect(splitDirective("plain")).toEqual({ description: "plain", directive: "" });
  });
});
