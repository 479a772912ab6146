//! libtsd: the C ABI the CLI calls through bun:ffi (src/native/ffi.ts is the only caller).
//! Every export returns a status (0 ok, negative errno-style failure) and writes a message into
//! a caller-provided buffer; none allocates memory that the caller must free.
const std = @import("std");
const build_options = @import("build_options");
const unpack = @import("unpack/unpack.zig");
const netns = @import("netlink/netns.zig");
const device_filter = @import("cgroup/device_filter.zig");
const Message = @import("linux").message.Message;

pub const version: [:0]const u8 = std.fmt.comptimePrint("{s}", .{build_options.version});

export fn tsd_version() [*:0]const u8 {
    return version.ptr;
}

/// Unpacks the tar stream at `src` (plain, gzip or zstd) into the directory `dest`; see
/// CONTRACT.md. `digest_out` (65 bytes) receives the hex sha256 of the uncompressed stream.
export fn tsd_unpack(
    src: ?[*:0]const u8,
    dest: ?[*:0]const u8,
    flags: u32,
    digest_out: ?[*]u8,
    errbuf: ?[*]u8,
    errlen: usize,
) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    if (digest_out) |d| d[0] = 0;
    const src_path = src orelse return invalid(msg, "tsd_unpack: src is null");
    const dest_path = dest orelse return invalid(msg, "tsd_unpack: dest is null");
    const digest = digest_out orelse return invalid(msg, "tsd_unpack: digest_out is null");
    if (flags & ~(unpack.flag_layer | unpack.flag_archive | unpack.flag_plain | unpack.flag_ignore_chown) != 0) return invalid(msg, "tsd_unpack: unknown flags");
    if (flags & unpack.flag_layer != 0 and flags & unpack.flag_archive != 0) return invalid(msg, "tsd_unpack: a layer is not an archive");
    var result: unpack.Result = undefined;
    const status = unpack.unpack(src_path, dest_path, flags, msg, &result);
    if (status < 0) return status;
    @memcpy(digest[0..64], &result.digest);
    digest[64] = 0;
    return status;
}

/// Packs everything below the directory `dir` (not `dir` itself) as a tar into the new file
/// `out`, walked fd-relative as `tsd-monitor --pack` does (zig/unpack/pack.zig); `flags`:
/// bit 0 layer (whiteouts and opaque directories as `.wh.` entries), bit 1 xattrs, bit 2
/// device nodes. `digest_out` (65 bytes) receives the hex sha256 of the stream. Bytes written.
export fn tsd_pack(dir: ?[*:0]const u8, out: ?[*:0]const u8, flags: u32, digest_out: ?[*]u8, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    const d = dir orelse return invalid(msg, "tsd_pack: dir is null");
    const o = out orelse return invalid(msg, "tsd_pack: out is null");
    const digest = digest_out orelse return invalid(msg, "tsd_pack: digest_out is null");
    digest[0] = 0;
    if (flags & ~@as(u32, pack_layer | pack_xattrs | pack_devices) != 0) return invalid(msg, "tsd_pack: unknown flags");
    const opts: unpack.pack.Options = .{ .root_entry = false, .layer = flags & pack_layer != 0, .xattrs = flags & pack_xattrs != 0, .devices = flags & pack_devices != 0 };
    const linux = std.os.linux;
    const root = linux.openat(linux.AT.FDCWD, d, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0);
    if (linux.E.init(root) != .SUCCESS) return failed(msg, linux.E.init(root), "cannot open", d);
    defer _ = linux.close(@intCast(root));
    const fd = linux.openat(linux.AT.FDCWD, o, .{ .ACCMODE = .WRONLY, .CREAT = true, .EXCL = true, .CLOEXEC = true }, 0o600);
    if (linux.E.init(fd) != .SUCCESS) return failed(msg, linux.E.init(fd), "cannot create", o);
    defer _ = linux.close(@intCast(fd));
    var sha = unpack.sha256.Sha256.init();
    var w: unpack.pack.Writer = .{ .fd = @intCast(fd), .sha = &sha };
    var failure: ?linux.E = null;
    unpack.pack.packTree(&w, opts, msg, @intCast(root), ".", null, &failure) catch |err| return switch (err) {
        error.OutOfMemory => invalid(msg, "tsd_pack: out of memory"),
        error.PackFailed => -@as(i64, @intFromEnum(failure orelse linux.E.IO)),
    };
    var raw: [unpack.sha256.digest_length]u8 = undefined;
    sha.final(&raw);
    const hex = std.fmt.bytesToHex(raw, .lower);
    @memcpy(digest[0..64], &hex);
    digest[64] = 0;
    return @intCast(w.total);
}

