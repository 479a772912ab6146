// The parser of Go's text/template (text/template/parse/parse.go): the same nodes, the same
// checks at parse time (defined functions, declared variables) and the same error texts.
import { goQuote, isKeyword, lex, type Item, type ItemType } from "./lex";
import { parseGoNumber, unquoteChar, unquoteString, type NumberValue } from "./literals";

export type Node =
  | { type: "list"; pos: number; nodes: Node[] }
  | { type: "text"; pos: number; text: string }
  | { type: "action"; pos: number; pipe: PipeNode }
  | { type: "if" | "range" | "with"; pos: number; pipe: PipeNode; list: ListNode; elseList: ListNode | null }
  | { type: "break" | "continue"; pos: number }
  | { type: "else" | "end"; pos: number }
  | PipeNode
  | CommandNode
  | ArgNode;

export type ListNode = Extract<Node, { type: "list" }>;
export type ControlNode = Extract<Node, { list: ListNode }>;
export interface PipeNode {
  type: "pipe";
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}
export interface VariableNode {
  type: "variable";
  pos: number;
  ident: string[];
}
export type ArgNode =
  | { type: "field"; pos: number; ident: string[] }
  | VariableNode
  | { type: "chain"; pos: number; node: ArgNode; field: string[] }
  | { type: "identifier"; pos: number; ident: string }
  | { type: "dot" | "nil"; pos: number }
  | { type: "bool"; pos: number; val: boolean }
  | { type: "number"; pos: number; text: string; num: NumberValue }
  | { type: "string"; pos: number; quoted: string; text: string }
  | PipeNode;

export interface Tree {
  root: ListNode;
  text: string;
}

export class TemplateError extends Error {
  /** Execution errors: the output written before the error. */
  partial = "";
}

