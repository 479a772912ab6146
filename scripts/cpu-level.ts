// Which x86-64 psABI level (x86-64, -v2, -v3, -v4) each machine instruction of an ELF file
// needs, from objdump's disassembly, so a build can refuse artifacts that would die with
// SIGILL on the CPUs tsd promises to run on (README "Portability"). A static check: every
// instruction counts, reached or not (the Zig core has no run-time CPU dispatch, so any
// instruction in it can run).
//
//   bun scripts/cpu-level.ts LEVEL [--dispatched SYMBOL]... FILE...
//       LEVEL: 1..4 (x86-64-vN); exit 1 when a file has an instruction beyond LEVEL outside
//       the functions named by --dispatched (ones reached only after a CPUID check, such as
//       zig/unpack/sha256.zig's compressShaNi; they need the file's symbols)
//
// Encodings decide first (exact, from the raw bytes): VEX (C4/C5) needs AVX at least,
// EVEX (62) AVX-512, XOP (8F with map >= 8) an AMD extension outside every level. Then the
// mnemonic (tables below, from the Intel SDM's CPUID feature flag of each instruction) and
// the registers (ymm, zmm, k0-7, xmm16-31, EVEX decorations). A legacy-encoded mnemonic
// outside the tables counts as baseline.

/** 1..4: x86-64-v1..v4; 5: an extension no level includes (AES-NI, SHA, XOP …). */
export type Level = 1 | 2 | 3 | 4 | 5;
export type Need = { level: Level; feature: string };
export type Instruction = { address: string; bytes: number[]; mnemonic: string; operands: string };

export function levelName(level: Level): string {
  if (level === 1) return "x86-64";
  if (level === 5) return "an extension outside the x86-64 levels";
  return `x86-64-v${level}`;
}

const table = new Map<string, Need>();
function add(level: Level, feature: string, mnemonics: string): void {
  for (const m of mnemonics.split(/\s+/).filter(Boolean)) table.set(m, { level, feature });
}
add(2, "sse3", "addsubpd addsubps haddpd haddps hsubpd hsubps lddqu movddup movshdup movsldup fisttp monitor mwait");
add(2, "ssse3", "pabsb pabsw pabsd palignr phaddw phaddd phaddsw phsubw phsubd phsubsw pmaddubsw pmulhrsw pshufb psignb psignw psignd");
add(
  2,
  "sse4.1",
  `blendpd blendps blendvpd blendvps dppd dpps extractps insertps movntdqa mpsadbw packusdw pblendvb
   pblendw pcmpeqq pextrb pextrd pextrq phminposuw pinsrb pinsrd pinsrq pmaxsb pmaxsd pmaxud pmaxuw
   pminsb pminsd pminud pminuw pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq pmovzxbw
   pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq pmuldq pmulld ptest roundpd roundps roundsd roundss`,
);
add(2, "sse4.2", "pcmpestri pcmpestrm pcmpistri pcmpistrm pcmpgtq crc32");
add(2, "popcnt", "popcnt");
add(2, "cx16", "cmpxchg16b");
add(2, "lahf-lm", "lahf sahf");
// TZCNT is F3 0F BC, which a CPU without BMI1 runs as BSF (same result for a non-zero
// input): LLVM emits it as `rep bsf` for a count of trailing zeros of a value it knows is not
// zero, at every level. So it never faults and counts as baseline. LZCNT has no such pass:
// as BSR it gives another number, so compilers emit it only when the target has it.
add(3, "bmi1", "andn bextr blsi blsmsk blsr");
add(3, "bmi2", "bzhi mulx pdep pext rorx sarx shlx shrx");
add(3, "lzcnt", "lzcnt");
add(3, "movbe", "movbe");
add(3, "xsave", "xgetbv xsave xsave64 xrstor xrstor64 xsaveopt xsaveopt64");
add(5, "aes", "aesenc aesenclast aesdec aesdeclast aesimc aeskeygenassist");
add(5, "pclmul", "pclmulqdq pclmullqlqdq pclmulhqlqdq pclmullqhqdq pclmulhqhqdq");
add(5, "sha", "sha1rnds4 sha1nexte sha1msg1 sha1msg2 sha256rnds2 sha256msg1 sha256msg2");
add(5, "rdrand/rdseed", "rdrand rdseed");
add(5, "adx", "adcx adox");
add(5, "sse4a", "extrq insertq movntsd movntss");
add(5, "3dnow/prfchw", "femms pavgusb pmulhrw pi2fd pi2fw pf2id pf2iw pswapd prefetchw");
add(5, "clflushopt/clwb", "clflushopt clwb");
add(5, "rdtscp/rdpid", "rdtscp rdpid");
add(5, "tsx", "xbegin xend xabort xtest");
add(5, "vmx/svm", "vmcall vmlaunch vmresume vmxoff vmxon vmread vmwrite vmptrld vmptrst vmclear vmfunc vmrun vmload vmsave vmmcall");

