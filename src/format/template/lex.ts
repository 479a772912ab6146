// The lexer of Go's text/template (text/template/parse/lex.go), item for item, so positions,
// trim markers and error texts match Go's.

export type ItemType =
  | "error" | "bool" | "char" | "charConstant" | "assign" | "declare" | "eof" | "field" | "identifier"
  | "leftDelim" | "leftParen" | "number" | "pipe" | "rawString" | "rightDelim" | "rightParen" | "space"
  | "string" | "text" | "variable" | "comment"
  // keywords
  | "block" | "break" | "continue" | "dot" | "define" | "else" | "end" | "if" | "nil" | "range" | "template" | "with";

export interface Item {
  typ: ItemType;
  pos: number;
  val: string;
  line: number;
}

const KEYWORDS: Record<string, ItemType> = {
  ".": "dot", block: "block", break: "break", continue: "continue", define: "define", else: "else", end: "end",
  if: "if", range: "range", nil: "nil", template: "template", with: "with",
};
export const isKeyword = (t: ItemType): boolean => Object.values(KEYWORDS).includes(t);

const LEFT = "{{";
const RIGHT = "}}";
const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string): boolean => c === "_" || /^[\p{L}\p{Nd}]$/u.test(c);
const hasLeftTrim = (s: string): boolean => s.length >= 2 && s[0] === "-" && isSpace(s[1]!);
const hasRightTrim = (s: string): boolean => s.length >= 2 && isSpace(s[0]!) && s[1] === "-";
const leftTrimLength = (s: string): number => s.length - s.replace(/^[ \t\r\n]+/, "").length;
const rightTrimLength = (s: string): number => s.length - s.replace(/[ \t\r\n]+$/, "").length;

type State = ((l: Lexer) => State) | null;

class Lexer {
  items: Item[] = [];
  pos = 0;
  start = 0;
  line = 1;
  startLine = 1;
  parenDepth = 0;
  constructor(readonly input: string, readonly breakOK: boolean) {}

  next(): string {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1; // so backup() works at EOF
      return "";
    }
    const cp = this.input.codePointAt(this.pos)!;
    const c = String.fromCodePoint(cp);
    this.pos += c.length;
    if (c === "\n") this.line++;
    return c;
  }
  backup(c: string): void {
    if (c === "") {
      this.pos = this.input.length;
      return;
    }
    this.pos -= c.length;
    if (c === "\n") this.line--;
  }
  peek(): string {
    if (this.pos >= this.input.length) return "";
    return String.fromCodePoint(this.input.codePointAt(this.pos)!);
  }
  emit(typ: ItemType): void {
    this.items.push({ typ, pos: this.start, val: this.input.slice(this.start, this.pos), line: this.startLine });
    this.ignore();
  }
  ignore(): void {
    this.start = this.pos;
    this.startLine = this.line;
  }
  skipTo(pos: number): void {
    this.line += countNL(this.input.slice(this.pos, pos));
    this.pos = pos;
  }
  errorf(msg: string): State {
    this.items.push({ typ: "error", pos: this.start, val: msg, line: this.startLine });
    return null;
  }
  accept(valid: string): boolean {
    const c = this.next();
    if (c !== "" && valid.includes(c)) return true;
    this.backup(c);
    return false;
  }
  acceptRun(valid: string): void {
    for (;;) {
      const c = this.next();
      if (c === "" || !valid.includes(c)) {
        this.backup(c);
        return;
      }
    }
  }
  rest(): string {
    return this.input.slice(this.pos);
  }
  atRightDelim(): [boolean, boolean] {
    if (hasRightTrim(this.rest()) && this.input.startsWith(RIGHT, this.pos + 2)) return [true, true];
    if (this.rest().startsWith(RIGHT)) return [true, false];
    return [false, false];
  }
  atTerminator(): boolean {
    const r = this.peek();
    if (isSpace(r)) return true;
    if (r === "" || ".,|:)(".includes(r)) return true;
    return this.rest().startsWith(RIGHT);
  }
}

const countNL = (s: string): number => {
  let n = 0;
  for (const c of s) if (c === "\n") n++;
  return n;
};

