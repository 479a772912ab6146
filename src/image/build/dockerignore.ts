// .dockerignore as Docker 20.10 reads it (pkg/fileutils PatternMatcher): one pattern a line,
// `#` comments, `!` re-includes, patterns cleaned and taken relative to the context root,
// `*` and `?` within one path component, `**` across any number of them, a pattern that
// matches a directory matching everything under it; the last matching pattern wins. Pure.

export interface IgnorePattern {
  exclusion: boolean;
  re: RegExp;
  /** Components in the pattern: a path's prefix of that length is matched too. */
  dirs: number;
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const exclusion = line.startsWith("!");
    if (exclusion) line = line.slice(1).trim();
    const clean = cleanPath(line);
    if (clean === "") continue;
    out.push({ exclusion, re: patternRegExp(clean, true), dirs: clean.split("/").length });
  }
  return out;
}

/** Go's filepath.Clean, then relative to the root ("" for the root itself). */
export function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!p.startsWith("/")) parts.push("..");
    } else parts.push(part);
  }
  return parts.join("/");
}

/** A Docker path pattern as a RegExp; `doubleStar`: `**` crosses directories (.dockerignore). */
export function patternRegExp(pattern: string, doubleStar: boolean): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*" && doubleStar && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") i++;
      re += i + 1 >= pattern.length ? ".*" : "(.*/)?";
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (ch === "[" || ch === "]") re += ch;
    else if (ch === "^" && re.endsWith("[")) re += "^";
    else if (ch === "!" && re.endsWith("[")) re += "^";
    else re += ch.replace(/[.$^+(){}|/]/g, (c) => `\\${c}`);
  }
  try {
    return new RegExp(`${re}$`);
  } catch {
    throw new Error(`syntax error in pattern: ${pattern}`);
  }
}

/** Whether `path` (relative, "/"-separated) is excluded from the context. */
export function ignored(patterns: readonly IgnorePattern[], path: string): boolean {
  const parts = path.split("/");
  let matched = false;
  for (const p of patterns) {
    let match = p.re.test(path);
    if (!match && p.dirs <= parts.length - 1) match = p.re.test(parts.slice(0, p.dirs).join("/"));
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/** Whether a COPY source pattern holds glob characters. */
export function isGlob(p: string): boolean {
  return /[*?[]/.test(p);
}
