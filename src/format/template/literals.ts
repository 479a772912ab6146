// Go's literal syntax as text/template reads it: strconv.Unquote, UnquoteChar, ParseInt(s, 0, 64)
// and ParseFloat, and parse.newNumber's rules for which of int/float a constant is.

export interface NumberValue {
  isInt: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int: number;
  float: number;
}

const SIMPLE: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

/** One possibly escaped character of a quoted literal: [char, rest] or undefined when invalid. */
function unquoteOne(s: string, quote: string): [string, string] | undefined {
  const c = s[0];
  if (c === undefined) return undefined;
  if (c === quote && quote !== "`") return undefined;
  if (c !== "\\") {
    const ch = String.fromCodePoint(s.codePointAt(0)!);
    return [ch, s.slice(ch.length)];
  }
  const e = s[1];
  if (e === undefined) return undefined;
  if (SIMPLE[e] !== undefined) return [SIMPLE[e]!, s.slice(2)];
  if (e === "'" || e === '"') return e === quote ? [e, s.slice(2)] : undefined;
  const hex = (n: number): [string, string] | undefined => {
    const h = s.slice(2, 2 + n);
    if (h.length < n || !/^[0-9a-fA-F]+$/.test(h)) return undefined;
    const v = parseInt(h, 16);
    if (n === 2) return [String.fromCharCode(v), s.slice(2 + n)]; // a byte; good enough for ASCII
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
    return [String.fromCodePoint(v), s.slice(2 + n)];
  };
  if (e === "x") return hex(2);
  if (e === "u") return hex(4);
  if (e === "U") return hex(8);
  if (e >= "0" && e <= "7") {
    const o = s.slice(1, 4);
    if (!/^[0-7]{3}$/.test(o)) return undefined;
    const v = parseInt(o, 8);
    if (v > 255) return undefined;
    return [String.fromCharCode(v), s.slice(4)];
  }
  return undefined;
}

/** strconv.Unquote for "…" and `…` literals. */
export function unquoteString(lit: string): string | undefined {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) return undefined;
  const body = lit.slice(1, -1);
  if (q === "`") return body.includes("`") ? undefined : body.replaceAll("\r", "");
  if (q !== '"') return undefined;
  let out = "";
  let rest = body;
  while (rest.length > 0) {
    if (rest[0] === "\n") return undefined;
    const r = unquoteOne(rest, '"');
    if (!r) return undefined;
    out += r[0];
    rest = r[1];
  }
  return out;
}

/** A character constant ('a', '\n', '\u00e9') as its code point, or Go's error text. */
export function unquoteChar(lit: string): number | string {
  const r = unquoteOne(lit.slice(1), "'");
  if (!r) return "invalid syntax";
  if (r[1] !== "'") return `malformed character constant: ${lit}`;
  return r[0].codePointAt(0)!;
}

const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(text, 0, 64): a bigint, "range" when out of int64, undefined when not an integer. */
function parseIntBase0(text: string): bigint | "range" | undefined {
  let s = text;
  let neg = false;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) [base, digits, prefixed] = [16, s.slice(2), true];
  else if (/^0[oO]/.test(s)) [base, digits, prefixed] = [8, s.slice(2), true];
  else if (/^0[bB]/.test(s)) [base, digits, prefixed] = [2, s.slice(2), true];
  else if (/^0./.test(s)) [base, digits, prefixed] = [8, s.slice(1), true];
  if (digits.includes("_")) {
    // Underscores only between digits, or right after a base prefix.
    const u = prefixed ? "_" + digits : digits;
    if (!/^(_?[0-9a-zA-Z])+$/.test(u) || (!prefixed && digits.startsWith("_"))) return undefined;
    digits = digits.replaceAll("_", "");
  }
  if (digits === "") return undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return undefined;
  const prefix = { 2: "0b", 8: "0o", 10: "", 16: "0x" }[base as 2 | 8 | 10 | 16];
  let v = BigInt(prefix + digits);
  if (neg) v = -v;
  if (v > INT64_MAX || v < -INT64_MAX - 1n) return "range";
  return v;
}

function parseFloatGo(text: string): number | undefined {
  if (text.includes("_")) return undefined;
  if (/^[+-]?0[xX]/.test(text)) return undefined; // hex floats: not supported
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const v = Number(text);
  return Number.isNaN(v) ? undefined : v;
}

/** parse.newNumber: a constant or the error text. */
export function parseGoNumber(text: string): NumberValue | string {
  const n: NumberValue = { isInt: false, isFloat: false, isComplex: false, int: 0, float: 0 };
  if (text.endsWith("i")) return `complex constants (${text}) are not supported`;
  const i = parseIntBase0(text);
  if (typeof i === "bigint") {
    n.isInt = true;
    n.int = Number(i);
    n.isFloat = true;
    n.float = Number(i);
    return n;
  }
  if (i === "range" && !text.startsWith("-")) {
    // Fits uint64 perhaps: Go keeps it as a uint and a float.
    n.isFloat = true;
    n.float = Number(BigInt(text.replace(/^\+/, "").replaceAll("_", "")));
    if (n.float <= 2 ** 64) return { ...n, isInt: false };
  }
  const f = parseFloatGo(text);
  if (f !== undefined) {
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`;
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
      n.isInt = true;
      n.int = f;
    }
    return n;
  }
  return `illegal number syntax: ${JSON.stringify(text)}`;
}
