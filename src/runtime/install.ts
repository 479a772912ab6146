// `tsd runtime install DIR`: writes DIR/tsd-runc, the runtime's front (zig/front/main.zig), set
// to run this tsd binary: its path goes into the front's slot, after the marker the front
// keeps in its data. The front answers state, start, kill, delete and --version itself (no
// Bun start, ~1 ms) and hands every other call to `<this binary> runtime ARGS…`. One file,
// nothing in the environment: containerd's BinaryName, CRI-O's runtime_path, podman
// --runtime and dockerd --add-runtime name it. Moving or replacing this tsd binary needs the
// install again (the front says so when the path is gone).
//
//   frontFor(front, tsdPath): Uint8Array   the front's bytes with tsdPath in its slot (pure)
//   installCommand(g, argv): Promise<number>
import frontEmbedded from "../../zig-out/bin/tsd-runc" with { type: "file" };
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { TsdError } from "../errors";
import { exactArgs, parseFlags } from "./flags";
import type { RuntimeGlobals } from "./globals";

/** zig/front/main.zig `marker` and `target_max`. */
export const FRONT_MARKER = "tsd-runc-target:";
export const FRONT_TARGET_MAX = 4096;

/** The front's bytes with `tsdPath` (absolute) in its slot; the slot must be the empty one. */
export function frontFor(front: Uint8Array, tsdPath: string): Uint8Array {
  if (!isAbsolute(tsdPath)) throw new TsdError(`the tsd binary's path must be absolute: ${tsdPath}`);
  const marker = Buffer.from(FRONT_MARKER);
  const bytes = Buffer.from(front);
  const at = bytes.indexOf(marker);
  if (at < 0 || bytes.indexOf(marker, at + 1) >= 0) throw new TsdError("the embedded tsd-runc front has no single target slot (a broken build: run scripts/build.sh)");
  const slot = bytes.subarray(at + marker.length, at + marker.length + FRONT_TARGET_MAX);
  if (slot.length !== FRONT_TARGET_MAX || slot.some((b) => b !== 0)) throw new TsdError("the embedded tsd-runc front's target slot is not empty (a broken build: run scripts/build.sh)");
  const path = Buffer.from(tsdPath);
  if (path.length >= FRONT_TARGET_MAX || path.includes(0)) throw new TsdError(`the tsd binary's path is too long for the front (${path.length} bytes, at most ${FRONT_TARGET_MAX - 1})`);
  path.copy(slot);
  return bytes;
}

export async function installCommand(_g: RuntimeGlobals, argv: string[]): Promise<number> {
  const p = parseFlags(argv, {});
  exactArgs("install", p.args, 1, "<dir>");
  if (!Bun.main.startsWith("/$bunfs/")) throw new TsdError("install needs the built tsd binary (dist/tsd), not a source run: build it with scripts/build.sh");
  const dir = resolve(p.args[0]!);
  const bytes = frontFor(readFileSync(frontEmbedded), process.execPath);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, "tsd-runc");
  const tmp = join(dir, `.tsd-runc.${process.pid}.tmp`);
  writeFileSync(tmp, bytes, { mode: 0o755 });
  renameSync(tmp, path);
  process.stdout.write(`${path} (runs ${process.execPath})\n`);
  return 0;
}
