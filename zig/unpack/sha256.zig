//! SHA-256 of the uncompressed layer (the OCI diffID), chosen at run time: the SHA extensions
//! (SHA-NI) when the CPU has them, else a plain scalar compression. Why not
//! std.crypto.hash.sha2.Sha256: it picks SHA-NI at compile time only (and needs AVX2 for it),
//! so the portable x86-64-v2 build (README "Portability") would always take its generic path,
//! which Zig 0.15.2 compiles to about 25 MB/s; this scalar one does about 5x that, SHA-NI
//! about 50x (bench/cpu-level.sh). compressShaNi is the one function with instructions beyond
//! the floor, reached only after CPUID says they exist; scripts/build.sh names it to
//! scripts/cpu-level.ts as dispatched.
const std = @import("std");
const builtin = @import("builtin");
const assert = std.debug.assert;

pub const digest_length = 32;
/// Zig's own x86-64 backend (Debug builds, the Zig unit tests) cannot encode the SHA
/// instructions for a CPU model without them; only LLVM builds (releases) carry that path.
const sha_ni_compiled = builtin.cpu.arch == .x86_64 and builtin.zig_backend == .stage2_llvm;
const block_length = 64;

const iv = [8]u32{ 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
const round_constants = [64]u32{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

pub const Sha256 = struct {
    state: [8]u32 = iv,
    buffer: [block_length]u8 = undefined,
    buffer_len: u8 = 0,
    total_len: u64 = 0,
    sha_ni: bool,

    pub fn init() Sha256 {
        return .{ .sha_ni = hasShaNi() };
    }

    /// The scalar path whatever the CPU: for tests that compare the two.
    fn initScalar() Sha256 {
        return .{ .sha_ni = false };
    }

    pub fn update(h: *Sha256, bytes: []const u8) void {
        assert(h.buffer_len < block_length);
        h.total_len +%= bytes.len;
        var rest = bytes;
        if (h.buffer_len > 0) {
            const take = @min(block_length - h.buffer_len, rest.len);
            @memcpy(h.buffer[h.buffer_len..][0..take], rest[0..take]);
            h.buffer_len += @intCast(take);
            rest = rest[take..];
            if (h.buffer_len < block_length) return;
            h.compress(&h.buffer);
            h.buffer_len = 0;
        }
        const whole = rest.len - rest.len % block_length;
        if (whole > 0) h.compress(rest[0..whole]);
        rest = rest[whole..];
        @memcpy(h.buffer[0..rest.len], rest);
        h.buffer_len = @intCast(rest.len);
    }

    pub fn final(h: *Sha256, out: *[digest_length]u8) void {
        assert(h.buffer_len < block_length);
        const bits = h.total_len *% 8;
        var tail: [2 * block_length]u8 = @splat(0);
        @memcpy(tail[0..h.buffer_len], h.buffer[0..h.buffer_len]);
        tail[h.buffer_len] = 0x80;
        const tail_len: usize = if (h.buffer_len < block_length - 8) block_length else 2 * block_length;
        std.mem.writeInt(u64, tail[tail_len - 8 ..][0..8], bits, .big);
        h.compress(tail[0..tail_len]);
        for (h.state, 0..) |word, i| std.mem.writeInt(u32, out[4 * i ..][0..4], word, .big);
    }

    fn compress(h: *Sha256, blocks: []const u8) void {
        assert(blocks.len % block_length == 0);
        if (sha_ni_compiled and h.sha_ni) {
            compressShaNi(&h.state, blocks);
        } else {
            var offset: usize = 0;
            while (offset < blocks.len) : (offset += block_length) {
                compressScalar(&h.state, blocks[offset..][0..block_length]);
            }
        }
    }
};

/// CPUID.(EAX=7,ECX=0):EBX bit 29, and the SSSE3 (CPUID.1:ECX bit 9) and SSE4.1 (bit 19)
/// that compressShaNi also uses (every CPU with SHA-NI has them).
fn hasShaNi() bool {
    if (!sha_ni_compiled) return false;
    if (cpuid(0, 0)[0] < 7) return false;
    const ecx1 = cpuid(1, 0)[2];
    const ebx7 = cpuid(7, 0)[1];
    return ebx7 & (1 << 29) != 0 and ecx1 & (1 << 9) != 0 and ecx1 & (1 << 19) != 0;
}

fn cpuid(leaf: u32, subleaf: u32) [4]u32 {
    var eax: u32 = undefined;
    var ebx: u32 = undefined;
    var ecx: u32 = undefined;
    var edx: u32 = undefined;
    asm volatile ("cpuid"
        : [eax] "={eax}" (eax),
          [ebx] "={ebx}" (ebx),
          [ecx] "={ecx}" (ecx),
          [edx] "={edx}" (edx),
        : [leaf] "{eax}" (leaf),
          [subleaf] "{ecx}" (subleaf),
    );
    return .{ eax, ebx, ecx, edx };
}

fn compressScalar(state: *[8]u32, block: *const [block_length]u8) void {
    var w: [16]u32 = undefined;
    inline for (0..16) |i| w[i] = std.mem.readInt(u32, block[4 * i ..][0..4], .big);
    var a = state[0];
    var b = state[1];
    var c = state[2];
    var d = state[3];
    var e = state[4];
    var f = state[5];
    var g = state[6];
    var h = state[7];
    inline for (0..64) |i| {
        if (i >= 16) {
            const w15 = w[(i - 15) % 16];
            const w2 = w[(i - 2) % 16];
            w[i % 16] +%= w[(i - 7) % 16] +% (rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)) +%
                (rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10));
        }
        const t1 = h +% (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +% (g ^ (e & (f ^ g))) +%
            round_constants[i] +% w[i % 16];
        const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) +% ((a & (b | c)) | (b & c));
        h = g;
        g = f;
        f = e;
        e = d +% t1;
        d = c;
        c = b;
        b = a;
        a = t1 +% t2;
    }
    for (state, [8]u32{ a, b, c, d, e, f, g, h }) |*s, v| s.* +%= v;
}

