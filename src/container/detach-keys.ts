// Docker's --detach-keys ("ctrl-p,ctrl-q"): shared by `tsd attach` and the run/create flag.
import { TsdError } from "../errors";

/** "ctrl-p,ctrl-q" → the bytes; Docker's format (ctrl-<letter>, ctrl-@, ctrl-[ … or a letter). */
export function parseDetachKeys(text: string): number[] {
  return text.split(",").map((k) => {
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (m) {
      const c = m[1]!.toLowerCase();
      return c >= "a" && c <= "z" ? c.charCodeAt(0) - 96 : { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 }[c]!;
    }
    if (k.length === 1) return k.charCodeAt(0);
    throw new TsdError(`invalid detach keys "${text}": use a comma-separated list like ctrl-p,ctrl-q`, 1);
  });
}
