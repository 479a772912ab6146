// The Docker CLI's list formatting: tabwriter alignment, table headers from the header map,
// "json", raw templates, and template errors as Docker reports them.
import { describe, expect, test } from "bun:test";
import { tabwrite } from "../../src/format/tabwriter";
import { context, finalFormat, formatList, labelMethod, type ListSpec } from "../../src/format/list";
import { goTime } from "../../src/format/time";

describe("tabwriter (minwidth 10, padding 3)", () => {
  test("columns are as wide as their widest cell plus 3, at least 10; the last cell is not padded", () => {
    expect(tabwrite("CONTAINER ID\tNAMES\nabc\tweb\n")).toBe("CONTAINER ID   NAMES\nabc            web\n");
    expect(tabwrite("a\tb\tc\n")).toBe("a         b         c\n");
    expect(tabwrite("a\t\tc\nlonger-than-ten\tx\ty\n")).toBe(`a${" ".repeat(27)}c\nlonger-than-ten   x         y\n`); // checked with Go's text/tabwriter
  });
  test("a line without tabs ends a column block", () => {
    expect(tabwrite("a\tb\nplain\nlonger-cell-here\tc\n")).toBe("a         b\nplain\nlonger-cell-here   c\n");
  });
  test("widths count runes", () => {
    expect(tabwrite("é\tb\n")).toBe("é         b\n");
  });
});

const spec: ListSpec = { table: "{{.ID}}\\t{{.Names}}", headers: { ID: "CONTAINER ID", Names: "NAMES" } };
const rows = [
  context("*formatter.ContainerContext", { ID: "0123456789ab", Names: "web" }, { Label: labelMethod({ app: "x" }) }),
  context("*formatter.ContainerContext", { ID: "ba9876543210", Names: "db" }, { Label: labelMethod({}) }),
];

describe("formatList", () => {
  test("Docker's preFormat: table prefix, json, \\t and \\n escapes", () => {
    expect(finalFormat(undefined, spec)).toEqual({ text: "{{.ID}}\t{{.Names}}", table: true });
    expect(finalFormat("table", spec)).toEqual({ text: "{{.ID}}\t{{.Names}}", table: true });
    expect(finalFormat("json", spec)).toEqual({ text: "{{json .}}", table: false });
    expect(finalFormat("{{.ID}}\\n", spec)).toEqual({ text: "{{.ID}}\n", table: false });
  });
  test("the default table, a custom table with headers, a raw template, json", () => {
    expect(formatList(undefined, rows, spec)).toBe("CONTAINER ID   NAMES\n0123456789ab   web\nba9876543210   db\n");
    expect(formatList("table {{.Names}}\\t{{.Label \"app\"}}", rows, spec)).toBe("NAMES     app\nweb       x\ndb        \n");
    expect(formatList("{{.Names}}:{{.Label \"app\"}}", rows, spec)).toBe("web:x\ndb:\n");
    expect(formatList("json", rows.slice(0, 1), spec)).toBe('{"ID":"0123456789ab","Names":"web"}\n');
    expect(formatList("table {{upper .Names}}", rows, spec)).toBe("NAMES\nWEB\nDB\n");
  });
  test("an empty list still prints the header", () => {
    expect(formatList(undefined, [], spec)).toBe("CONTAINER ID   NAMES\n");
  });
  test("template errors: Docker's text, status 1", () => {
    expect(() => formatList("{{.Nope}}", rows, spec)).toThrow(
      'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
    );
    expect(() => formatList("{{.ID", rows, spec)).toThrow("template parsing error: template: :1: unclosed action");
  });
});

test("goTime prints as Go's time.Time.String()", () => {
  process.env.TZ = "UTC";
  expect(goTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))).toBe("2024-01-02 03:04:05 +0000 UTC");
});

test("a .Label column's header is the label's last dotted part, - and _ as spaces (docker ps)", () => {
  expect(formatList('table {{.Names}}\\t{{.Label "com.example.my-label"}}', rows.slice(0, 1), spec)).toBe("NAMES     my label\nweb       \n");
});
