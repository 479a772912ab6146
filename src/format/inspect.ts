// `inspect -f` as the Docker CLI runs it (cli/command/inspect): a template error at parse time
// exits 64; at execution it is reported per object ("template parsing error: …", exit 1) after
// the others are printed. Docker first runs the template on its typed structs and, when that
// fails, on the JSON decoded into maps with missingkey=error: so a missing field is an error,
// while a missing key of one of the structs' Go maps (Labels, Options, Networks …) prints
// <no value>, and a nil Go map prints map[] (JSON null).
import { TsdError } from "../errors";
import { parse, TemplateError } from "./template";
import { NIL_MAPS } from "./template/values";

/** Keys whose values are Go maps in Docker's inspect types. */
const GO_MAP_KEYS = new Set([
  "Labels", "Options", "DriverOpts", "ExposedPorts", "Volumes", "Ports", "Networks", "Containers", "Data", "Annotations",
  "Sysctls", "Tmpfs", "StorageOpt", "Status", "Services", "Peers", "IPAMOptions", "OnBuild",
]);

function markGoMaps(v: unknown, lenient: WeakSet<object>, parentKey = ""): unknown {
  if (Array.isArray(v)) return v.map((x) => markGoMaps(x, lenient));
  if (!v || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const goMap = GO_MAP_KEYS.has(k) || (k === "Config" && parentKey === "LogConfig");
    if (goMap && x === null && k !== "OnBuild") {
      const nil = {};
      NIL_MAPS.add(nil);
      lenient.add(nil);
      out[k] = nil;
      continue;
    }
    const y = markGoMaps(x, lenient, k);
    if (goMap && y && typeof y === "object" && !Array.isArray(y)) lenient.add(y);
    out[k] = y;
  }
  return out;
}

export interface InspectResult {
  out: string;
  errors: string[];
}

/** Renders `format` for each object; parse errors throw TsdError(…, 64). */
export function renderInspect(format: string, objects: unknown[]): InspectResult {
  if (format === "json") return { out: JSON.stringify(objects) + "\n", errors: [] };
  let tpl;
  try {
    tpl = parse(format);
  } catch (e) {
    if (e instanceof TemplateError) throw new TsdError(`template parsing error: ${e.message}`, 64);
    throw e;
  }
  let out = "";
  const errors: string[] = [];
  for (const o of objects) {
    const lenient = new WeakSet<object>();
    const data = markGoMaps(o, lenient);
    try {
      out += tpl.execute(data, { missingKey: "error", lenient: (m) => lenient.has(m) }) + "\n";
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errors.push(`template parsing error: ${e.message}`);
    }
  }
  return { out: out === "" ? "\n" : out, errors };
}

/** Prints inspect output: the indented JSON array, or the template per object. Returns the errors. */
export function printInspect(format: string | undefined, objects: unknown[]): string[] {
  if (format === undefined || format === "") {
    process.stdout.write(JSON.stringify(objects, null, 4) + "\n");
    return [];
  }
  const r = renderInspect(format, objects);
  process.stdout.write(r.out);
  return r.errors;
}
