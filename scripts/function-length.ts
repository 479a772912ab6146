// Functions longer than TigerBeetle's 70 lines (TIGER_STYLE), in Zig and TypeScript: prints each
// offender as `path:line name: N lines` and exits 1 when there is one.
//   bun scripts/function-length.ts [--max N] [PATH...]      (default: zig src)
// A function's length runs from the line of `fn` (Zig) or of its name / `function` / the
// arrow's `=` (TS) to the line of its closing brace, both counted. Zig: every `fn` with a body
// (test blocks are not functions). TS: function declarations and expressions, methods
// (constructors, accessors), and arrow functions with a block body that are assigned (`x =
// (…) => {`); a callback passed inline (`test("…", () => {…})`) is not counted.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export const maxLines = 70;

export interface FunctionSpan {
  name: string;
  /** 1-based lines of the first and the last line, both part of the function. */
  start: number;
  end: number;
}

export interface Offender extends FunctionSpan {
  file: string;
  lines: number;
}

interface Token {
  text: string;
  line: number;
}

// ---- Zig -------------------------------------------------------------------------------------

/** Zig's significant tokens: comments, string, char and multiline-string literals dropped. */
export function zigTokens(src: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const skipLine = () => {
    while (i < src.length && src[i] !== "\n") i++;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (src.startsWith("//", i) || src.startsWith("\\\\", i)) {
      skipLine();
    } else if (c === '"' || c === "'") {
      i = skipQuoted(src, i, c);
      out.push({ text: c === '"' ? "<string>" : "<char>", line });
    } else if (c === "@" && src[i + 1] === '"') {
      i = skipQuoted(src, i + 1, '"');
      out.push({ text: "<ident>", line });
    } else if (/[A-Za-z0-9_@]/.test(c)) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_@]/.test(src[i]!)) i++;
      out.push({ text: src.slice(start, i), line });
    } else {
      out.push({ text: c, line });
      i++;
    }
  }
  return out;
}

/** The index just past a quoted literal that starts at `i` (a backslash escapes one character). */
function skipQuoted(src: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < src.length && src[j] !== quote && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
  return j + 1;
}

/** The index of the token that closes the bracket opened at `open`. */
function matching(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { "(": ")", "{": "}", "[": "]" };
  const close = pairs[tokens[open]!.text]!;
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j]!.text;
    if (t === tokens[open]!.text) depth++;
    else if (t === close && --depth === 0) return j;
  }
  return tokens.length - 1;
}

const zigTypeBlocks = new Set(["error", "struct", "enum", "union", "opaque"]);

/** Every Zig function with a body: from `fn` to its closing brace. */
export function zigFunctions(src: string): FunctionSpan[] {
  const tokens = zigTokens(src);
  const spans: FunctionSpan[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.text !== "fn") continue;
    const named = tokens[i + 1]?.text !== "(";
    const paren = named ? i + 2 : i + 1;
    if (tokens[paren]?.text !== "(") continue;
    const body = zigBody(tokens, matching(tokens, paren) + 1);
    if (body < 0) continue;
    spans.push({ name: named ? tokens[i + 1]!.text : "(fn)", start: tokens[i]!.line, end: tokens[matching(tokens, body)]!.line });
  }
  return spans;
}

/** After a parameter list: the index of the body's `{`, or -1 for a function type. */
function zigBody(tokens: Token[], from: number): number {
  let depth = 0;
  for (let j = from; j < tokens.length; j++) {
    const t = tokens[j]!.text;
    if (t === "(" || t === "[") depth++;
    else if (t === ")" || t === "]") {
      if (depth-- === 0) return -1;
    } else if (depth === 0 && (t === ";" || t === "," || t === "=")) return -1;
    else if (t === "{") {
      if (depth === 0 && !zigTypeBlocks.has(tokens[j - 1]!.text)) return j;
      j = matching(tokens, j);
    }
  }
  return -1;
}

// ---- TypeScript ------------------------------------------------------------------------------

const regexAfter = new Set(["(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "return", "typeof", "=>", "+", "-", "*", "%", "<", ">", "~", "^"]);

/** TypeScript's significant tokens: comments, strings and regex literals dropped, a template
 *  literal's text dropped and its `${…}` parts kept as code. */
export function tsTokens(src: string): Token[] {
  const out: Token[] = [];
  const braces: ("code" | "template")[] = [];
  let line = 1;
  let i = 0;
  const push = (text: string) => out.push({ text, line });
  /** Template text from `i` to its end or to a `${`. */
  const template = () => {
    while (i < src.length && src[i] !== "`") {
      if (src[i] === "\\") i++;
      else if (src[i] === "\n") line++;
      else if (src[i] === "$" && src[i + 1] === "{") {
        i += 2;
        braces.push("template");
        return;
      }
      i++;
    }
    i++;
    push("<template>");
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith("//", i)) {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (src.startsWith("/*", i)) {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === "\n") line++;
      i = stop;
    } else if (c === '"' || c === "'") {
      i = skipQuoted(src, i, c);
      push("<string>");
    } else if (c === "`") {
      i++;
      template();
    } else if (c === "/" && (out.length === 0 || regexAfter.has(out[out.length - 1]!.text))) {
      i = skipRegex(src, i);
      push("<regex>");
    } else if (/[A-Za-z0-9_$]/.test(c)) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_$]/.test(src[i]!)) i++;
      push(src.slice(start, i));
    } else if (c === "=" && src[i + 1] === ">") {
      push("=>");
      i += 2;
    } else if (c === "{") {
      braces.push("code");
      push("{");
      i++;
    } else if (c === "}" && braces[braces.length - 1] === "template") {
      braces.pop();
      i++;
      template();
    } else {
      if (c === "}") braces.pop();
      push(c);
      i++;
    }
  }
  return out;
}