const pack_layer: u32 = 1;
const pack_xattrs: u32 = 2;
const pack_devices: u32 = 4;

fn failed(msg: Message, e: std.os.linux.E, what: []const u8, path: [*:0]const u8) i64 {
    msg.set("{s} {s}: {s}", .{ what, std.mem.span(path), @import("linux").errno.text(e) });
    return -@as(i64, @intFromEnum(e));
}

/// Reads the file `rel` under the directory `dir` as one layer of an overlay would show it,
/// into `buf`: each component opened from its parent's descriptor without following it
/// (O_NOFOLLOW), so a symlink anywhere, or a directory swapped for one meanwhile, never leads
/// outside `dir`. Bytes read; -ENOENT absent here (a symlink, a non-directory on the way, a
/// final non-regular file: look in the layer below); -ESTALE hidden by a whiteout; -EFBIG
/// larger than `len`; -EACCES a directory on the way or the file not open to the caller.
export fn tsd_read_file(dir: ?[*:0]const u8, rel: ?[*:0]const u8, buf: ?[*]u8, len: usize) i64 {
    const d = dir orelse return -@as(i64, @intFromEnum(std.os.linux.E.INVAL));
    const r = rel orelse return -@as(i64, @intFromEnum(std.os.linux.E.INVAL));
    const b = buf orelse return -@as(i64, @intFromEnum(std.os.linux.E.INVAL));
    return readFileIn(d, std.mem.span(r), b[0..len]);
}

const max_read_components = 64;

fn readFileIn(dir: [*:0]const u8, rel: []const u8, buf: []u8) i64 {
    const linux = std.os.linux;
    const enoent = -@as(i64, @intFromEnum(linux.E.NOENT));
    const root_rc = linux.openat(linux.AT.FDCWD, dir, .{ .PATH = true, .DIRECTORY = true, .CLOEXEC = true }, 0);
    if (linux.E.init(root_rc) != .SUCCESS) return -@as(i64, @intFromEnum(linux.E.init(root_rc)));
    var cur: linux.fd_t = @intCast(root_rc);
    defer _ = linux.close(cur);
    var it = std.mem.tokenizeScalar(u8, rel, '/');
    var count: usize = 0;
    var name: [256:0]u8 = undefined;
    while (it.next()) |component| : (count += 1) {
        if (count == max_read_components) return enoent;
        if (std.mem.eql(u8, component, ".")) continue;
        if (std.mem.eql(u8, component, "..") or component.len >= name.len) return enoent;
        @memcpy(name[0..component.len], component);
        name[component.len] = 0;
        const base = name[0..component.len :0];
        const last = it.peek() == null;
        const rc = linux.openat(cur, base, .{ .PATH = true, .NOFOLLOW = true, .CLOEXEC = true }, 0);
        if (linux.E.init(rc) != .SUCCESS) return missingOrDenied(rc);
        const fd: linux.fd_t = @intCast(rc);
        var st: linux.Stat = undefined;
        if (linux.E.init(linux.fstat(fd, &st)) != .SUCCESS) {
            _ = linux.close(fd);
            return enoent;
        }
        if (linux.S.ISCHR(st.mode) and st.rdev == 0) {
            _ = linux.close(fd);
            return -@as(i64, @intFromEnum(linux.E.STALE));
        }
        if (!last) {
            if (!linux.S.ISDIR(st.mode)) {
                _ = linux.close(fd);
                return enoent;
            }
            _ = linux.close(cur);
            cur = fd;
            continue;
        }
        _ = linux.close(fd);
        if (!linux.S.ISREG(st.mode)) return enoent;
        return readRegular(cur, base, st, buf);
    }
    return enoent;
}