/** Go's Node.String(). */
export function nodeString(n: Node): string {
  switch (n.type) {
    case "list":
      return n.nodes.map(nodeString).join("");
    case "text":
      return n.text;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "if":
    case "range":
    case "with": {
      const el = n.elseList ? `{{else}}${nodeString(n.elseList)}` : "";
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${el}{{end}}`;
    }
    case "break":
    case "continue":
    case "else":
    case "end":
      return `{{${n.type}}}`;
    case "pipe": {
      const decl = n.decl.length ? `${n.decl.map(nodeString).join(", ")} ${n.isAssign ? "=" : ":="} ` : "";
      return decl + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => (a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a))).join(" ");
    case "field":
      return n.ident.map((i) => `.${i}`).join("");
    case "variable":
      return n.ident.join(".");
    case "chain":
      return (n.node.type === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => `.${f}`).join("");
    case "identifier":
      return n.ident;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(n.val);
    case "number":
      return n.text;
    case "string":
      return n.quoted;
  }
}

/** Go's item.String() as used in "unexpected %s". */
function itemString(i: Item): string {
  if (i.typ === "eof") return "EOF";
  if (i.typ === "error") return i.val;
  if (isKeyword(i.typ)) return `<${i.val}>`;
  if ([...i.val].length > 10) return `${goQuote([...i.val].slice(0, 10).join(""))}...`;
  return goQuote(i.val);
}

class Parser {
  items: Item[];
  idx = 0;
  vars: string[] = ["$"];
  rangeDepth = 0;
  actionLine = 0;
  constructor(readonly text: string, readonly hasFunction: (name: string) => boolean) {
    this.items = lex(text);
  }
  next(): Item {
    const it = this.items[Math.min(this.idx, this.items.length - 1)]!;
    this.idx++;
    return it;
  }
  backup(n = 1): void {
    this.idx -= n;
  }
  peek(): Item {
    return this.items[Math.min(this.idx, this.items.length - 1)]!;
  }
  nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.typ === "space");
    return t;
  }
  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }
  errorf(msg: string): never {
    const last = this.items[Math.max(0, Math.min(this.idx - 1, this.items.length - 1))]!;
    throw new TemplateError(`template: :${last.line}: ${msg}`);
  }
  unexpected(token: Item, context: string): never {
    if (token.typ === "error") {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at :${this.actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(`${token.val}${extra}`);
    }
    this.errorf(`unexpected ${itemString(token)} in ${context}`);
  }
  expect(typ: ItemType, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  parse(): ListNode {
    const root: ListNode = { type: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== "eof") {
      if (this.peek().typ === "leftDelim") {
        let j = this.idx + 1;
        while (this.items[j]?.typ === "space") j++;
        if (this.items[j]?.typ === "define") this.errorf("{{define}} is not supported by tsd's templates");
      }
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return root;
  }

  textOrAction(): Node {
    const token = this.nextNonSpace();
    if (token.typ === "text") return { type: "text", pos: token.pos, text: token.val };
    if (token.typ === "leftDelim") {
      this.actionLine = token.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(token, "input");
  }

  action(): Node {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case "break":
      case "continue":
        return this.loopControl(token);
      case "else":
        return this.elseControl();
      case "end":
        return { type: "end", pos: this.expect("rightDelim", "end").pos };
      case "if":
      case "range":
      case "with":
        return this.control(token.typ);
      case "block":
      case "template":
      case "define":
        this.errorf(`{{${token.val}}} is not supported by tsd's templates`);
    }
    this.backup();
    const pos = this.peek().pos;
    return { type: "action", pos, pipe: this.pipeline("command", "rightDelim") };
  }

  loopControl(token: Item): Node {
    const t = this.nextNonSpace();
    if (t.typ !== "rightDelim") this.unexpected(t, `{{${token.val}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${token.val}}} outside {{range}}`);
    return { type: token.typ as "break", pos: token.pos };
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === "if" || peek.typ === "with") return { type: "else", pos: peek.pos };
    return { type: "else", pos: this.expect("rightDelim", "else").pos };
  }

  control(context: "if" | "range" | "with"): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, "rightDelim");
      if (context === "range") this.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === "range") this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === "else") {
        if ((context === "if" && this.peek().typ === "if") || (context === "with" && this.peek().typ === "with")) {
          this.next();
          elseList = { type: "list", pos: next.pos, nodes: [this.control(context)] };
        } else {
          const [l, end] = this.itemList();
          if (end.type !== "end") this.errorf(`expected end; found ${nodeString(end)}`);
          elseList = l;
        }
      }
      return { type: context, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  itemList(): [ListNode, Node] {
    const list: ListNode = { type: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== "eof") {
      const n = this.textOrAction();
      if (n.type === "end" || n.type === "else") return [list, n];
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  pipeline(context: string, end: ItemType): PipeNode {
    const pipe: PipeNode = { type: "pipe", pos: this.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    this.declarations(pipe, context);
    for (;;) {
      const token = this.nextNonSpace();
      if (token.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      if (OPERAND_START.has(token.typ)) {
        this.backup();
        pipe.cmds.push(this.command());
      } else this.unexpected(token, context);
    }
  }

  declarations(pipe: PipeNode, context: string): void {
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== "variable") return;
      this.next();
      const next = this.peekNonSpace();
      if (next.typ === "assign" || next.typ === "declare") {
        pipe.isAssign = next.typ === "assign";
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        return;
      }
      if (next.typ === "char" && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push({ type: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === "variable" || p === "rightDelim" || p === "rightParen") continue;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: put the variable (and the space after it) back.
      this.idx = this.items.indexOf(v, Math.max(0, this.idx - 3));
      return;
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      if (["bool", "dot", "nil", "number", "string"].includes(c.args[0]!.type)) this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: "command", pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.typ === "space") continue;
      if (token.typ === "rightDelim" || token.typ === "rightParen") this.backup();
      else if (token.typ !== "pipe") this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  operand(): ArgNode | null {
    const node = this.term();
    if (!node || this.peek().typ !== "field") return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().typ === "field") fields.push(this.next().val.slice(1));
    switch (node.type) {
      case "field":
        return { type: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { type: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
    }
    return { type: "chain", pos, node, field: fields };
  }

  term(): ArgNode | null {
    const token = this.nextNonSpace();
    switch (token.typ) {
      case "identifier":
        if (!this.hasFunction(token.val)) this.errorf(`function ${goQuote(token.val)} not defined`);
        return { type: "identifier", pos: token.pos, ident: token.val };
      case "dot":
        return { type: "dot", pos: token.pos };
      case "nil":
        return { type: "nil", pos: token.pos };
      case "variable":
        return this.useVar(token);
      case "field":
        return { type: "field", pos: token.pos, ident: [token.val.slice(1)] };
      case "bool":
        return { type: "bool", pos: token.pos, val: token.val === "true" };
      case "charConstant":
      case "number":
        return { type: "number", pos: token.pos, text: token.val, num: this.number(token) };
      case "leftParen":
        return this.pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString": {
        const s = unquoteString(token.val);
        if (s === undefined) this.errorf("invalid syntax");
        return { type: "string", pos: token.pos, quoted: token.val, text: s };
      }
    }
    this.backup();
    return null;
  }

  number(token: Item): NumberValue {
    if (token.typ === "charConstant") {
      const r = unquoteChar(token.val);
      if (typeof r === "string") this.errorf(r);
      return { isInt: true, isFloat: true, int: r, float: r, isComplex: false };
    }
    const n = parseGoNumber(token.val);
    if (typeof n === "string") this.errorf(n);
    return n;
  }

  useVar(token: Item): ArgNode {
    const ident = token.val.split(".");
    if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${goQuote(ident[0]!)}`);
    return { type: "variable", pos: token.pos, ident };
  }
}

const OPERAND_START = new Set<ItemType>([
  "bool", "charConstant", "dot", "field", "identifier", "number", "nil", "rawString", "string", "variable", "leftParen",
]);

export function parseTemplate(text: string, hasFunction: (name: string) => boolean): Tree {
  const p = new Parser(text, hasFunction);
  return { root: p.parse(), text };
}