// Prefixes objdump prints before the mnemonic (they change no CPU requirement by themselves).
const prefixes = new Set(
  "lock rep repz repe repnz repne data16 data32 addr32 cs ds es fs gs ss notrack bnd xacquire xrelease {vex} {vex3} {evex}".split(" "),
);

/** One line of `objdump -d --insn-width=16 -M intel`, or null for anything else (headers,
 * labels, blank lines, a wrapped continuation, `(bad)`). */
export function parseObjdumpLine(line: string): Instruction | null {
  const m = /^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$/.exec(line);
  if (!m) return null;
  const bytes = m[2]!.trim().split(" ").map((b) => parseInt(b, 16));
  // Drop the "# 0x…" and "<symbol>" annotations: only operands are left.
  const words = m[3]!.replace(/\s+#.*$/, "").replace(/<[^>]*>/g, "").trim().split(/\s+/);
  while (words.length > 1 && (prefixes.has(words[0]!) || words[0]!.startsWith("rex"))) words.shift();
  const mnemonic = words.shift() ?? "";
  if (mnemonic === "" || mnemonic === "(bad)") return null;
  return { address: m[1]!, bytes, mnemonic, operands: words.join(" ") };
}

/** The encoding the raw bytes use: the first byte after the legacy prefixes and REX. */
function encoding(bytes: number[]): "legacy" | "vex" | "evex" | "xop" {
  let i = 0;
  const legacy = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3];
  while (i < bytes.length && i < 15 && legacy.includes(bytes[i]!)) i++;
  if (i < bytes.length && (bytes[i]! & 0xf0) === 0x40) return "legacy"; // REX: never before VEX
  const op = bytes[i];
  // In 64-bit mode C4/C5 (LES/LDS) and 62 (BOUND) are invalid, so they always start VEX/EVEX.
  if (op === 0xc4 || op === 0xc5) return "vex";
  if (op === 0x62) return "evex";
  // 8F is POP r/m64 unless the next byte's map field (low 5 bits) is 8 or more: XOP.
  if (op === 0x8f && i + 1 < bytes.length && (bytes[i + 1]! & 0x1f) >= 8) return "xop";
  return "legacy";
}

const avx512Registers = /\b(zmm\d+|[xy]mm(1[6-9]|2\d|3[01])|k[0-7])\b|\{(k[0-7]|z|1to\d+|sae|r[nduz]-sae)\}/;

/** What one instruction needs, as the highest level and the feature that forces it. */
export function instructionNeed(insn: Instruction): Need {
  const { mnemonic, operands } = insn;
  const enc = encoding(insn.bytes);
  if (enc === "xop") return { level: 5, feature: "xop" };
  if (enc === "evex" || avx512Registers.test(operands) || /^k[a-z]/.test(mnemonic)) {
    return { level: 4, feature: "avx512" };
  }
  const known = table.get(mnemonic);
  const vexMnemonic = /^v/.test(mnemonic) && mnemonic !== "verr" && mnemonic !== "verw" && !known;
  if (enc === "vex" || vexMnemonic) {
    const body = mnemonic.replace(/^v/, "");
    if (/^(aes|pclmul)/.test(body)) return { level: 5, feature: body.startsWith("aes") ? "aes" : "pclmul" };
    if (/^gf2p8/.test(body)) return { level: 5, feature: "gfni" };
    if (/^(pdpbusd|pdpwssd)/.test(body)) return { level: 5, feature: "avx-vnni" };
    if (known) return { level: Math.max(3, known.level) as Level, feature: known.feature };
    if (/^f(n?m(add|sub)|maddsub|msubadd)/.test(body)) return { level: 3, feature: "fma" };
    if (/^cvt(ph2ps|ps2ph)$/.test(body)) return { level: 3, feature: "f16c" };
    return { level: 3, feature: /\bymm/.test(operands) ? "avx/avx2 (256-bit)" : "avx (VEX)" };
  }
  if (/\bymm\d/.test(operands)) return { level: 3, feature: "avx/avx2 (256-bit)" };
  // PEXTRW to memory is SSE4.1 (66 0F 3A 15); to a register, SSE2.
  if (mnemonic === "pextrw" && /PTR/.test(operands)) return { level: 2, feature: "sse4.1" };
  return known ?? { level: 1, feature: "x86-64" };
}