/// A failed open's result: -EACCES when permission was refused (a rootless CLI on the host
/// meeting a directory or file of a subordinate id: the caller retries inside the user
/// namespace), else -ENOENT (the file is not there as a regular file under real directories).
fn missingOrDenied(rc: usize) i64 {
    const linux = std.os.linux;
    const e = linux.E.init(rc);
    std.debug.assert(e != .SUCCESS);
    if (e == .ACCES or e == .PERM) return -@as(i64, @intFromEnum(linux.E.ACCES));
    return -@as(i64, @intFromEnum(linux.E.NOENT));
}

/// Opens `base` for reading (non-blocking: never a fifo's wait) and reads it whole, if it is
/// still the regular file `want` and fits in `buf`.
fn readRegular(parent: std.os.linux.fd_t, base: [*:0]const u8, want: std.os.linux.Stat, buf: []u8) i64 {
    const linux = std.os.linux;
    const enoent = -@as(i64, @intFromEnum(linux.E.NOENT));
    const efbig = -@as(i64, @intFromEnum(linux.E.FBIG));
    const rc = linux.openat(parent, base, .{ .NOFOLLOW = true, .NONBLOCK = true, .NOCTTY = true, .CLOEXEC = true }, 0);
    if (linux.E.init(rc) != .SUCCESS) return missingOrDenied(rc);
    const fd: linux.fd_t = @intCast(rc);
    defer _ = linux.close(fd);
    var st: linux.Stat = undefined;
    if (linux.E.init(linux.fstat(fd, &st)) != .SUCCESS) return enoent;
    if (!linux.S.ISREG(st.mode) or st.ino != want.ino or st.dev != want.dev) return enoent;
    if (st.size > buf.len) return efbig;
    var done: usize = 0;
    // Each pass reads at least one byte or ends; a file growing past buf is refused.
    while (true) {
        if (done == buf.len) {
            var probe: [1]u8 = undefined;
            const more = linux.read(fd, &probe, 1);
            if (linux.E.init(more) == .SUCCESS and more > 0) return efbig;
            return @intCast(done);
        }
        const n = linux.read(fd, buf[done..].ptr, buf.len - done);
        switch (linux.E.init(n)) {
            .SUCCESS => {},
            .INTR => continue,
            else => |e| return -@as(i64, @intFromEnum(e)),
        }
        if (n == 0) return @intCast(done);
        done += n;
    }
}

/// A bridge `name` with the IPv4 address `ip`/`prefix` (ip as a host-order u32), up; made when
/// missing. Returns its ifindex.
export fn tsd_net_bridge(name: ?[*:0]const u8, ip: u32, prefix: u32, mtu: u32, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    const n = name orelse return invalid(msg, "tsd_net_bridge: name is null");
    if (prefix > 32) return invalid(msg, "tsd_net_bridge: prefix > 32");
    return netns.ensureBridge(std.mem.span(n), ipBytes(ip), @intCast(prefix), mtu, msg);
}

