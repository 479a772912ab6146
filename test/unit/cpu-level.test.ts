// The x86-64 level checker that guards the build (scripts/cpu-level.ts) on objdump lines:
// the real ones are copied from builds of libtsd and tsd-monitor for an AVX-512 host.
import { describe, expect, test } from "bun:test";
import { beyondLevel, elfMachine, instructionNeed, parseObjdumpLine, type Need } from "../../scripts/cpu-level";

/** One `objdump -d --insn-width=16 -M intel` line, as objdump lays it out. */
function line(bytes: string, asm: string): string {
  return `  1016890:\t${bytes.split(" ").join(" ")} ${" ".repeat(Math.max(0, 48 - bytes.length))}\t${asm}`;
}
function need(bytes: string, asm: string): Need {
  const insn = parseObjdumpLine(line(bytes, asm));
  if (!insn) throw new Error(`not an instruction: ${asm}`);
  return instructionNeed(insn);
}

describe("parseObjdumpLine", () => {
  test("splits address, bytes, mnemonic and operands; drops prefixes and annotations", () => {
    expect(parseObjdumpLine(line("f0 fe 05 7a 38 a3 00", "lock inc BYTE PTR [rip+0xa3387a]        # 0x1a51278"))).toEqual({
      address: "1016890",
      bytes: [0xf0, 0xfe, 0x05, 0x7a, 0x38, 0xa3, 0x00],
      mnemonic: "inc",
      operands: "BYTE PTR [rip+0xa3387a]",
    });
    expect(parseObjdumpLine(line("e8 e6 79 08 00", "call   109e2a0 <k1>"))?.operands).toBe("109e2a0");
  });

  test("headers, labels, blank lines and (bad) are not instructions", () => {
    for (const l of [
      "",
      "zig-out/bin/tsd-monitor:     file format elf64-x86-64",
      "Disassembly of section .text:",
      "0000000001016860 <main>:",
      line("ff", "(bad)"),
    ]) {
      expect(parseObjdumpLine(l)).toBeNull();
    }
  });
});

describe("instructionNeed", () => {
  test("baseline x86-64: integer, SSE2, lock and rep, and TZCNT (runs as BSF without BMI1)", () => {
    for (const [bytes, asm] of [
      ["48 01 c3", "add    rbx,rax"],
      ["4c 0f bc c7", "bsf    r8,rdi"],
      ["f3 48 0f bc ce", "tzcnt  rcx,rsi"],
      ["0f 57 c0", "xorps  xmm0,xmm0"],
      ["66 0f 70 c0 00", "pshufd xmm0,xmm0,0x0"],
      ["66 0f c5 c0 01", "pextrw eax,xmm0,0x1"],
      ["f3 48 ab", "rep stos QWORD PTR es:[rdi],rax"],
      ["f0 48 0f b1 0f", "lock cmpxchg QWORD PTR [rdi],rcx"],
      ["8f 00", "pop    QWORD PTR [rax]"],
    ] as const) {
      expect(need(bytes, asm)).toEqual({ level: 1, feature: "x86-64" });
    }
  });

  test("x86-64-v2: SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B, LAHF", () => {
    expect(need("66 0f 38 00 c8", "pshufb xmm1,xmm0")).toEqual({ level: 2, feature: "ssse3" });
    expect(need("66 0f 38 17 c9", "ptest  xmm1,xmm1")).toEqual({ level: 2, feature: "sse4.1" });
    expect(need("66 0f 3a 15 07 01", "pextrw WORD PTR [rdi],xmm0,0x1")).toEqual({ level: 2, feature: "sse4.1" });
    expect(need("f2 0f 38 f0 07", "crc32  eax,BYTE PTR [rdi]")).toEqual({ level: 2, feature: "sse4.2" });
    expect(need("f3 48 0f b8 c7", "popcnt rax,rdi")).toEqual({ level: 2, feature: "popcnt" });
    expect(need("f0 48 0f c7 0f", "lock cmpxchg16b OWORD PTR [rdi]")).toEqual({ level: 2, feature: "cx16" });
    expect(need("9f", "lahf")).toEqual({ level: 2, feature: "lahf-lm" });
  });

  test("x86-64-v3: any VEX encoding (even on xmm), ymm, BMI1/2, LZCNT, MOVBE, FMA", () => {
    expect(need("c5 f8 10 05 d4 7b ff ff", "vmovups xmm0,XMMWORD PTR [rip+0xffffffffffff7bd4]        # e790 <x+0xd5c>")).toEqual({
      level: 3,
      feature: "avx (VEX)",
    });
    expect(need("c5 fe 6f 02", "vmovdqu ymm0,YMMWORD PTR [rdx]")).toEqual({ level: 3, feature: "avx/avx2 (256-bit)" });
    expect(need("c4 e2 79 17 c0", "vptest xmm0,xmm0")).toEqual({ level: 3, feature: "avx (VEX)" });
    expect(need("c4 42 99 f7 fd", "shlx   r15,r13,r12")).toEqual({ level: 3, feature: "bmi2" });
    expect(need("c4 62 c8 f2 c2", "andn   r8,rsi,rdx")).toEqual({ level: 3, feature: "bmi1" });
    expect(need("f3 49 0f bd c5", "lzcnt  rax,r13")).toEqual({ level: 3, feature: "lzcnt" });
    expect(need("44 0f 38 f1 75 b4", "movbe  DWORD PTR [rbp-0x4c],r14d")).toEqual({ level: 3, feature: "movbe" });
    expect(need("c4 e2 71 b8 c2", "vfmadd231ps xmm0,xmm1,xmm2")).toEqual({ level: 3, feature: "fma" });
  });

  test("x86-64-v4: EVEX, zmm, mask registers and their decorations", () => {
    const avx512: Need = { level: 4, feature: "avx512" };
    expect(need("62 f1 fe 48 7f 85 30 f5 ff ff", "vmovdqu64 ZMMWORD PTR [rbp-0xad0],zmm0")).toEqual(avx512);
    expect(need("62 f1 7f 49 7f 4c 31 fd", "vmovdqu8 ZMMWORD PTR [rcx+rsi*1-0xc0]{k1},zmm1")).toEqual(avx512);
    expect(need("62 f1 7d 09 6f c1", "vmovdqa32 xmm0{k1},xmm1")).toEqual(avx512);
    expect(need("c5 f8 98 c1", "kortestw k0,k1")).toEqual(avx512);
    expect(need("c5 fb 93 c0", "kmovd  eax,k0")).toEqual(avx512);
    // Without the raw bytes (objdump --no-show-raw-insn) the registers still tell.
    expect(instructionNeed({ address: "0", bytes: [], mnemonic: "vpaddd", operands: "xmm17,xmm1,xmm2" })).toEqual(avx512);
  });

  test("outside every level: SHA, AES-NI, XOP", () => {
    expect(need("0f 38 cc fd", "sha256msg1 xmm7,xmm5").level).toBe(5);
    expect(need("66 0f 38 dc c1", "aesenc xmm0,xmm1")).toEqual({ level: 5, feature: "aes" });
    expect(need("c4 e2 71 dc c2", "vaesenc xmm0,xmm1,xmm2")).toEqual({ level: 5, feature: "aes" });
    expect(need("8f e9 78 c1 c1", "vphaddbw xmm0,xmm1")).toEqual({ level: 5, feature: "xop" });
  });
});

