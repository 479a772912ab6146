// The executor of Go's text/template (text/template/exec.go): walk, pipelines, variables,
// field chains on maps and structs, function calls with Go's argument checks, and Go's error
// texts ("template: :1:2: executing \"\" at <.X>: …").
import { printValue } from "./fmt";
import { BUILTINS, DOCKER_FUNCS, FuncError, INVALID, deref, isTrue, val, type Func, type Val } from "./funcs";
import { TemplateError, nodeString, type ArgNode, type CommandNode, type ControlNode, type ListNode, type Node, type PipeNode, type Tree } from "./parse";
import { F64, GoStruct, elemType, kindOf, typeName, type ParamType } from "./values";

export type MissingKey = "default" | "zero" | "error";

export interface ExecOptions {
  missingKey?: MissingKey;
  /** Maps whose missing keys print <no value> even under missingKey=error (Go maps of a typed struct). */
  lenient?: (m: object) => boolean;
  funcs?: Record<string, Func>;
}

class Break {}
class Continue {}

const PARAM_GO: Record<ParamType, string> = { any: "interface {}", string: "string", int: "int", "[]string": "[]string", value: "reflect.Value" };

class State {
  out = "";
  node: Node | null = null;
  vars: { name: string; value: Val }[] = [];
  constructor(readonly tree: Tree, readonly funcs: Record<string, Func>, readonly opts: ExecOptions) {}

  at(n: Node): void {
    this.node = n;
  }
  errorf(msg: string): never {
    if (!this.node) throw new TemplateError(`template: : ${msg}`);
    const pos = this.node.pos;
    const before = this.tree.text.slice(0, pos);
    const nl = before.lastIndexOf("\n");
    const col = nl < 0 ? Buffer.byteLength(before) : Buffer.byteLength(before.slice(nl + 1));
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const context = nodeString(this.node);
    throw new TemplateError(`template: :${line}:${col}: executing "" at <${context}>: ${msg}`);
  }

