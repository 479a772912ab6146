// Go's text/tabwriter as the Docker CLI sets it up (minwidth 10, tabwidth 1, padding 3, ' '):
// tab-terminated cells are aligned per column block; a line's last cell is not.

export interface TabOptions {
  minwidth: number;
  padding: number;
}
export const DOCKER_TABS: TabOptions = { minwidth: 10, padding: 3 };

const width = (s: string): number => [...s].length;

/** Aligns `text` (lines of tab-separated cells) as tabwriter.Writer + Flush does. */
export function tabwrite(text: string, opts: TabOptions = DOCKER_TABS): string {
  const endsNL = text.endsWith("\n");
  const lines = (endsNL ? text.slice(0, -1) : text).split("\n").map((l) => l.split("\t"));
  const widths: number[] = [];
  const out: string[] = [];
  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = "";
      cells.forEach((c, j) => {
        s += c;
        if (j < widths.length && j < cells.length - 1) s += " ".repeat(Math.max(0, widths[j]! - width(c)));
      });
      out.push(s);
    }
  };
  // format() of Go's tabwriter: column blocks, recursively, left to right.
  const format = (line0: number, line1: number, col: number): void => {
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (col >= lines[i]!.length - 1) continue;
      writeLines(start, i);
      let w = opts.minwidth;
      let j = i;
      for (; j < line1 && col < lines[j]!.length - 1; j++) w = Math.max(w, width(lines[j]![col]!) + opts.padding);
      widths.push(w);
      format(i, j, col + 1);
      widths.pop();
      start = j;
      i = j - 1;
    }
    writeLines(start, line1);
  };
  format(0, lines.length, 0);
  return out.join("\n") + (endsNL ? "\n" : "");
}
