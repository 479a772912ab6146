// Docker's --detach-keys ("ctrl-p,ctrl-q"): shared by `tsd attach` and the run/create flag.
import { TsdError } from "../errors";

/** The monitor matches at most this many (zig/monitor/detach_keys.zig max_keys). */
export const MAX_DETACH_KEYS = 16;

/** "ctrl-p,ctrl-q" → the bytes; Docker's format (ctrl-<letter>, ctrl-@, ctrl-[ … or a letter). */
export function parseDetachKeys(text: string): number[] {
  const keys = text.split(",");
  if (keys.length > MAX_DETACH_KEYS) throw new TsdError(`invalid detach keys "${text}": use at most ${MAX_DETACH_KEYS} keys`, 1);
  return keys.map((k) => {
    const m = /^ctrl-([a-z@[\\\]^_])$/i.exec(k);
    if (m) {
      const c = m[1]!.toLowerCase();
      return c >= "a" && c <= "z" ? c.charCodeAt(0) - 96 : { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 }[c]!;
    }
    if (k.length === 1) return k.charCodeAt(0);
    throw new TsdError(`invalid detach keys "${text}": use a comma-separated list like ctrl-p,ctrl-q`, 1);
  });
}
