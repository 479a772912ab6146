// Dockerfile variable substitution and word splitting, after moby's shell lexer
// (frontend/dockerfile/shell/lex.go as Docker 20.10 ships it): `$VAR`, `${VAR}`,
// `${VAR:-word}`, `${VAR:+word}`, `${VAR:?message}`; single quotes are literal, double quotes
// expand and keep spaces, the escape character (`\` or the `# escape=` directive's) makes the
// next character literal (inside double quotes only before `"`, `$` or itself). Unset
// variables expand to "". Pure: no environment but the map given.

export class WordError extends Error {}

type Env = ReadonlyMap<string, string>;

interface Piece {
  text: string;
  /** Unquoted expansion results are split into words by processWords. */
  splittable: boolean;
}

class Scanner {
  i = 0;
  constructor(
    readonly s: string,
    readonly escape: string,
    readonly env: Env,
  ) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  next(): string | undefined {
    return this.s[this.i++];
  }
}

/** One word: quotes removed, variables expanded (no splitting). */
export function processWord(word: string, env: Env, escape = "\\"): string {
  const sc = new Scanner(word, escape, env);
  return pieces(sc, undefined)
    .map((p) => p.text)
    .join("");
}

/**
 * A heredoc's content: variables expanded, quotes and everything else kept (an escaped `$`
 * stays a literal `$`), as BuildKit expands an unquoted heredoc for COPY.
 */
export function processHeredoc(text: string, env: Env, escape = "\\"): string {
  const sc = new Scanner(text, escape, env);
  let out = "";
  for (;;) {
    const ch = sc.next();
    if (ch === undefined) return out;
    if (ch === "$") out += dollar(sc);
    else if (ch === escape && sc.peek() === "$") out += sc.next();
    else out += ch;
  }
}

/** Words as a shell would split them: at unquoted white space, and inside unquoted expansions. */
export function processWords(text: string, env: Env, escape = "\\"): string[] {
  const sc = new Scanner(text, escape, env);
  const words: string[] = [];
  let cur = "";
  let has = false;
  for (const p of pieces(sc, undefined, true)) {
    if (!p.splittable) {
      cur += p.text;
      has = true;
      continue;
    }
    const parts = p.text.split(/[ \t\r\n]+/);
    parts.forEach((part, i) => {
      if (i > 0 && has) {
        words.push(cur);
        cur = "";
        has = false;
      }
      if (part !== "") {
        cur += part;
        has = true;
      }
    });
  }
  if (has) words.push(cur);
  return words;
}

/** Reads up to `stop` (or the end); white space is splittable when `split`. */
function pieces(sc: Scanner, stop: string | undefined, split = false): Piece[] {
  const out: Piece[] = [];
  for (;;) {
    const ch = sc.peek();
    if (ch === undefined) {
      if (stop !== undefined) throw new WordError(`missing '${stop}' in substitution`);
      return out;
    }
    if (ch === stop) {
      sc.next();
      return out;
    }
    sc.next();
    if (ch === "'") out.push({ text: singleQuoted(sc), splittable: false });
    else if (ch === '"') out.push({ text: doubleQuoted(sc), splittable: false });
    else if (ch === "$") out.push({ text: dollar(sc), splittable: split });
    else if (ch === sc.escape) {
      const c = sc.next();
      if (c !== undefined) out.push({ text: c, splittable: false });
    } else out.push({ text: ch, splittable: split && /[ \t\r\n]/.test(ch) });
  }
}

function singleQuoted(sc: Scanner): string {
  const end = sc.s.indexOf("'", sc.i);
  if (end < 0) throw new WordError("unexpected end of statement while looking for matching single-quote");
  const text = sc.s.slice(sc.i, end);
  sc.i = end + 1;
  return text;
}

function doubleQuoted(sc: Scanner): string {
  let out = "";
  for (;;) {
    const ch = sc.next();
    if (ch === undefined) throw new WordError("unexpected end of statement while looking for matching double-quote");
    if (ch === '"') return out;
    if (ch === "$") out += dollar(sc);
    else if (ch === sc.escape) {
      const c = sc.peek();
      if (c === '"' || c === "$" || c === sc.escape) {
        sc.next();
        out += c;
      } else out += ch;
    } else out += ch;
  }
}

const NAME_CHAR = /[A-Za-z0-9_]/;

function name(sc: Scanner): string {
  let n = "";
  // A positional parameter ($1) is its digits alone, as moby's lexer reads it.
  if (/[0-9]/.test(sc.peek() ?? "")) {
    while (/[0-9]/.test(sc.peek() ?? "")) n += sc.next();
    return n;
  }
  while (sc.peek() !== undefined && NAME_CHAR.test(sc.peek()!)) n += sc.next();
  return n;
}

function dollar(sc: Scanner): string {
  if (sc.peek() !== "{") {
    const n = name(sc);
    return n === "" ? "$" : (sc.env.get(n) ?? "");
  }
  sc.next();
  const n = name(sc);
  if (n === "") throw new WordError(`bad substitution: a variable name must follow "\${"`);
  const ch = sc.next();
  if (ch === "}") return sc.env.get(n) ?? "";
  if (ch !== ":") throw new WordError(ch === undefined ? "missing '}' in substitution" : "missing ':' in substitution");
  const modifier = sc.next();
  const word = pieces(sc, "}")
    .map((p) => p.text)
    .join("");
  const value = sc.env.get(n) ?? "";
  switch (modifier) {
    case "-":
      return value === "" ? word : value;
    case "+":
      return value === "" ? "" : word;
    case "?":
      if (value === "") throw new WordError(`${n}: ${word === "" ? "is not allowed to be unset" : word}`);
      return value;
    default:
      throw new WordError(`unsupported modifier (${modifier ?? ""}) in substitution`);
  }
}

/**
 * `K=V K2="a b"` words as Docker's parseNameVal splits them before expansion: at white space
 * outside quotes, the quotes and escapes kept (processWord removes them).
 */
export function rawWords(text: string, escape = "\\"): string[] {
  const words: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === undefined && /[ \t\r\n]/.test(ch)) {
      if (cur !== "") words.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
    if (ch === escape && quote !== "'" && i + 1 < text.length) cur += text[++i];
    else if (quote === undefined && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = undefined;
  }
  if (quote !== undefined) throw new WordError(`unmatched ${quote} in "${text}"`);
  if (cur !== "") words.push(cur);
  return words;
}
