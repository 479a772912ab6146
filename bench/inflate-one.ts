// The pull's inflate alone: src/image/layer-stream.ts's decoder (Bun's zlib or zstd on the
// thread pool, with the checks over the compressed bytes) over a layer file read in 128 KiB
// chunks like a download's, into a sink that drops the bytes. Prints the CPU time it took.
// Usage: bun bench/inflate-one.ts LAYER.tar.gz|LAYER.tar.zst
import { LayerDecoder } from "../src/image/layer-stream";

const [layer] = process.argv.slice(2);
if (!layer) throw new Error("usage: bun bench/inflate-one.ts LAYER");
let out = 0;
const d = new LayerDecoder(async (c) => {
  out += c.length;
});
const cpu = process.cpuUsage();
for await (const c of Bun.file(layer).stream()) await d.write(c);
await d.end();
const used = process.cpuUsage(cpu);
console.error(`inflate-one: ${d.format}, ${out} bytes out, CPU ${((used.user + used.system) / 1e6).toFixed(3)} s`);