fn rotr(x: u32, comptime n: u5) u32 {
    return std.math.rotr(u32, x, n);
}

const V4u32 = @Vector(4, u32);

/// The ELF section of the functions reached only after a CPUID check: scripts/cpu-level.ts
/// allows their instructions by this name, which survives stripping (tsd-monitor is stripped).
pub const dispatched_section = "tsd_dispatched";

/// std's SHA-NI rounds with legacy-SSE encodings only (PALIGNR, not AVX's VPALIGNR), so a CPU
/// with SHA-NI but no AVX runs it. noinline and in its own section: scripts/cpu-level.ts finds
/// it by its symbol, or by the section in a stripped binary.
noinline fn compressShaNi(state: *[8]u32, blocks: []const u8) linksection(dispatched_section) void {
    assert(blocks.len % block_length == 0);
    var x: V4u32 = .{ state[5], state[4], state[1], state[0] };
    var y: V4u32 = .{ state[7], state[6], state[3], state[2] };
    var offset: usize = 0;
    while (offset < blocks.len) : (offset += block_length) {
        var words: [16]V4u32 = undefined;
        for (0..16) |i| words[i / 4][i % 4] = std.mem.readInt(u32, blocks[offset + 4 * i ..][0..4], .big);
        const x_start = x;
        const y_start = y;
        inline for (0..16) |k| {
            if (k < 12) {
                var tmp = words[k];
                words[k + 4] = asm (
                    \\ sha256msg1 %[w4_7], %[tmp]
                    \\ movdqa %[w12_15], %[result]
                    \\ palignr $0x4, %[w8_11], %[result]
                    \\ paddd %[tmp], %[result]
                    \\ sha256msg2 %[w12_15], %[result]
                    : [tmp] "=&x" (tmp),
                      [result] "=&x" (-> V4u32),
                    : [_] "0" (tmp),
                      [w4_7] "x" (words[k + 1]),
                      [w8_11] "x" (words[k + 2]),
                      [w12_15] "x" (words[k + 3]),
                );
            }
            const w: V4u32 = words[k] +% @as(V4u32, round_constants[4 * k ..][0..4].*);
            y = asm ("sha256rnds2 %[x], %[y]"
                : [y] "=x" (-> V4u32),
                : [_] "0" (y),
                  [x] "x" (x),
                  [_] "{xmm0}" (w),
            );
            x = asm ("sha256rnds2 %[y], %[x]"
                : [x] "=x" (-> V4u32),
                : [_] "0" (x),
                  [y] "x" (y),
                  [_] "{xmm0}" (@as(V4u32, @bitCast(@as(u128, @bitCast(w)) >> 64))),
            );
        }
        x +%= x_start;
        y +%= y_start;
    }
    state.* = .{ x[3], x[2], y[3], y[2], x[1], x[0], y[1], y[0] };
}

const testing = std.testing;

fn expectSameAsStd(h: *Sha256, data: []const u8, chunk: usize) !void {
    assert(chunk > 0);
    var offset: usize = 0;
    while (offset < data.len) : (offset += chunk) h.update(data[offset..@min(data.len, offset + chunk)]);
    var got: [digest_length]u8 = undefined;
    h.final(&got);
    var want: [digest_length]u8 = undefined;
    std.crypto.hash.sha2.Sha256.hash(data, &want, .{});
    try testing.expectEqualSlices(u8, &want, &got);
}

test "scalar SHA-256 matches std for every length around the block and padding edges" {
    var data: [300]u8 = undefined;
    var prng = std.Random.DefaultPrng.init(0x5ba);
    prng.random().bytes(&data);
    for (0..data.len) |len| {
        var h = Sha256.initScalar();
        try expectSameAsStd(&h, data[0..len], 1 + len % 67);
    }
}

test "SHA-NI SHA-256 matches std (skipped on a CPU without SHA-NI and in Debug builds)" {
    // Release builds are checked end to end too: every `tsd load` compares the diffIDs.
    if (!hasShaNi()) return error.SkipZigTest;
    var data: [4096 + 300]u8 = undefined;
    var prng = std.Random.DefaultPrng.init(0x5ba);
    prng.random().bytes(&data);
    for ([_]usize{ 0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096, data.len }) |len| {
        for ([_]usize{ 1, 7, 64, 1000, 5000 }) |chunk| {
            var h = Sha256.init();
            try testing.expect(h.sha_ni);
            try expectSameAsStd(&h, data[0..len], chunk);
        }
    }
}

test "known answer: sha256(\"abc\")" {
    for ([_]bool{ false, true }) |sha_ni| {
        if (sha_ni and !hasShaNi()) continue;
        var h: Sha256 = .{ .sha_ni = sha_ni };
        h.update("abc");
        var out: [digest_length]u8 = undefined;
        h.final(&out);
        try testing.expectEqualStrings(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            &std.fmt.bytesToHex(out, .lower),
        );
    }
}
