// A Dockerfile's syntax, after moby's parser (frontend/dockerfile/parser): parser directives
// (`# escape=`, `# syntax=`) at the top, comments, line continuations with the escape
// character (comment and empty lines inside one skipped), heredocs (`<<EOF`, `<<-EOF`,
// `<<"EOF"` on RUN, COPY and ADD), `--flag=value` options, the JSON (exec) form. Pure: text
// in, instructions out; variables are expanded later, stage by stage (instructions.ts).
import { TsdError } from "../../errors";

export class DockerfileError extends TsdError {
  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`dockerfile parse error line ${line}: ${detail}`, 1);
  }
}

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted terminator: variables in the content are expanded (COPY/ADD; RUN's shell does it). */
  expand: boolean;
}

export interface Flag {
  name: string;
  value: string | undefined;
}

export interface Instruction {
  /** The keyword, upper case. */
  cmd: string;
  /** 1-based line of the keyword, and of the instruction's last line. */
  line: number;
  endLine: number;
  /** Everything after the keyword, continuations joined, flags included. */
  original: string;
  flags: Flag[];
  /** The arguments after the flags. */
  rest: string;
  /** The exec (JSON array) form, when the arguments are one. */
  json?: string[];
  heredocs: Heredoc[];
}

export interface Dockerfile {
  escape: string;
  syntax?: string;
  instructions: Instruction[];
}

export const INSTRUCTIONS = ["ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];

/** The flags each instruction takes (HEALTHCHECK's are parsed with its arguments). */
const FLAGS: Record<string, string[]> = {
  FROM: ["platform"],
  COPY: ["from", "chown", "chmod", "link"],
  ADD: ["chown", "chmod", "link", "checksum"],
  RUN: ["network", "mount", "security"],
};

const HEREDOC_CMDS = new Set(["RUN", "COPY", "ADD"]);
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

interface Lines {
  all: string[];
  i: number;
}

export function parseDockerfile(text: string): Dockerfile {
  const lines: Lines = { all: text.replace(/\r\n/g, "\n").split("\n"), i: 0 };
  if (text.endsWith("\n")) lines.all.pop();
  const df: Dockerfile = { escape: "\\", instructions: [] };
  directives(lines, df);
  for (;;) {
    const ins = nextInstruction(lines, df.escape);
    if (!ins) break;
    df.instructions.push(ins);
  }
  return df;
}

function directives(lines: Lines, df: Dockerfile): void {
  const seen = new Set<string>();
  for (; lines.i < lines.all.length; lines.i++) {
    const m = DIRECTIVE.exec(lines.all[lines.i]!);
    const key = m?.[1]!.toLowerCase();
    if (!m || (key !== "escape" && key !== "syntax")) return;
    if (seen.has(key)) throw new DockerfileError(lines.i + 1, `only one ${key} parser directive can be used`);
    seen.add(key);
    if (key === "syntax") df.syntax = m[2]!;
    else {
      if (m[2] !== "\\" && m[2] !== "`") throw new DockerfileError(lines.i + 1, `invalid escape token '${m[2]}' does not match ` + "` or \\");
      df.escape = m[2]!;
    }
  }
}

/** The next logical line: comments and blank lines skipped, continuations joined. */
function nextInstruction(lines: Lines, escape: string): Instruction | undefined {
  const cont = new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`);
  let text = "";
  let start = 0;
  for (; lines.i < lines.all.length; lines.i++) {
    const raw = lines.all[lines.i]!;
    const trimmed = raw.replace(/^\s+/, "");
    if (trimmed.startsWith("#") || trimmed === "") continue;
    // Docker strips the first line's leading white space only.
    const part = text === "" ? trimmed : raw;
    if (text === "") start = lines.i + 1;
    if (cont.test(part)) {
      text += part.replace(cont, "");
      continue;
    }
    text += part;
    lines.i++;
    return instruction(text, start, lines);
  }
  if (text !== "") return instruction(text, start, lines);
  return undefined;
}

function instruction(text: string, line: number, lines: Lines): Instruction {
  const m = /^(\S+)\s*([\s\S]*?)\s*$/.exec(text)!;
  const cmd = m[1]!.toUpperCase();
  if (!INSTRUCTIONS.includes(cmd)) throw new DockerfileError(line, `unknown instruction: ${m[1]}`);
  const original = m[2]!;
  const { flags, rest } = cmd === "HEALTHCHECK" || cmd === "ONBUILD" ? { flags: [], rest: original } : splitFlags(original, cmd, line);
  const heredocs = HEREDOC_CMDS.has(cmd) ? readHeredocs(rest, lines, line) : [];
  const ins: Instruction = { cmd, line, endLine: lines.i, original, flags, rest, heredocs };
  const json = jsonForm(rest);
  if (json) ins.json = json;
  return ins;
}

function splitFlags(text: string, cmd: string, line: number): { flags: Flag[]; rest: string } {
  const flags: Flag[] = [];
  let rest = text;
  for (;;) {
    const m = /^--([^\s=]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
    if (m[1] === "") break;
    if (!(FLAGS[cmd] ?? []).includes(m[1]!)) throw new DockerfileError(line, `unknown flag: --${m[1]} (${cmd} takes ${(FLAGS[cmd] ?? []).map((f) => `--${f}`).join(", ") || "no flags"})`);
    flags.push({ name: m[1]!, value: m[2] });
  }
  return { flags, rest };
}

/** Docker's parseMaybeJSON: a JSON array of strings, else the shell form. */
export function jsonForm(text: string): string[] | undefined {
  if (!text.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  } catch {
    // The shell form after all.
  }
  return undefined;
}

const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

function readHeredocs(rest: string, lines: Lines, line: number): Heredoc[] {
  const out: Heredoc[] = [];
  for (const m of rest.matchAll(HEREDOC)) {
    const strip = m[1] === "-";
    const body: string[] = [];
    for (;;) {
      if (lines.i >= lines.all.length) throw new DockerfileError(line, `unterminated heredoc: no line "${m[3]}" ends it`);
      let l = lines.all[lines.i++]!;
      if (strip) l = l.replace(/^\t+/, "");
      if (l === m[3]) break;
      body.push(l);
    }
    out.push({ name: m[3]!, content: body.map((l) => `${l}\n`).join(""), expand: m[2] === "" });
  }
  return out;
}

export function flagValue(ins: Instruction, name: string): string | undefined {
  let v: string | undefined;
  for (const f of ins.flags) if (f.name === name) v = f.value ?? "";
  return v;
}