/// Sets up one interface of a container's network namespace; see CONTRACT.md.
export fn tsd_net_attach(
    ns_path: ?[*:0]const u8,
    create: u32,
    ifname: ?[*:0]const u8,
    host_ifname: ?[*:0]const u8,
    bridge: ?[*:0]const u8,
    ip: u32,
    prefix: u32,
    gateway: u32,
    mac: ?[*]const u8,
    mtu: u32,
    errbuf: ?[*]u8,
    errlen: usize,
) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    if (prefix > 32 or create > 1) return invalid(msg, "tsd_net_attach: bad prefix or create flag");
    const a: netns.Attach = .{
        .ns_path = std.mem.span(ns_path orelse return invalid(msg, "tsd_net_attach: ns_path is null")),
        .create = create == 1,
        .ifname = std.mem.span(ifname orelse return invalid(msg, "tsd_net_attach: ifname is null")),
        .host_ifname = std.mem.span(host_ifname orelse return invalid(msg, "tsd_net_attach: host_ifname is null")),
        .bridge = std.mem.span(bridge orelse return invalid(msg, "tsd_net_attach: bridge is null")),
        .ip = ipBytes(ip),
        .prefix = @intCast(prefix),
        .gateway = if (gateway == 0) null else ipBytes(gateway),
        .mac = if (mac) |m| m[0..6].* else null,
        .mtu = mtu,
    };
    return netns.attach(&a, msg);
}

/// Deletes a link of the host's namespace (a veth end, a bridge): 0 deleted, 1 absent.
export fn tsd_net_link_delete(name: ?[*:0]const u8, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    return netns.deleteLink(std.mem.span(name orelse return invalid(msg, "tsd_net_link_delete: name is null")), msg);
}

/// Takes a host link down (a released container's veth end, before its namespace goes and
/// takes the pair with it): 0 done, 1 absent.
export fn tsd_net_link_down(name: ?[*:0]const u8, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    return netns.linkDown(std.mem.span(name orelse return invalid(msg, "tsd_net_link_down: name is null")), msg);
}

/// Unbinds and removes a network namespace file made by tsd_net_attach; absent is fine.
export fn tsd_netns_remove(path: ?[*:0]const u8, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    return netns.removeNetns(std.mem.span(path orelse return invalid(msg, "tsd_netns_remove: path is null")), msg);
}

/// Attaches the device rules `words` (4 u32 each: flags bit 0 allow, bits 1-2 type a/b/c;
/// major; minor; access bits m=1 r=2 w=4; 0xffffffff a wildcard number) to the cgroup v2
/// directory `group` as an eBPF device program (zig/cgroup/device_filter.zig). 0, or -errno.
export fn tsd_cgroup_device_filter(group: ?[*:0]const u8, words: ?[*]const u32, count: usize, errbuf: ?[*]u8, errlen: usize) i64 {
    const msg: Message = .{ .buf = if (errbuf) |b| b[0..errlen] else &.{} };
    const g = group orelse return invalid(msg, "tsd_cgroup_device_filter: group is null");
    const w = words orelse return invalid(msg, "tsd_cgroup_device_filter: words is null");
    var rules_buf: [device_filter.max_rules]device_filter.Rule = undefined;
    const rules = device_filter.decode(w[0..count], &rules_buf) catch return invalid(msg, "tsd_cgroup_device_filter: malformed rules");
    var insns: [device_filter.max_insns]std.os.linux.BPF.Insn = undefined;
    const prog = device_filter.compile(rules, &insns);
    var errno: std.os.linux.E = .SUCCESS;
    device_filter.attach(g, prog, &errno) catch |err| {
        const what = switch (err) {
            error.OpenFailed => "open the group",
            error.LoadFailed => "load the device program",
            error.AttachFailed => "attach the device program",
        };
        msg.set("cannot {s} ({s}): {s}", .{ what, std.mem.span(g), @tagName(errno) });
        return -@as(i64, @intFromEnum(errno));
    };
    return 0;
}

fn ipBytes(ip: u32) [4]u8 {
    return .{ @truncate(ip >> 24), @truncate(ip >> 16), @truncate(ip >> 8), @truncate(ip) };
}

fn invalid(msg: Message, text: []const u8) i64 {
    msg.set("{s}", .{text});
    return -@as(i64, @intFromEnum(std.os.linux.E.INVAL));
}

test {
    std.testing.refAllDecls(@This());
    _ = unpack;
    _ = netns;
    _ = device_filter;
    _ = @import("netlink/rtnl.zig");
}
