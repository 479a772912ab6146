// The only module that imports bun:ffi: the libtsd symbol table and thin typed wrappers.
import { dlopen, FFIType, type Pointer, CString } from "bun:ffi";
import { materialize } from "./embedded";

const symbols = {
  tsd_version: { args: [], returns: FFIType.cstring },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Lib | undefined;
let libRoot = "";

/** Load libtsd from under `root` (see embedded.ts); later calls reuse the first load. */
export function loadCore(root: string): Lib {
  if (lib) return lib;
  libRoot = root;
  lib = dlopen(materialize("libtsd.so", root), symbols).symbols;
  return lib;
}

function core(): Lib {
  if (!lib) throw new Error("libtsd not loaded: call loadCore(root) first");
  return lib;
}

export function coreVersion(): string {
  return String(core().tsd_version());
}

export function coreRoot(): string {
  return libRoot;
}

export type { Pointer };
export { CString };