  varValue(name: string): Val {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }
  setVar(name: string, value: Val): void {
    for (let i = this.vars.length - 1; i >= 0; i--)
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: Val, node: Node): void {
    this.at(node);
    switch (node.type) {
      case "action": {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, v);
        return;
      }
      case "break":
        throw new Break();
      case "continue":
        throw new Continue();
      case "if":
      case "with":
        return this.walkIfOrWith(node.type, dot, node.pipe, node.list, node.elseList);
      case "list":
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case "range":
        return this.walkRange(dot, node);
      case "text":
        this.out += node.text;
        return;
    }
    this.errorf(`unknown node: ${nodeString(node)}`);
  }

  printValue(n: Node, v: Val): void {
    this.at(n);
    this.out += v.v === undefined ? "<no value>" : printValue(v.v, "v", { minus: false, plus: false, sharp: false, space: false, zero: false });
  }

  walkIfOrWith(typ: "if" | "with", dot: Val, pipe: PipeNode, list: ListNode, elseList: ListNode | null): void {
    const mark = this.vars.length;
    try {
      const v = this.evalPipeline(dot, pipe);
      if (isTrue(deref(v).v)) this.walk(typ === "with" ? v : dot, list);
      else if (elseList) this.walk(dot, elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  walkRange(dot: Val, r: ControlNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const v = deref(this.evalPipeline(dot, r.pipe)).v;
      const mark = this.vars.length;
      const one = (index: Val, elem: Val): void => {
        const d = r.pipe.decl;
        if (d.length > 0) {
          if (r.pipe.isAssign) this.setVar(d[0]!.ident[0]!, d.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (d.length > 1) {
          if (r.pipe.isAssign) this.setVar(d[1]!.ident[0]!, elem);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (!(e instanceof Continue)) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      try {
        if (this.rangeBody(v, r, one)) return;
      } catch (e) {
        if (e instanceof Break) return;
        throw e;
      }
      if (r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  /** Runs the iterations; false when there were none (the else branch runs). */
  rangeBody(v: unknown, r: ControlNode, one: (i: Val, e: Val) => void): boolean {
    switch (kindOf(v)) {
      case "slice": {
        const a = v as unknown[];
        const iface = elemType(a) !== "string";
        a.forEach((x, i) => one(val(i), { v: x, iface }));
        return a.length > 0;
      }
      case "map": {
        const m = v as Record<string, unknown>;
        const iface = elemType(m) !== "string";
        const keys = Object.keys(m).sort();
        for (const k of keys) one(val(k), { v: m[k], iface });
        return keys.length > 0;
      }
      case "int": {
        if (r.pipe.decl.length > 1) this.errorf(`can't use ${v} to iterate over more than one variable`);
        for (let i = 0; i < (v as number); i++) one(val(i), val(i));
        return (v as number) > 0;
      }
      case "invalid":
        return false;
    }
    this.errorf(`range can't iterate over ${printValue(v, "v", { minus: false, plus: false, sharp: false, space: false, zero: false })}`);
  }

  evalPipeline(dot: Val, pipe: PipeNode): Val {
    this.at(pipe);
    let value: Val | null = null;
    for (const cmd of pipe.cmds) value = deref(this.evalCommand(dot, cmd, value));
    const v = value ?? INVALID;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, v);
      else this.vars.push({ name: d.ident[0]!, value: v });
    }
    return v;
  }

  notAFunction(args: ArgNode[], final: Val | null): void {
    if (args.length > 1 || final !== null) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  evalCommand(dot: Val, cmd: CommandNode, final: Val | null): Val {
    const first = cmd.args[0]!;
    switch (first.type) {
      case "field":
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case "chain":
        return this.evalChain(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return val(first.val);
      case "dot":
        return dot;
      case "nil":
        this.errorf("nil is not a command");
      case "number":
        return this.idealConstant(first);
      case "string":
        return val(first.text);
    }
    this.errorf(`can't evaluate command ${nodeString(first)}`);
  }

  idealConstant(n: Extract<ArgNode, { type: "number" }>): Val {
    this.at(n);
    const c = n.num;
    const isHexInt = /^[+-]?0[xX][0-9a-fA-F_]*$/.test(n.text);
    const isRune = n.text.startsWith("'");
    if (c.isFloat && !isHexInt && !isRune && /[.eEpP]/.test(n.text)) return val(new F64(c.float));
    if (c.isInt) return val(c.int);
    this.errorf(`${n.text} overflows int`);
  }

  evalChain(dot: Val, chain: Extract<ArgNode, { type: "chain" }>, args: ArgNode[], final: Val | null): Val {
    if (chain.node.type === "nil") this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariable(dot: Val, v: Extract<ArgNode, { type: "variable" }>, args: ArgNode[] | null, final: Val | null): Val {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  evalFieldChain(dot: Val, receiver: Val, node: Node, ident: string[], args: ArgNode[] | null, final: Val | null): Val {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(dot, ident[i]!, node, null, null, r);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r);
  }

  evalField(dot: Val, name: string, node: Node, args: ArgNode[] | null, final: Val | null, receiver: Val): Val {
    if (receiver.v === undefined) {
      if (this.opts.missingKey === "error") this.errorf(`nil data; no entry for key "${name}"`);
      return INVALID;
    }
    const typ = receiver.iface ? "interface {}" : typeName(receiver.v);
    const r = receiver.v;
    if (r === null) this.errorf(`nil pointer evaluating ${typ}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== null;
    if (r instanceof GoStruct) {
      const m = r.methods[name];
      if (m) return this.evalCall(dot, m, false, node, name, args, final);
      if (Object.hasOwn(r.fields, name)) {
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return val(r.fields[name]);
      }
    } else if (kindOf(r) === "map") {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      const m = r as Record<string, unknown>;
      const iface = elemType(m) !== "string";
      if (Object.hasOwn(m, name)) return { v: m[name], iface };
      const mode = this.opts.lenient?.(m) ? "default" : (this.opts.missingKey ?? "default");
      if (mode === "zero") return iface ? { v: null, iface: true } : val("");
      if (mode === "error") this.errorf(`map has no entry for key "${name}"`);
      return INVALID;
    }
    this.errorf(`can't evaluate field ${name} in type ${typ}`);
  }

  evalFunction(dot: Val, node: Extract<ArgNode, { type: "identifier" }>, cmd: Node, args: ArgNode[] | null, final: Val | null): Val {
    this.at(node);
    const fn = this.funcs[node.ident];
    if (!fn) this.errorf(`"${node.ident}" is not a defined function`);
    return this.evalCall(dot, fn, Object.hasOwn(BUILTINS, node.ident), cmd, node.ident, args, final);
  }

  evalCall(dot: Val, fn: Func, isBuiltin: boolean, node: Node, name: string, argNodes: ArgNode[] | null, final: Val | null): Val {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== null ? 1 : 0);
    const nParams = fn.params.length + (fn.variadic ? 1 : 0);
    if (fn.variadic) {
      if (numIn < fn.params.length) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
    } else if (numIn !== nParams) this.errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    if (isBuiltin && (name === "and" || name === "or")) return this.andOr(dot, name, args, final);
    const paramAt = (i: number): ParamType => (i < fn.params.length ? fn.params[i]! : fn.variadic!);
    const argv: unknown[] = args.map((a, i) => this.evalArg(dot, paramAt(i), a));
    if (final !== null) argv.push(this.validateType(final, paramAt(numIn - 1)));
    const plain = argv.map((a, i) => (paramAt(i) === "value" ? a : (a as Val).v));
    let result: unknown;
    try {
      result = fn.fn(...plain);
    } catch (e) {
      if (!(e instanceof FuncError)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e.message}`);
    }
    return fn.returnsVal ? (result as Val) : val(result);
  }

  andOr(dot: Val, name: string, args: ArgNode[], final: Val | null): Val {
    let v: Val = INVALID;
    for (const a of args) {
      v = this.evalArg(dot, "value", a);
      if (isTrue(deref(v).v) === (name === "or")) return v;
    }
    if (final !== null) v = this.validateType(final, "value");
    return v;
  }

  validateType(value: Val, typ: ParamType | null): Val {
    if (value.v === undefined) {
      if (typ === null) return INVALID;
      if (typ === "any") return val(null);
      if (typ === "[]string") return val([]);
      if (typ === "value") return INVALID;
      this.errorf(`invalid value; expected ${PARAM_GO[typ]}`);
    }
    if (typ === null || typ === "any" || typ === "value") return value;
    const k = kindOf(value.v);
    const ok = typ === "string" ? k === "string" : typ === "int" ? k === "int" : k === "slice" && elemType(value.v) === "string";
    if (!ok) this.errorf(`wrong type for value; expected ${PARAM_GO[typ]}; got ${value.v === null ? "interface {}" : typeName(value.v)}`);
    return val(value.v);
  }

  evalArg(dot: Val, typ: ParamType | null, n: ArgNode): Val {
    this.at(n);
    switch (n.type) {
      case "dot":
        return this.validateType(dot, typ);
      case "nil":
        if (typ === "any" || typ === "[]string") return val(typ === "any" ? null : []);
        this.errorf(`cannot assign nil to ${typ === null ? "<nil>" : PARAM_GO[typ]}`);
      case "field":
        return this.validateType(this.evalFieldChain(dot, dot, n, n.ident, [n], null), typ);
      case "variable":
        return this.validateType(this.evalVariable(dot, n, null, null), typ);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), typ);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, null, null), typ);
      case "chain":
        return this.validateType(this.evalChain(dot, n, [], null), typ);
    }
    return this.evalLiteral(n, typ);
  }

  evalLiteral(n: ArgNode, typ: ParamType | null): Val {
    if (typ === null || typ === "any" || typ === "value") {
      if (n.type === "bool") return val(n.val);
      if (n.type === "number") return this.idealConstant(n);
      if (n.type === "string") return val(n.text);
    }
    switch (typ) {
      case "int":
        if (n.type === "number" && n.num.isInt) return val(n.num.int);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case "string":
        if (n.type === "string") return val(n.text);
        this.errorf(`expected string; found ${nodeString(n)}`);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ === null ? "<nil>" : PARAM_GO[typ]}`);
  }
}

export const ALL_FUNCS: Record<string, Func> = { ...BUILTINS, ...DOCKER_FUNCS };

export function execute(tree: Tree, data: unknown, opts: ExecOptions = {}): string {
  const s = new State(tree, opts.funcs ?? ALL_FUNCS, opts);
  const dot = data === null || data === undefined ? INVALID : val(data);
  s.vars.push({ name: "$", value: dot });
  try {
    s.walk(dot, tree.root);
  } catch (e) {
    if (e instanceof Break || e instanceof Continue) s.errorf("break or continue outside range");
    // What was written before the error, as Go's Execute leaves it in the writer.
    if (e instanceof TemplateError) e.partial = s.out;
    throw e;
  }
  return s.out;
}