function skipRegex(src: string, i: number): number {
  let j = i + 1;
  let inClass = false;
  while (j < src.length && src[j] !== "\n") {
    const c = src[j]!;
    if (c === "\\") j++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) break;
    j++;
  }
  j++;
  while (j < src.length && /[a-z]/.test(src[j]!)) j++;
  return j;
}

const tsKeywords = new Set(["if", "for", "while", "switch", "catch", "with", "function", "return", "typeof", "await", "new", "super", "import"]);
const tsModifiers = new Set(["async", "static", "get", "set", "public", "private", "protected", "override", "readonly", "*"]);

/** After a parameter list: the index of the body's `{`, or -1 (a call, a signature, a type). */
function tsBody(tokens: Token[], from: number, arrow: boolean): number {
  let j = from;
  if (tokens[j]?.text === ":") j = skipTsType(tokens, j + 1);
  if (arrow) {
    if (tokens[j]?.text !== "=>") return -1;
    j++;
  }
  return tokens[j]?.text === "{" ? j : -1;
}

/** A return type annotation from `j`: the index of the first token after it. */
function skipTsType(tokens: Token[], j: number): number {
  let depth = 0;
  for (; j < tokens.length; j++) {
    const t = tokens[j]!.text;
    const prev = tokens[j - 1]!.text;
    if (t === "(" || t === "[" || t === "<") depth++;
    else if (t === ")" || t === "]" || (t === ">" && prev !== "=")) depth--;
    else if (t === "{") {
      if (depth === 0 && !["|", "&", ":", "<", ",", "=>"].includes(prev)) return j;
      j = matching(tokens, j);
    } else if (depth === 0 && (t === "=>" || t === ";" || t === "=")) return j;
  }
  return j;
}

/** Every TypeScript function counted by the rule (see the top of this file). */
export function tsFunctions(src: string): FunctionSpan[] {
  const tokens = tsTokens(src);
  const spans: FunctionSpan[] = [];
  const add = (name: string, startToken: number, body: number) =>
    spans.push({ name, start: tokens[startToken]!.line, end: tokens[matching(tokens, body)]!.line });
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.text;
    if (t === "function") {
      let j = i + 1;
      if (tokens[j]?.text === "*") j++;
      const name = tokens[j]?.text === "(" ? "(function)" : tokens[j++]!.text;
      if (tokens[j]?.text === "<") j = skipAngles(tokens, j);
      if (tokens[j]?.text !== "(") continue;
      const body = tsBody(tokens, matching(tokens, j) + 1, false);
      if (body >= 0) add(name, i, body);
    } else if (t === "(" && i > 0) {
      const arrow = assignedArrow(tokens, i);
      if (arrow) {
        const body = tsBody(tokens, matching(tokens, i) + 1, true);
        if (body >= 0) add(arrow.name, arrow.start, body);
      } else if (isMethodName(tokens, i - 1)) {
        const body = tsBody(tokens, matching(tokens, i) + 1, false);
        if (body >= 0) add(tokens[i - 1]!.text, i - 1, body);
      }
    }
  }
  return spans;
}

function skipAngles(tokens: Token[], j: number): number {
  let depth = 0;
  for (; j < tokens.length; j++) {
    if (tokens[j]!.text === "<") depth++;
    else if (tokens[j]!.text === ">" && --depth === 0) return j + 1;
  }
  return j;
}

/** `x = (…) =>` or `x = async (…) =>`: the arrow's name and first token. */
function assignedArrow(tokens: Token[], paren: number): { name: string; start: number } | undefined {
  let before = paren - 1;
  if (tokens[before]?.text === "async") before--;
  if (tokens[before]?.text !== "=") return undefined;
  // `const x: T = (` keeps the name further back; the line is the `=`'s either way.
  const name = /^[A-Za-z_$]/.test(tokens[before - 1]?.text ?? "") ? tokens[before - 1]!.text : "(arrow)";
  return { name, start: before };
}

/** `name(` in a class body or an object literal: preceded by a separator or a modifier. */
function isMethodName(tokens: Token[], at: number): boolean {
  const name = tokens[at]!.text;
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) || tsKeywords.has(name)) return false;
  const prev = tokens[at - 1]?.text ?? ";";
  return prev === "{" || prev === "}" || prev === ";" || prev === "," || tsModifiers.has(prev);
}

// ---- files -----------------------------------------------------------------------------------

function sourceFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((n) => (n === "node_modules" || n.startsWith(".") ? [] : sourceFiles(join(path, n))))
    .filter((p) => p.endsWith(".zig") || (p.endsWith(".ts") && !p.endsWith(".d.ts")));
}

/** The functions over `max` lines in the Zig and TypeScript files under `paths`. */
export function offenders(paths: string[], max = maxLines): Offender[] {
  const found: Offender[] = [];
  for (const file of paths.flatMap(sourceFiles)) {
    const src = readFileSync(file, "utf8");
    const spans = file.endsWith(".zig") ? zigFunctions(src) : tsFunctions(src);
    for (const s of spans) {
      const lines = s.end - s.start + 1;
      if (lines > max) found.push({ ...s, file, lines });
    }
  }
  return found;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  let max = maxLines;
  const at = args.indexOf("--max");
  if (at >= 0) {
    max = Number(args[at + 1]);
    args.splice(at, 2);
  }
  const found = offenders(args.length > 0 ? args : ["zig", "src"], max);
  for (const o of found) console.log(`${relative(process.cwd(), o.file)}:${o.start} ${o.name}: ${o.lines} lines`);
  console.log(`${found.length} functions over ${max} lines`);
  process.exit(found.length > 0 ? 1 : 0);
}
