// The unpack step alone: tsd's Zig unpacker (the libtsd the build made, through the same FFI
// wrapper the CLI uses) on one layer file into an empty directory. Usage:
//   bun bench/unpack-one.ts LAYER.tar.gz DEST ROOT
import { loadCore, unpack } from "../src/native/ffi";

const [layer, dest, root] = process.argv.slice(2);
if (!layer || !dest || !root) throw new Error("usage: bun bench/unpack-one.ts LAYER DEST ROOT");
loadCore(root);
unpack(layer, dest, { layer: true });
