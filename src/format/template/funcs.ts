// text/template's builtin functions (funcs.go) and the Docker CLI's (cli/templates): the same
// signatures, results and error texts. `Val` arguments are reflect.Values: a value and whether
// it sits in an interface (a JSON map's or slice's element).
import { sprint, sprintf, sprintln } from "./fmt";
import { F64, GoStruct, NIL_MAPS, elemType, kindOf, numOf, typeName, type ParamType } from "./values";

export interface Val {
  v: unknown; // undefined: an invalid reflect.Value (a missing map key)
  iface: boolean;
}
export const INVALID: Val = { v: undefined, iface: false };
export const val = (v: unknown): Val => ({ v, iface: false });

export interface Func {
  params: ParamType[];
  variadic?: ParamType;
  fn: (...args: any[]) => unknown;
  /** Returns a Val (reflect.Value) rather than a plain value. */
  returnsVal?: boolean;
}

export class FuncError extends Error {}

/** indirectInterface: the value inside an interface; a nil interface becomes invalid. */
export const deref = (x: Val): Val => (x.iface ? (x.v === null ? INVALID : val(x.v)) : x);

export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case "invalid":
    case "nil":
      return false;
    case "bool":
      return v as boolean;
    case "int":
    case "float":
      return numOf(v) !== 0;
    case "string":
      return (v as string).length > 0;
    case "slice":
      return (v as unknown[]).length > 0;
    case "map":
      return Object.keys(v as object).length > 0;
    case "struct":
      return true;
  }
}

const utf8Len = (s: string): number => new TextEncoder().encode(s).length;

function indexArg(x: Val, cap: number): number {
  const k = kindOf(x.v);
  if (k === "invalid" || k === "nil") throw new FuncError("cannot index slice/array with nil");
  if (k !== "int") throw new FuncError(`cannot index slice/array with type ${typeName(x.v)}`);
  const n = x.v as number;
  if (n < 0 || n > cap) throw new FuncError(`index out of range: ${n}`);
  return n;
}

function index(item: Val, ...indexes: Val[]): Val {
  let cur = deref(item);
  if (cur.v === undefined) throw new FuncError("index of untyped nil");
  for (const raw of indexes) {
    const ix = deref(raw);
    if (cur.v === null) throw new FuncError("index of nil pointer");
    const k = kindOf(cur.v);
    if (k === "slice" || k === "string") {
      const len = k === "string" ? utf8Len(cur.v as string) : (cur.v as unknown[]).length;
      const x = indexArg(ix, len);
      if (x >= len) throw new FuncError(`reflect: ${k === "string" ? "string" : "slice"} index out of range`);
      cur = k === "string" ? val(new TextEncoder().encode(cur.v as string)[x]) : { v: (cur.v as unknown[])[x], iface: elemType(cur.v) !== "string" };
    } else if (k === "map") {
      const m = cur.v as Record<string, unknown>;
      const et = elemType(m);
      if (ix.v === undefined) throw new FuncError("value is nil; should be of type string");
      if (typeof ix.v !== "string") throw new FuncError(`value has type ${typeName(ix.v)}; should be string`);
      if (Object.hasOwn(m, ix.v)) cur = { v: m[ix.v], iface: et !== "string" };
      else cur = et === "string" ? val("") : { v: null, iface: true };
    } else throw new FuncError(`can't index item of type ${typeName(cur.v)}`);
  }
  return cur;
}

function slice(item: Val, ...indexes: Val[]): Val {
  const it = deref(item);
  if (it.v === undefined) throw new FuncError("slice of untyped nil");
  if (indexes.length > 3) throw new FuncError(`too many slice indexes: ${indexes.length}`);
  const k = kindOf(it.v);
  let len: number;
  if (k === "string") {
    if (indexes.length === 3) throw new FuncError("cannot 3-index slice a string");
    len = utf8Len(it.v as string);
  } else if (k === "slice") len = (it.v as unknown[]).length;
  else throw new FuncError(`can't slice item of type ${typeName(it.v)}`);
  const idx = [0, len, len];
  indexes.forEach((x, i) => (idx[i] = indexArg(deref(x), len)));
  if (idx[0]! > idx[1]!) throw new FuncError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1]! > idx[2]!) throw new FuncError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (k === "string") return val(Buffer.from(it.v as string).subarray(idx[0], idx[1]).toString());
  return val((it.v as unknown[]).slice(idx[0], idx[1]));
}

function length(item: Val): number {
  if (item.v === null) throw new FuncError("len of nil pointer");
  if (item.v === undefined) throw new FuncError("reflect: call of reflect.Value.Type on zero Value");
  const v = item.v;
  switch (kindOf(v)) {
    case "string":
      return utf8Len(v as string);
    case "slice":
      return (v as unknown[]).length;
    case "map":
      return Object.keys(v as object).length;
  }
  throw new FuncError(`len of type ${typeName(v)}`);
}

type BasicKind = "bool" | "int" | "float" | "string" | "invalid";
function basicKind(v: unknown): BasicKind {
  const k = kindOf(v);
  return k === "bool" || k === "int" || k === "float" || k === "string" ? k : "invalid";
}

function eq(arg1: Val, ...rest: Val[]): boolean {
  const a = deref(arg1).v;
  if (rest.length === 0) throw new FuncError("missing argument for comparison");
  const k1 = basicKind(a);
  for (const r of rest) {
    const b = deref(r).v;
    const k2 = basicKind(b);
    let truth: boolean;
    if (k1 !== k2) {
      if (a !== undefined && b !== undefined) throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
      truth = false;
    } else if (k1 === "invalid") {
      const nilA = a === undefined || a === null;
      const nilB = b === undefined || b === null;
      if (!nilA && !nilB) {
        const ka = kindOf(a);
        if (ka === "slice" || ka === "map") throw new FuncError(`non-comparable type ${sprintf("%s", [b])}: ${typeName(b)}`);
        truth = a === b;
      } else truth = nilA === nilB;
    } else truth = numOrSelf(a) === numOrSelf(b);
    if (truth) return true;
  }
  return false;
}
const numOrSelf = (v: unknown): unknown => (v instanceof F64 ? v.v : v);

