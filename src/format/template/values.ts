// How JSON-like JS values stand for Go values in templates: null is a nil interface, an
// integral number is an int, a fractional number (or an F64) a float64, arrays are slices,
// plain objects maps (map[string]string when every value is a string), GoStruct a struct
// with fields and methods (Docker's formatter contexts: .ID, .Label "k").

export class F64 {
  constructor(readonly v: number) {}
}

export type ParamType = "any" | "string" | "int" | "[]string" | "value";

export interface GoMethod {
  params: ParamType[];
  variadic?: ParamType;
  fn: (...args: unknown[]) => unknown;
}

export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: Record<string, unknown>,
    readonly methods: Record<string, GoMethod> = {},
    /** What `json` marshals it to when Go's JSON tags differ from its field names (events' Message). */
    readonly json?: unknown,
  ) {}
}

export type Kind = "invalid" | "nil" | "bool" | "int" | "float" | "string" | "slice" | "map" | "struct";

export function kindOf(v: unknown): Kind {
  if (v === undefined) return "invalid";
  if (v === null) return "nil";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (v instanceof F64) return "float";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "slice";
  if (v instanceof GoStruct) return "struct";
  return "map";
}

export const numOf = (v: unknown): number => (v instanceof F64 ? v.v : (v as number));

const allStrings = (xs: unknown[]): boolean => xs.every((x) => typeof x === "string");

/** The element type name of a slice or map ("string" or "interface {}"). */
export function elemType(v: unknown): string {
  if (Array.isArray(v)) return allStrings(v) ? "string" : "interface {}";
  if (v && typeof v === "object" && !(v instanceof GoStruct) && !(v instanceof F64)) return allStrings(Object.values(v)) ? "string" : "interface {}";
  return "interface {}";
}

export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case "nil":
      return "interface {}";
    case "bool":
      return "bool";
    case "int":
      return "int";
    case "float":
      return "float64";
    case "string":
      return "string";
    case "slice":
      return `[]${elemType(v)}`;
    case "map":
      return `map[string]${elemType(v)}`;
    case "struct":
      return (v as GoStruct).typeName;
    default:
      return "<invalid reflect.Value>";
  }
}

/** Go's map iteration order in templates and fmt: sorted keys. */
export const sortedKeys = (m: object): string[] => Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Empty maps that stand for a Go nil map: they print map[] and encode as JSON null. */
export const NIL_MAPS = new WeakSet<object>();
