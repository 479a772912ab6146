// Inflate alone, in memory, through Bun's two gzip decoders (zlib, and libdeflate: the whole
// member at once), for bench/pull.sh's floor beside `gzip -dc`. Usage:
//   bun bench/gunzip-one.ts LAYER.tar.gz zlib|libdeflate
const [layer, library = "zlib"] = process.argv.slice(2);
if (!layer) throw new Error("usage: bun bench/gunzip-one.ts LAYER.tar.gz zlib|libdeflate");
const out = Bun.gunzipSync(await Bun.file(layer).bytes(), { library } as Parameters<typeof Bun.gunzipSync>[1]);
if (out.length === 0) throw new Error("empty output");
