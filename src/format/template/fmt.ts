// Go's fmt as templates reach it: Sprint, Sprintln, Sprintf with the common verbs and flags,
// %v of slices ([a b]), maps (map[a:1 b:2], sorted keys) and structs ({a b}), and Go's
// texts for bad verbs and missing or extra arguments.
import { goQuote } from "./lex";
import { F64, GoStruct, kindOf, numOf, sortedKeys, typeName } from "./values";

interface Flags {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}
const NOFLAGS: Flags = { minus: false, plus: false, sharp: false, space: false, zero: false };

const runeLen = (s: string): number => [...s].length;

function pad(s: string, f: Flags, zeroOK = false): string {
  if (f.width === undefined) return s;
  const n = f.width - runeLen(s);
  if (n <= 0) return s;
  if (f.minus) return s + " ".repeat(n);
  if (f.zero && zeroOK) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(n) + s.slice(sign.length);
  }
  return " ".repeat(n) + s;
}

/** strconv.FormatFloat(v, 'g', -1, 64) as %v prints it: %e when the exponent is < -4 or >= 6 (1e+06). */
export function formatFloatV(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const [mant, expS] = v.toExponential().split("e") as [string, string];
  const exp = Number(expS);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(v);
}

/** toFixed, but an exact tie rounds to even as Go's strconv does (2.5 -> "2"). */
function toFixedEven(v: number, prec: number): string {
  const scaled = v * 10 ** prec;
  if (Math.abs(scaled) < 2 ** 52 && Math.abs(scaled % 1) === 0.5) {
    const down = Math.trunc(scaled);
    const r = down % 2 === 0 ? down : down + Math.sign(scaled);
    return (r / 10 ** prec).toFixed(prec);
  }
  return v.toFixed(prec);
}

function expForm(s: string, upper: boolean): string {
  const [m, e] = s.split("e") as [string, string];
  const n = Number(e);
  const out = `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  return upper ? out.toUpperCase() : out;
}

function formatFloat(v: number, verb: string, f: Flags): string {
  let s: string;
  const prec = f.prec;
  switch (verb) {
    case "e":
    case "E":
      s = expForm(v.toExponential(prec ?? 6), verb === "E");
      break;
    case "f":
    case "F":
      s = toFixedEven(v, prec ?? 6);
      break;
    default: {
      // g, G, v
      if (prec === undefined) s = formatFloatV(v);
      else {
        const p = prec === 0 ? 1 : prec;
        const [, e] = v.toExponential(p - 1).split("e") as [string, string];
        const exp = Number(e);
        s = exp < -4 || exp >= p ? expForm(v.toExponential(p - 1).replace(/\.?0+e/, "e"), false) : String(Number(v.toPrecision(p)));
      }
      if (verb === "G") s = s.toUpperCase();
    }
  }
  if (f.plus && v >= 0) s = "+" + s;
  else if (f.space && v >= 0) s = " " + s;
  return pad(s, f, true);
}

function formatInt(v: number, verb: string, f: Flags): string {
  const neg = v < 0;
  const a = BigInt(Math.abs(v));
  let digits: string;
  let prefix = "";
  switch (verb) {
    case "b":
      digits = a.toString(2);
      if (f.sharp) prefix = "0b";
      break;
    case "o":
    case "O":
      digits = a.toString(8);
      if (verb === "O") prefix = "0o";
      else if (f.sharp && digits[0] !== "0") prefix = "0";
      break;
    case "x":
      digits = a.toString(16);
      if (f.sharp) prefix = "0x";
      break;
    case "X":
      digits = a.toString(16).toUpperCase();
      if (f.sharp) prefix = "0X";
      break;
    default:
      digits = a.toString(10);
  }
  if (f.prec !== undefined) {
    if (f.prec === 0 && v === 0) digits = "";
    digits = digits.padStart(f.prec, "0");
  } else if (f.zero && !f.minus && f.width !== undefined) {
    const sign = neg || f.plus || f.space ? 1 : 0;
    digits = digits.padStart(f.width - sign - prefix.length, "0");
  }
  const sign = neg ? "-" : f.plus ? "+" : f.space ? " " : "";
  return pad(sign + prefix + digits, { ...f, zero: false });
}

function quoteRune(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = goQuote(ch);
  return `'${q.slice(1, -1)}'`;
}

function badVerb(verb: string, v: unknown): string {
  if (v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${printValue(v, "v", NOFLAGS)})`;
}