function lt(arg1: Val, arg2: Val): boolean {
  const a = deref(arg1).v;
  const b = deref(arg2).v;
  const k1 = basicKind(a);
  if (k1 === "invalid") throw new FuncError("invalid type for comparison");
  const k2 = basicKind(b);
  if (k2 === "invalid") throw new FuncError("invalid type for comparison");
  if (k1 !== k2) throw new FuncError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  if (k1 === "bool") throw new FuncError("invalid type for comparison");
  return (numOrSelf(a) as number) < (numOrSelf(b) as number);
}
const le = (a: Val, b: Val): boolean => lt(a, b) || eq(a, b);

/** strings.Title: the first letter of each word in upper case. */
function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const c of s) {
    out += isSeparator(prev) ? c.toUpperCase() : c;
    prev = c;
  }
  return out;
}
function isSeparator(c: string): boolean {
  if (c.codePointAt(0)! <= 0x7f) return !/[0-9A-Za-z_]/.test(c);
  if (/[\p{L}\p{Nd}]/u.test(c)) return false;
  return /\s/u.test(c);
}

function goRepeat(n: number): string {
  if (n < 0) throw new FuncError("strings: negative Repeat count");
  return " ".repeat(n);
}

/** json.Encoder with SetEscapeHTML(false), trailing newline trimmed: map keys sorted. */
export function goJSON(v: unknown): string {
  return JSON.stringify(toJSONValue(v)).replace(/[\u2028\u2029]/g, (c) => (c === "\u2028" ? "\\u2028" : "\\u2029"));
}
function toJSONValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof F64) return v.v;
  if (v && typeof v === "object" && NIL_MAPS.has(v)) return null;
  if (v instanceof GoStruct && v.json !== undefined) return v.json;
  if (v instanceof GoStruct) return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, toJSONValue(x)]));
  if (Array.isArray(v)) return v.map(toJSONValue);
  if (v && typeof v === "object") {
    const m = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(m).sort().map((k) => [k, toJSONValue(m[k])]));
  }
  return v;
}

function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args);
}
const HTML: Record<string, string> = { '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\uFFFD" };
function jsEscape(s: string): string {
  let out = "";
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === "\\" || c === "'" || c === '"') out += "\\" + c;
    else if (c === "<" || c === ">" || c === "&" || c === "=") out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
    else if (cp < 0x20) out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
    else out += c;
  }
  return out;
}
function queryEscape(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export const BUILTINS: Record<string, Func> = {
  and: { params: ["value"], variadic: "value", fn: () => undefined },
  or: { params: ["value"], variadic: "value", fn: () => undefined },
  not: { params: ["value"], fn: (a: Val) => !isTrue(deref(a).v) },
  index: { params: ["value"], variadic: "value", fn: index, returnsVal: true },
  slice: { params: ["value"], variadic: "value", fn: slice, returnsVal: true },
  len: { params: ["value"], fn: (a: Val) => length(a) },
  print: { params: [], variadic: "any", fn: (...a: unknown[]) => sprint(a) },
  printf: { params: ["string"], variadic: "any", fn: (f: string, ...a: unknown[]) => sprintf(f, a) },
  println: { params: [], variadic: "any", fn: (...a: unknown[]) => sprintln(a) },
  eq: { params: ["value"], variadic: "value", fn: eq },
  ne: { params: ["value", "value"], fn: (a: Val, b: Val) => !eq(a, b) },
  lt: { params: ["value", "value"], fn: lt },
  le: { params: ["value", "value"], fn: le },
  gt: { params: ["value", "value"], fn: (a: Val, b: Val) => !le(a, b) },
  ge: { params: ["value", "value"], fn: (a: Val, b: Val) => !lt(a, b) },
  html: { params: [], variadic: "any", fn: (...a: unknown[]) => evalArgs(a).replace(/["'&<>\0]/g, (c) => HTML[c]!) },
  js: { params: [], variadic: "any", fn: (...a: unknown[]) => jsEscape(evalArgs(a)) },
  urlquery: { params: [], variadic: "any", fn: (...a: unknown[]) => queryEscape(evalArgs(a)) },
};

/** The Docker CLI's template functions (cli/templates/templates.go). */
export const DOCKER_FUNCS: Record<string, Func> = {
  json: { params: ["any"], fn: goJSON },
  split: { params: ["string", "string"], fn: (s: string, sep: string) => (sep === "" ? [...s] : s.split(sep)) },
  join: { params: ["[]string", "string"], fn: (a: string[], sep: string) => a.join(sep) },
  title: { params: ["string"], fn: title },
  lower: { params: ["string"], fn: (s: string) => s.toLowerCase() },
  upper: { params: ["string"], fn: (s: string) => s.toUpperCase() },
  pad: { params: ["string", "int", "int"], fn: (s: string, p: number, q: number) => (s === "" ? s : goRepeat(p) + s + goRepeat(q)) },
  truncate: {
    params: ["string", "int"],
    fn: (s: string, n: number) => {
      const b = Buffer.from(s);
      if (b.length < n) return s;
      if (n < 0) throw new FuncError(`runtime error: slice bounds out of range [:${n}]`);
      return b.subarray(0, n).toString();
    },
  },
};

export { sprintln, sprintf };
