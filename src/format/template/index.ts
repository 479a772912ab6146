// Go's text/template with the Docker CLI's functions: parse once, execute per object.
// Errors are TemplateError with Go's own texts.
import { ALL_FUNCS, execute, type ExecOptions } from "./exec";
import { parseTemplate, TemplateError, type Tree } from "./parse";

export { TemplateError } from "./parse";
export { F64, GoStruct, type GoMethod } from "./values";
export type { ExecOptions } from "./exec";

export interface Template {
  tree: Tree;
  execute(data: unknown, opts?: ExecOptions): string;
}

/** Parses `text` as Docker's templates.Parse does (all of text/template, Docker's functions). */
export function parse(text: string, funcs = ALL_FUNCS): Template {
  const tree = parseTemplate(text, (name) => Object.hasOwn(funcs, name));
  return { tree, execute: (data, opts) => execute(tree, data, { funcs, ...opts }) };
}

/** Parse and execute in one step; throws TemplateError. */
export function render(text: string, data: unknown, opts?: ExecOptions): string {
  return parse(text).execute(data, opts);
}

export const isTemplateError = (e: unknown): e is TemplateError => e instanceof TemplateError;
