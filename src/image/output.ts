// Where save and export write: a file given with -o (written beside it and renamed, so a
// failure leaves no half archive) or stdout (spooled under the root's tmp first: Bun's stdout
// may be non-blocking, and a synchronous writer would hit EAGAIN on a full pipe).
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { rootPaths } from "../store/paths";
import { TarWriter } from "./tar";

export async function writeTarOutput(root: string, output: string | undefined, produce: (tw: TarWriter) => void): Promise<void> {
  await writeOutput(root, output, async (fd) => {
    produce(
      new TarWriter((c) => {
        let off = 0;
        while (off < c.length) off += writeSync(fd, c, off);
      }),
    );
  });
}

/** The same destinations for a producer that writes to a file descriptor itself (a helper's stdout). */
export async function writeOutput(root: string, output: string | undefined, produce: (fd: number) => Promise<void>): Promise<void> {
  let tmp: string;
  let spoolDir: string | undefined;
  if (output) {
    const out = resolve(output);
    mkdirSync(dirname(out), { recursive: true });
    tmp = `${out}.tmp-${process.pid}`;
  } else {
    mkdirSync(rootPaths(root).tmp, { recursive: true, mode: 0o700 });
    spoolDir = mkdtempSync(join(rootPaths(root).tmp, "out-"));
    tmp = join(spoolDir, "archive.tar");
  }
  const fd = openSync(tmp, "w", 0o644);
  let open = true;
  try {
    await produce(fd);
    closeSync(fd);
    open = false;
    if (output) renameSync(tmp, resolve(output));
    else await copyToStdout(tmp);
  } finally {
    if (open) closeSync(fd);
    if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
    else rmSync(tmp, { force: true });
  }
}

/** Through node's stdout stream, which waits out EAGAIN on a full non-blocking pipe. */
async function copyToStdout(path: string): Promise<void> {
  for await (const chunk of Bun.file(path).stream()) {
    if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
  }
  await new Promise<void>((r, j) => process.stdout.write("", (e) => (e ? j(e) : r())));
}