function hexString(s: string, upper: boolean, f: Flags): string {
  let out = "";
  const bytes = new TextEncoder().encode(s);
  bytes.forEach((b, i) => {
    if (f.space && i > 0) out += " ";
    if (f.sharp && (f.space || i === 0)) out += upper ? "0X" : "0x";
    out += b.toString(16).padStart(2, "0");
  });
  return upper ? out.toUpperCase().replaceAll("0X", "0X") : out;
}

function formatString(s: string, verb: string, f: Flags): string {
  if (f.prec !== undefined && (verb === "s" || verb === "v" || verb === "q")) s = [...s].slice(0, f.prec).join("");
  switch (verb) {
    case "v":
    case "s":
      return pad(s, f);
    case "q":
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(s)) return pad("`" + s + "`", f);
      return pad(f.plus ? asciiQuote(s) : goQuote(s), f);
    case "x":
    case "X":
      return pad(hexString(s, verb === "X", f), f);
  }
  return badVerb(verb, s);
}

function asciiQuote(s: string): string {
  return goQuote(s).replace(/[^\x00-\x7f]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, "0")}` : `\\U${cp.toString(16).padStart(8, "0")}`;
  });
}

/** One operand under one verb, as fmt's printArg/printValue do. */
export function printValue(v: unknown, verb: string, f: Flags): string {
  if (verb === "T") return pad(v === null ? "<nil>" : typeName(v), f);
  switch (kindOf(v)) {
    case "nil":
      return verb === "v" ? pad("<nil>", f) : badVerb(verb, v);
    case "invalid":
      return verb === "v" ? pad("<invalid reflect.Value>", f) : `%!${verb}(<invalid reflect.Value>)`;
    case "bool":
      return verb === "v" || verb === "t" ? pad(String(v), f) : badVerb(verb, v);
    case "int":
      return formatIntVerb(v as number, verb, f);
    case "float":
      return "vgGeEfF".includes(verb) ? formatFloat(numOf(v), verb, f) : badVerb(verb, v);
    case "string":
      return formatString(v as string, verb, f);
    case "slice":
      return `[${(v as unknown[]).map((x) => printElem(x, verb, f)).join(" ")}]`;
    case "map": {
      const m = v as Record<string, unknown>;
      return `map[${sortedKeys(m).map((k) => `${printValue(k, verb, f)}:${printElem(m[k], verb, f)}`).join(" ")}]`;
    }
    case "struct": {
      const s = v as GoStruct;
      return `{${Object.entries(s.fields).map(([k, x]) => (f.plus ? `${k}:` : "") + printElem(x, verb, f)).join(" ")}}`;
    }
  }
}

/** Inside a slice, map or struct a nil interface prints <nil> under every verb. */
const printElem = (x: unknown, verb: string, f: Flags): string => (x === null ? pad("<nil>", f) : printValue(x, verb, f));

function formatIntVerb(v: number, verb: string, f: Flags): string {
  switch (verb) {
    case "v":
    case "d":
    case "b":
    case "o":
    case "O":
    case "x":
    case "X":
      return formatInt(v, verb, f);
    case "c":
      return pad(String.fromCodePoint(v), f);
    case "q":
      return pad(quoteRune(v), f);
    case "U":
      return pad(`U+${v.toString(16).toUpperCase().padStart(4, "0")}`, f);
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return badVerb(verb, v);
  }
  return badVerb(verb, v);
}

const isStringArg = (v: unknown): boolean => typeof v === "string";

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && !isStringArg(a) && !isStringArg(args[i - 1])) out += " ";
    out += printValue(a, "v", NOFLAGS);
  });
  return out;
}

export function sprintln(args: unknown[]): string {
  return args.map((a) => printValue(a, "v", NOFLAGS)).join(" ") + "\n";
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = "";
  let argNum = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { ...NOFLAGS };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === "-") [f.minus, f.zero] = [true, false];
      else if (c === "+") f.plus = true;
      else if (c === "#") f.sharp = true;
      else if (c === " ") f.space = true;
      else if (c === "0") f.zero = !f.minus;
      else break;
    }
    const w = /^\d+/.exec(format.slice(i));
    if (w) {
      f.width = Number(w[0]);
      i += w[0].length;
    }
    if (format[i] === ".") {
      i++;
      const p = /^\d+/.exec(format.slice(i));
      f.prec = p ? Number(p[0]) : 0;
      if (p) i += p[0].length;
    }
    if (i >= format.length) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argNum++];
    out += verb === "v" && f.sharp ? printValue(a, "v", f) : printValue(a, verb, f);
  }
  if (argNum < args.length) {
    out += "%!(EXTRA " + args.slice(argNum).map((a) => (a === null ? "<nil>" : `${typeName(a)}=${printValue(a, "v", NOFLAGS)}`)).join(", ") + ")";
  }
  return out;
}

export { F64 };