function lexText(l: Lexer): State {
  const x = l.input.indexOf(LEFT, l.pos);
  if (x < 0) {
    l.skipTo(l.input.length);
    if (l.pos > l.start) l.emit("text");
    l.emit("eof");
    return null;
  }
  let trimLength = 0;
  const delimEnd = x + LEFT.length;
  if (hasLeftTrim(l.input.slice(delimEnd))) trimLength = rightTrimLength(l.input.slice(l.pos, x));
  l.skipTo(x);
  const textEnd = x - trimLength;
  if (textEnd > l.start) {
    const save = l.pos;
    l.pos = textEnd;
    l.items.push({ typ: "text", pos: l.start, val: l.input.slice(l.start, textEnd), line: l.startLine });
    l.pos = save;
  }
  l.start = l.pos;
  l.startLine = l.line;
  return lexLeftDelim;
}

function lexLeftDelim(l: Lexer): State {
  l.pos += LEFT.length;
  const trim = hasLeftTrim(l.rest());
  const after = trim ? 2 : 0;
  if (l.input.startsWith("/*", l.pos + after)) {
    l.pos += after;
    l.ignore();
    return lexComment;
  }
  l.emit("leftDelim");
  l.pos += after;
  l.ignore();
  l.parenDepth = 0;
  return lexInsideAction;
}

function lexComment(l: Lexer): State {
  l.pos += 2;
  const x = l.input.indexOf("*/", l.pos);
  if (x < 0) return l.errorf("unclosed comment");
  l.skipTo(x + 2);
  const [delim, trim] = l.atRightDelim();
  if (!delim) return l.errorf("comment ends before closing delimiter");
  if (trim) l.pos += 2;
  l.pos += RIGHT.length;
  if (trim) l.skipTo(l.pos + leftTrimLength(l.rest()));
  l.ignore();
  return lexText;
}

function lexRightDelim(l: Lexer): State {
  const [, trim] = l.atRightDelim();
  if (trim) {
    l.pos += 2;
    l.ignore();
  }
  l.pos += RIGHT.length;
  l.emit("rightDelim");
  if (trim) {
    l.skipTo(l.pos + leftTrimLength(l.rest()));
    l.ignore();
  }
  return lexText;
}

function lexInsideAction(l: Lexer): State {
  const [delim] = l.atRightDelim();
  if (delim) {
    if (l.parenDepth === 0) return lexRightDelim;
    return l.errorf("unclosed left paren");
  }
  const r = l.next();
  if (r === "") return l.errorf("unclosed action");
  if (isSpace(r)) {
    l.backup(r);
    return lexSpace;
  }
  switch (r) {
    case "=":
      l.emit("assign");
      return lexInsideAction;
    case ":":
      if (l.next() !== "=") return l.errorf("expected :=");
      l.emit("declare");
      return lexInsideAction;
    case "|":
      l.emit("pipe");
      return lexInsideAction;
    case '"':
      return lexQuote;
    case "`":
      return lexRawQuote;
    case "$":
      return lexVariable;
    case "'":
      return lexChar;
    case "(":
      l.emit("leftParen");
      l.parenDepth++;
      return lexInsideAction;
    case ")":
      l.emit("rightParen");
      l.parenDepth--;
      if (l.parenDepth < 0) {
        l.items.pop(); // Go's lexer replaces the pending item with the error
        return l.errorf("unexpected right paren");
      }
      return lexInsideAction;
  }
  if (r === ".") {
    const n = l.peek();
    if (!(n >= "0" && n <= "9") || n === "") return lexField;
  }
  if (r === "." || r === "+" || r === "-" || (r >= "0" && r <= "9")) {
    l.backup(r);
    return lexNumber;
  }
  if (isAlnum(r)) {
    l.backup(r);
    return lexIdentifier;
  }
  const cp = r.codePointAt(0)!;
  if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) {
    l.emit("char");
    return lexInsideAction;
  }
  return l.errorf(`unrecognized character in action: ${unicodeHash(r)}`);
}

/** Go's %#U: U+0021 '!'. */
export function unicodeHash(r: string): string {
  const cp = r === "" ? 0xfffd : r.codePointAt(0)!;
  const hex = cp.toString(16).toUpperCase().padStart(4, "0");
  const printable = cp >= 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp < 0xa0);
  return printable ? `U+${hex} '${r}'` : `U+${hex}`;
}

function lexSpace(l: Lexer): State {
  let n = 0;
  while (isSpace(l.peek())) {
    l.next();
    n++;
  }
  if (hasRightTrim(l.input.slice(l.pos - 1)) && l.input.startsWith(RIGHT, l.pos - 1 + 2)) {
    l.backup(l.input[l.pos - 1]!);
    if (n === 1) return lexRightDelim;
  }
  l.emit("space");
  return lexInsideAction;
}