export type Excess = { feature: string; level: Level; count: number; example: string };
export type LevelReport = {
  instructions: number;
  /** Beyond the level, outside the dispatched functions: what fails the check. */
  excess: Excess[];
  /** Instructions beyond the level inside each dispatched function found. */
  dispatched: Record<string, number>;
};

/** Every feature of `disassembly` beyond `max`, with a count and the first instruction;
 *  instructions inside the functions named in `dispatched` are counted apart. */
export function beyondLevel(disassembly: string, max: Level, dispatched: string[] = []): LevelReport {
  const found = new Map<string, Excess>();
  const inDispatched: Record<string, number> = {};
  let instructions = 0;
  let fn = "";
  for (const line of disassembly.split("\n")) {
    const label = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (label) {
      fn = label[1]!;
      if (dispatched.includes(fn)) inDispatched[fn] ??= 0;
      continue;
    }
    const insn = parseObjdumpLine(line);
    if (!insn) continue;
    instructions++;
    const need = instructionNeed(insn);
    if (need.level <= max) continue;
    if (dispatched.includes(fn)) {
      inDispatched[fn]!++;
      continue;
    }
    const seen = found.get(need.feature);
    if (seen) seen.count++;
    else found.set(need.feature, { ...need, count: 1, example: line.trim() });
  }
  return { instructions, excess: [...found.values()].sort((a, b) => b.count - a.count), dispatched: inDispatched };
}

/** ELF e_machine: 62 x86-64, 183 aarch64 (only x86-64 has levels to check). */
export function elfMachine(header: Uint8Array): number {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    throw new Error("not an ELF file");
  }
  return header[18]! | (header[19]! << 8);
}

async function main(argv: string[]): Promise<number> {
  const [levelArg, ...rest] = argv;
  const max = Number(levelArg);
  const dispatched: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--dispatched" && i + 1 < rest.length) dispatched.push(rest[++i]!);
    else files.push(rest[i]!);
  }
  if (![1, 2, 3, 4].includes(max) || files.length === 0) {
    console.error("usage: bun scripts/cpu-level.ts LEVEL(1-4) [--dispatched SYMBOL]... FILE...");
    return 2;
  }
  let failed = false;
  for (const file of files) {
    const machine = elfMachine(new Uint8Array(await Bun.file(file).slice(0, 64).arrayBuffer()));
    if (machine !== 62) {
      console.error(`cpu-level: ${file}: not x86-64 (ELF machine ${machine}); nothing to check`);
      continue;
    }
    const proc = Bun.spawnSync(["objdump", "-d", "--insn-width=16", "-M", "intel", file], { stderr: "pipe" });
    if (proc.exitCode !== 0) throw new Error(`objdump ${file}: ${proc.stderr.toString().trim()}`);
    const { instructions, excess, dispatched: found } = beyondLevel(proc.stdout.toString(), max as Level, dispatched);
    if (instructions === 0) throw new Error(`objdump ${file}: no instructions disassembled`);
    const apart = Object.entries(found).filter(([, n]) => n > 0).map(([fn, n]) => `; ${n} beyond it in ${fn} (dispatched)`).join("");
    if (excess.length === 0) {
      console.error(`cpu-level: ${file}: ${instructions} instructions, all within ${levelName(max as Level)}${apart}`);
      continue;
    }
    failed = true;
    console.error(`cpu-level: ${file}: instructions beyond ${levelName(max as Level)} (build with the default -Dcpu):`);
    for (const e of excess) console.error(`  ${e.feature} (${levelName(e.level)}): ${e.count}, e.g. ${e.example}`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
