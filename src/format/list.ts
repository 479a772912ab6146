// The Docker CLI's list output (cli/command/formatter): `--format` is "table" (the command's
// default columns), "table TEMPLATE" (a header row, then aligned columns), "json" ({{json .}}
// per row) or a template, one line per row; \t and \n in it are tab and newline.
import { TsdError } from "../errors";
import { parse, GoStruct, TemplateError, type GoMethod } from "./template";
import { ALL_FUNCS } from "./template/exec";
import type { Func } from "./template/funcs";
import { tabwrite } from "./tabwriter";
import { stdout } from "../io";

export interface ListSpec {
  /** The default columns, without "table " (ps: "{{.ID}}\t{{.Image}}…"). */
  table: string;
  /** Header text per field, as Docker's SubHeaderContext (ID: "CONTAINER ID"). */
  headers: Record<string, string>;
}

/** Docker's HeaderFunctions: the header row runs the same template on the header map. */
const HEADER_FUNCS: Record<string, Func> = {
  ...ALL_FUNCS,
  json: { params: ["string"], fn: (v: string) => v },
  split: { params: ["string", "string"], fn: (v: string) => v },
  join: { params: ["string", "string"], fn: (v: string) => v },
  title: { params: ["string"], fn: (v: string) => v },
  lower: { params: ["string"], fn: (v: string) => v },
  upper: { params: ["string"], fn: (v: string) => v },
  pad: { params: ["string", "int", "int"], fn: (v: string) => v },
  truncate: { params: ["string", "int"], fn: (v: string) => v },
};

/** `{{.Label "com.example.my-label"}}`'s header: "my label", as docker prints it. */
const LABEL_HEADER: GoMethod = { params: ["string"], fn: (k) => (k as string).split(".").pop()!.replace(/[-_]/g, " ") };

/** The template text Docker runs for `format` (its preFormat), and whether it is a table. */
export function finalFormat(format: string | undefined, spec: ListSpec): { text: string; table: boolean } {
  const f = format === undefined || format === "" || format === "table" ? `table ${spec.table}` : format;
  let text = f;
  const table = f.startsWith("table");
  if (table) text = f.slice("table".length);
  else if (f === "json") text = "{{json .}}";
  text = text.replace(/^ +| +$/g, "").replaceAll("\\t", "\t").replaceAll("\\n", "\n");
  return { text, table };
}

const parseError = (e: unknown): never => {
  if (e instanceof TemplateError) throw new TsdError(`template parsing error: ${e.message}`, 1);
  throw e;
};

/** Renders rows as `docker ps --format …` does; throws TsdError (exit 1) on a template error. */
export function formatList(format: string | undefined, rows: unknown[], spec: ListSpec): string {
  const { text, table } = finalFormat(format, spec);
  let body = "";
  try {
    const tpl = parse(text);
    for (const r of rows) body += tpl.execute(r) + "\n";
  } catch (e) {
    parseError(e);
  }
  if (!table) return body;
  let header: string;
  try {
    header = parse(text, HEADER_FUNCS).execute(new GoStruct("formatter.SubHeaderContext", spec.headers, { Label: LABEL_HEADER }));
  } catch (e) {
    // Docker ignores the header's execution error and keeps what was written before it.
    header = e instanceof TemplateError ? e.partial : "";
  }
  return tabwrite(header + "\n" + body);
}

/** Writes formatList's output (no trailing newline of its own), through io.ts's one writer
 *  (process.stdout would load Bun's stream machinery for one write). */
export function printList(format: string | undefined, rows: unknown[], spec: ListSpec): void {
  const text = formatList(format, rows, spec);
  if (text !== "") stdout.write(text);
}

/** A formatter context: zero-argument values as fields (JSON keys sorted, as Docker's marshal), and methods. */
export function context(typeName: string, fields: Record<string, unknown>, methods: Record<string, GoMethod> = {}): GoStruct {
  const sorted = Object.fromEntries(Object.keys(fields).sort().map((k) => [k, fields[k]]));
  return new GoStruct(typeName, sorted, methods);
}

/** The `.Label "key"` method of Docker's contexts: the label's value or "". */
export function labelMethod(labels: Record<string, string>): GoMethod {
  return { params: ["string"], fn: (k) => labels[k as string] ?? "" };
}

/** "k=v,k2=v2" as Docker's Labels column (sorted here; Go's map order is random). */
export const labelsText = (labels: Record<string, string>): string =>
  Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",");