function lexIdentifier(l: Lexer): State {
  for (;;) {
    const r = l.next();
    if (r !== "" && isAlnum(r)) continue;
    l.backup(r);
    const word = l.input.slice(l.start, l.pos);
    if (!l.atTerminator()) return l.errorf(`bad character ${unicodeHash(l.next())}`);
    const kw = KEYWORDS[word];
    if (kw && Object.hasOwn(KEYWORDS, word)) {
      l.emit((kw === "break" || kw === "continue") && !l.breakOK ? "identifier" : kw);
    } else if (word[0] === ".") l.emit("field");
    else if (word === "true" || word === "false") l.emit("bool");
    else l.emit("identifier");
    return lexInsideAction;
  }
}

const lexField = (l: Lexer): State => lexFieldOrVariable(l, "field");

function lexVariable(l: Lexer): State {
  if (l.atTerminator()) {
    l.emit("variable");
    return lexInsideAction;
  }
  return lexFieldOrVariable(l, "variable");
}

function lexFieldOrVariable(l: Lexer, typ: ItemType): State {
  if (l.atTerminator()) {
    l.emit(typ === "variable" ? "variable" : "dot");
    return lexInsideAction;
  }
  let r: string;
  for (;;) {
    r = l.next();
    if (r === "" || !isAlnum(r)) {
      l.backup(r);
      break;
    }
  }
  if (!l.atTerminator()) return l.errorf(`bad character ${unicodeHash(l.next())}`);
  l.emit(typ);
  return lexInsideAction;
}

function lexChar(l: Lexer): State {
  for (;;) {
    let c = l.next();
    if (c === "\\") {
      c = l.next();
      if (c !== "" && c !== "\n") continue;
    }
    if (c === "" || c === "\n") return l.errorf("unterminated character constant");
    if (c === "'") break;
  }
  l.emit("charConstant");
  return lexInsideAction;
}

function scanNumber(l: Lexer): boolean {
  l.accept("+-");
  let digits = "0123456789_";
  if (l.accept("0")) {
    if (l.accept("xX")) digits = "0123456789abcdefABCDEF_";
    else if (l.accept("oO")) digits = "01234567_";
    else if (l.accept("bB")) digits = "01_";
  }
  l.acceptRun(digits);
  if (l.accept(".")) l.acceptRun(digits);
  if (digits.length === 11 && l.accept("eE")) {
    l.accept("+-");
    l.acceptRun("0123456789_");
  }
  if (digits.length === 23 && l.accept("pP")) {
    l.accept("+-");
    l.acceptRun("0123456789_");
  }
  l.accept("i");
  const p = l.peek();
  if (p !== "" && isAlnum(p)) {
    l.next();
    return false;
  }
  return true;
}

function lexNumber(l: Lexer): State {
  if (!scanNumber(l)) return l.errorf(`bad number syntax: ${goQuote(l.input.slice(l.start, l.pos))}`);
  const sign = l.peek();
  if (sign === "+" || sign === "-") {
    if (!scanNumber(l) || l.input[l.pos - 1] !== "i") return l.errorf(`bad number syntax: ${goQuote(l.input.slice(l.start, l.pos))}`);
    l.emit("number"); // complex: rejected by the parser
  } else l.emit("number");
  return lexInsideAction;
}

function lexQuote(l: Lexer): State {
  for (;;) {
    let c = l.next();
    if (c === "\\") {
      c = l.next();
      if (c !== "" && c !== "\n") continue;
    }
    if (c === "" || c === "\n") return l.errorf("unterminated quoted string");
    if (c === '"') break;
  }
  l.emit("string");
  return lexInsideAction;
}

function lexRawQuote(l: Lexer): State {
  for (;;) {
    const c = l.next();
    if (c === "") return l.errorf("unterminated raw quoted string");
    if (c === "`") break;
  }
  l.emit("rawString");
  return lexInsideAction;
}

/** All items of `input`, ending with eof or an error item. */
export function lex(input: string, breakOK = true): Item[] {
  const l = new Lexer(input, breakOK);
  let state: State = lexText;
  while (state) state = state(l);
  return l.items;
}

/** strconv.Quote for the texts of error messages. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\v") out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp === 0xfffd && ch !== "\ufffd") out += "\\ufffd";
    else if (isPrintableUnicode(cp)) out += ch;
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

function isPrintableUnicode(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return !/[\p{C}\p{Z}]/u.test(ch) || cp === 0x20;
}