describe("beyondLevel", () => {
  const text = [
    "libtsd.so:     file format elf64-x86-64",
    "",
    "0000000000016bb0 <f>:",
    line("48 01 c3", "add    rbx,rax"),
    line("66 0f 38 00 c8", "pshufb xmm1,xmm0"),
    line("66 0f 38 17 c9", "ptest  xmm1,xmm1"),
    line("66 0f 38 17 c0", "ptest  xmm0,xmm0"),
    line("c5 fe 6f 02", "vmovdqu ymm0,YMMWORD PTR [rdx]"),
    line("c3", "ret"),
  ].join("\n");

  test("counts every feature above the level, most frequent first, with the first example", () => {
    const v1 = beyondLevel(text, 1);
    expect(v1.instructions).toBe(6);
    expect(v1.excess.map((e) => [e.feature, e.level, e.count])).toEqual([
      ["sse4.1", 2, 2],
      ["ssse3", 2, 1],
      ["avx/avx2 (256-bit)", 3, 1],
    ]);
    expect(v1.excess[0]!.example).toContain("ptest  xmm1,xmm1");
  });

  test("a level at or above every instruction has nothing to report", () => {
    expect(beyondLevel(text, 2).excess.map((e) => e.feature)).toEqual(["avx/avx2 (256-bit)"]);
    expect(beyondLevel(text, 3).excess).toEqual([]);
  });
});

test("beyondLevel counts instructions in a dispatched function apart, by its label", () => {
  const text = [
    "0000000000042c40 <unpack.sha256.compressShaNi>:",
    line("0f 38 cc d3", "sha256msg1 xmm2,xmm3"),
    line("66 0f 3a 0f c4 04", "palignr xmm0,xmm4,0x4"),
    "",
    "0000000000042f00 <unpack.sha256.compressScalar>:",
    line("0f 38 cc d3", "sha256msg1 xmm2,xmm3"),
  ].join("\n");
  const report = beyondLevel(text, 2, ["unpack.sha256.compressShaNi"]);
  expect(report.instructions).toBe(3);
  expect(report.dispatched).toEqual({ "unpack.sha256.compressShaNi": 1 });
  expect(report.excess.map((e) => [e.feature, e.count])).toEqual([["sha", 1]]);
  expect(beyondLevel(text, 2).excess.map((e) => [e.feature, e.count])).toEqual([["sha", 2]]);
});

test("elfMachine reads e_machine and refuses what is not ELF", () => {
  const header = new Uint8Array(64);
  header.set([0x7f, 0x45, 0x4c, 0x46]);
  header[18] = 62;
  expect(elfMachine(header)).toBe(62);
  header[18] = 183;
  expect(elfMachine(header)).toBe(183);
  expect(() => elfMachine(new TextEncoder().encode("#!/bin/sh\necho not elf\n"))).toThrow("not an ELF file");
});
