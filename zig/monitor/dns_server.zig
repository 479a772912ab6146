//! tsd-monitor --dns: the resolver of one user network (CONTRACT.md "tsd-monitor --dns").
//!
//!   tsd-monitor --dns --dir DIR --listen GATEWAY --subnet CIDR [--upstream IP[:PORT]]…
//!
//! Binds GATEWAY:53/udp in the host's network namespace (the bridge's own address, never
//! 0.0.0.0), then forks: the parent writes `DIR/dns.pid` ("PID START\n", START being field 22
//! of the child's /proc stat) and exits 0 once the child is serving (1 with one stderr line if
//! it could not start). The child chroots into DIR, drops to nobody (no capabilities, no
//! supplementary groups, no_new_privs, a seccomp allowlist), answers the names of
//! `DIR/dns-hosts` (dns.zig) for queries from CIDR and relays every other query to the
//! upstreams unchanged but for its id.
//! It exits when `dns.pid` stops naming it or `dns-hosts` is gone (checked every second), or
//! on SIGTERM: the CLI's stop, and the backstop when a CLI died before it could signal.
const std = @import("std");
const linux = std.os.linux;
const assert = std.debug.assert;
const sys = @import("linux").sys;
const describe = @import("linux").errno.describe;
const dns = @import("dns.zig");
const proc = @import("proc.zig");
const dns_seccomp = @import("dns_seccomp.zig");

pub const max_upstreams = 4;
/// Queries relayed and not yet answered; a full table answers SERVFAIL (a flood from a
/// container costs the upstreams at most this many queries per timeout).
pub const max_inflight = 256;
pub const forward_timeout_ms = 3000;
/// Datagrams handled per socket per wake-up, so neither side starves the other.
const batch = 64;
const check_interval_ms = 1000;
const nobody: u32 = 65534;
const hosts_file = "dns-hosts";
const pid_file = "dns.pid";
const max_hosts_bytes = 1024 * 1024;

pub const Args = struct {
    dir: [:0]const u8 = "",
    listen: u32 = 0,
    subnet: dns.Subnet = .{ .network = 0, .prefix = 32 },
    upstreams: [max_upstreams]linux.sockaddr.in = undefined,
    upstream_count: usize = 0,
};

const Slot = struct {
    used: bool = false,
    client: linux.sockaddr.in = undefined,
    client_id: u16 = 0,
    our_id: u16 = 0,
    upstream: u8 = 0,
    deadline: i64 = 0,
};

// Static: the packet buffers, the name table (~320 KiB) and the hosts file's text.
var table: dns.Table = .{};
var hosts_text: [max_hosts_bytes]u8 = undefined;
var slots: [max_inflight]Slot = [_]Slot{.{}} ** max_inflight;
var packet: [65536]u8 = undefined;
var reply: [dns.max_udp_answer]u8 = undefined;

fn fail(comptime fmt: []const u8, args: anytype) u8 {
    var buf: [512]u8 = undefined;
    const text = std.fmt.bufPrint(&buf, "tsd-monitor: " ++ fmt ++ "\n", args) catch "tsd-monitor: --dns: message too long\n";
    sys.writeAll(2, text) catch {};
    return 1;
}

fn parseAddr(text: []const u8, default_port: u16) ?linux.sockaddr.in {
    var ip_text = text;
    var port = default_port;
    if (std.mem.indexOfScalar(u8, text, ':')) |colon| {
        ip_text = text[0..colon];
        port = std.fmt.parseInt(u16, text[colon + 1 ..], 10) catch return null;
        if (port == 0) return null;
    }
    const ip = dns.parseIp(ip_text) orelse return null;
    return .{ .port = std.mem.nativeToBig(u16, port), .addr = std.mem.nativeToBig(u32, ip) };
}

pub fn parseArgs(argv: []const [*:0]const u8, a: *Args) ?[]const u8 {
    var i: usize = 2;
    while (i < argv.len) : (i += 2) {
        const key = std.mem.span(argv[i]);
        if (i + 1 >= argv.len) return "missing value for an option";
        const v = std.mem.span(argv[i + 1]);
        if (std.mem.eql(u8, key, "--dir")) {
            if (v.len == 0 or v[0] != '/') return "--dir must be an absolute path";
            a.dir = v;
        } else if (std.mem.eql(u8, key, "--listen")) {
            a.listen = dns.parseIp(v) orelse return "--listen needs an IPv4 address";
        } else if (std.mem.eql(u8, key, "--subnet")) {
            a.subnet = dns.Subnet.parse(v) orelse return "--subnet needs a CIDR";
        } else if (std.mem.eql(u8, key, "--upstream")) {
            if (a.upstream_count == max_upstreams) return "at most 4 --upstream";
            a.upstreams[a.upstream_count] = parseAddr(v, 53) orelse return "--upstream needs IP or IP:PORT";
            a.upstream_count += 1;
        } else return "unknown option";
    }
    if (a.dir.len == 0 or a.listen == 0) return "--dir and --listen are required";
    return null;
}

pub fn main(argv: []const [*:0]const u8) u8 {
    _ = sys.prctl(.SET_DUMPABLE, 0, 0, 0, 0) catch {};
    // Only fds 0-2 are ours; whatever else the CLI left open must not live on in a daemon.
    sys.closeRange(3, std.math.maxInt(u32), 0) catch |err| return fail("--dns: close_range: {s}", .{describe(err)});
    var a: Args = .{};
    if (parseArgs(argv, &a)) |problem| return fail("--dns: {s}", .{problem});
    const dir = sys.open(a.dir, .{ .DIRECTORY = true, .CLOEXEC = true }, 0) catch |err| return fail("--dns: open {s}: {s}", .{ a.dir, describe(err) });
    const listen = sys.socket(linux.AF.INET, linux.SOCK.DGRAM | linux.SOCK.NONBLOCK | linux.SOCK.CLOEXEC, 0) catch |err| return fail("--dns: socket: {s}", .{describe(err)});
    const addr: linux.sockaddr.in = .{ .port = std.mem.nativeToBig(u16, 53), .addr = std.mem.nativeToBig(u32, a.listen) };
    sys.bindIn(listen, &addr) catch |err| {
        var ip_buf: [16]u8 = undefined;
        return fail("--dns: bind {s}:53/udp: {s}", .{ formatIp(&ip_buf, a.listen), describe(err) });
    };
    const upstream = sys.socket(linux.AF.INET, linux.SOCK.DGRAM | linux.SOCK.NONBLOCK | linux.SOCK.CLOEXEC, 0) catch |err| return fail("--dns: socket: {s}", .{describe(err)});
    // ready: the child's "R" (serving) or "E<message>"; go: the parent's "G" once dns.pid
    // names the child, which checks that file from then on.
    const ready = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return fail("--dns: pipe: {s}", .{describe(err)});
    const go = sys.pipe2(.{ .CLOEXEC = true }) catch |err| return fail("--dns: pipe: {s}", .{describe(err)});
    const pid = sys.fork() catch |err| return fail("--dns: fork: {s}", .{describe(err)});
    if (pid == 0) {
        sys.close(ready[0]);
        sys.close(go[1]);
        serve(&a, dir, listen, upstream, ready[1], go[0]);
    }
    sys.close(ready[1]);
    sys.close(go[0]);
    return waitReady(dir, pid, ready[0], go[1]);
}

fn formatIp(buf: *[16]u8, ip: u32) []const u8 {
    return std.fmt.bufPrint(buf, "{d}.{d}.{d}.{d}", .{ ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255 }) catch unreachable;
}

/// The parent: records the child in dns.pid (before the child can look for it), then waits
/// for its "ready" byte, or its one-line error.
fn waitReady(dir: sys.fd_t, pid: linux.pid_t, ready: sys.fd_t, go: sys.fd_t) u8 {
    const recorded = recordPid(dir, pid);
    if (recorded) |_| sys.writeAll(go, "G") catch {} else |_| {}
    sys.close(go);
    var buf: [256]u8 = undefined;
    var len: usize = 0;
    const deadline = sys.clockMonotonicMs() + 10_000;
    while (len < buf.len) {
        const left = deadline - sys.clockMonotonicMs();
        if (left <= 0) break;
        sys.pollOne(ready, linux.POLL.IN, @intCast(left)) catch break;
        const n = sys.read(ready, buf[len..]) catch break;
        if (n == 0) break;
        len += n;
        if (buf[0] == 'R') break;
    }
    if (recorded) |_| {
        if (len > 0 and buf[0] == 'R') return 0;
    } else |err| {
        sys.kill(pid, linux.SIG.KILL) catch {};
        if (len > 1 and buf[0] == 'E') return fail("--dns: {s}", .{buf[1..len]});
        const w = sys.waitpid(pid, 0) catch return fail("--dns: write {s}: {s}", .{ pid_file, describe(err) });
        return fail("--dns: write {s}: {s} (the resolver ended with status 0x{x})", .{ pid_file, describe(err), w.status });
    }
    sys.kill(pid, linux.SIG.KILL) catch {};
    if (len > 1 and buf[0] == 'E') return fail("--dns: {s}", .{buf[1..len]});
    return fail("--dns: the resolver did not start", .{});
}

fn recordPid(dir: sys.fd_t, pid: linux.pid_t) !void {
    var path_buf: [64]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/stat", .{pid}) catch unreachable;
    var stat_buf: [1024]u8 = undefined;
    const stat = try proc.readSmall(path, &stat_buf);
    const start = proc.startTimeField(stat) orelse return error.SRCH;
    var text_buf: [64]u8 = undefined;
    const text = std.fmt.bufPrint(&text_buf, "{d} {s}\n", .{ pid, start }) catch return error.NAMETOOLONG;
    const f = try sys.openat(dir, pid_file ++ ".tmp", .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true }, 0o644);
    defer sys.close(f);
    try sys.writeAll(f, text);
    try sys.fchmod(f, 0o644);
    try sys.renameat(dir, pid_file ++ ".tmp", dir, pid_file);
}

/// The child: never returns.
fn serve(a: *const Args, dir: sys.fd_t, listen: sys.fd_t, upstream: sys.fd_t, ready: sys.fd_t, go: sys.fd_t) noreturn {
    confine(dir) catch |err| {
        var buf: [128]u8 = undefined;
        const text = std.fmt.bufPrint(&buf, "Econfine the resolver: {s}", .{describe(err)}) catch "Econfine";
        sys.writeAll(ready, text) catch {};
        linux.exit_group(1);
    };
    if (!reloadIfChanged(true)) {
        sys.writeAll(ready, "E" ++ hosts_file ++ " is missing") catch {};
        linux.exit_group(1);
    }
    // Without the parent's go (it could not record us, or died) there is no owner: leave.
    var g: [1]u8 = undefined;
    sys.pollOne(go, linux.POLL.IN, 10_000) catch linux.exit_group(1);
    const n = sys.read(go, &g) catch linux.exit_group(1);
    if (n != 1 or g[0] != 'G') linux.exit_group(1);
    sys.close(go);
    sys.writeAll(ready, "R") catch linux.exit_group(1);
    sys.close(ready);
    var s: Server = .{ .args = a, .listen = listen, .upstream = upstream, .me = linux.getpid() };
    s.loop();
    linux.exit_group(0);
}

/// A session of its own with /dev/null on 0-2 (the CLI's pipes close), chrooted into the
/// network's directory, then nobody: no capability, no group, no way back (no_new_privs),
/// and a seccomp allowlist (dns_seccomp.zig).
fn confine(dir: sys.fd_t) sys.Error!void {
    sys.setsid() catch |err| if (err != error.PERM) return err;
    const null_fd = try sys.open("/dev/null", .{ .ACCMODE = .RDWR, .CLOEXEC = true }, 0);
    for (0..3) |i| try sys.dup3(null_fd, @intCast(i), 0);
    sys.close(null_fd);
    try sys.fchdir(dir);
    try sys.chroot(".");
    try sys.chdir("/");
    sys.close(dir);
    try sys.setgroups(&.{});
    try sys.setresgid(nobody);
    // From uid 0 to a non-zero uid without PR_SET_KEEPCAPS clears every capability set.
    try sys.setresuid(nobody);
    _ = try sys.prctl(.SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    try dns_seccomp.install();
}

var hosts_stamp: [3]i128 = .{ -1, -1, -1 };

/// Reloads the table when dns-hosts changed (the CLI replaces it by rename: a new inode).
/// Returns false when it is gone.
fn reloadIfChanged(force: bool) bool {
    const st = sys.fstatat(linux.AT.FDCWD, "/" ++ hosts_file, 0) catch return false;
    const stamp = [3]i128{ @intCast(st.ino), @as(i128, st.mtime().sec) * std.time.ns_per_s + st.mtime().nsec, @intCast(st.size) };
    if (!force and std.mem.eql(i128, &stamp, &hosts_stamp)) return true;
    const f = sys.open("/" ++ hosts_file, .{ .CLOEXEC = true, .NOFOLLOW = true }, 0) catch return false;
    defer sys.close(f);
    var len: usize = 0;
    while (len < hosts_text.len) {
        const n = sys.read(f, hosts_text[len..]) catch return true;
        if (n == 0) break;
        len += n;
    }
    table.load(hosts_text[0..len]);
    hosts_stamp = stamp;
    return true;
}

/// Whether dns.pid still names this process.
fn stillOwner(me: linux.pid_t) bool {
    var buf: [64]u8 = undefined;
    const text = proc.readSmall("/" ++ pid_file, &buf) catch return false;
    const end = std.mem.indexOfAny(u8, text, " \n") orelse text.len;
    const pid = std.fmt.parseInt(linux.pid_t, text[0..end], 10) catch return false;
    return pid == me;
}

const Server = struct {
    args: *const Args,
    listen: sys.fd_t,
    upstream: sys.fd_t,
    me: linux.pid_t,
    next_check: i64 = 0,
    preferred: u8 = 0,

    fn loop(s: *Server) void {
        // Until told to stop; each pass is bounded (batch datagrams a socket, one sweep).
        while (true) {
            const now = sys.clockMonotonicMs();
            if (now >= s.next_check) {
                if (!stillOwner(s.me) or !reloadIfChanged(false)) return;
                s.next_check = now + check_interval_ms;
            }
            s.expire(now);
            var fds = [2]linux.pollfd{
                .{ .fd = s.listen, .events = linux.POLL.IN, .revents = 0 },
                .{ .fd = s.upstream, .events = linux.POLL.IN, .revents = 0 },
            };
            _ = sys.poll(&fds, 500) catch return;
            if (fds[0].revents != 0) {
                if (!reloadIfChanged(false)) return;
                s.queries();
            }
            if (fds[1].revents != 0) s.replies();
        }
    }

    fn queries(s: *Server) void {
        for (0..batch) |_| {
            var from: linux.sockaddr.in = undefined;
            const n = sys.recvfromIn(s.listen, &packet, &from) catch return;
            if (n > packet.len or from.family != linux.AF.INET) continue;
            // Only the network's own containers (the bridge's subnet) are served.
            if (!s.args.subnet.contains(std.mem.bigToNative(u32, from.addr))) continue;
            switch (dns.decide(&table, s.args.subnet, packet[0..n], &reply)) {
                .drop => {},
                .answer => |len| _ = sys.sendtoIn(s.listen, reply[0..len], &from) catch {},
                .forward => s.forward(packet[0..n], &from),
            }
        }
    }

    fn forward(s: *Server, query: []u8, from: *const linux.sockaddr.in) void {
        assert(query.len >= dns.header_len);
        if (s.args.upstream_count == 0) return s.refuse(query, from);
        const slot = for (&slots) |*sl| {
            if (!sl.used) break sl;
        } else return s.refuse(query, from);
        const our_id = freshId() orelse return s.refuse(query, from);
        const u = s.preferred % @as(u8, @intCast(s.args.upstream_count));
        slot.* = .{ .used = true, .client = from.*, .client_id = dns.id(query), .our_id = our_id, .upstream = u, .deadline = sys.clockMonotonicMs() + forward_timeout_ms };
        dns.setId(query, our_id);
        _ = sys.sendtoIn(s.upstream, query, &s.args.upstreams[u]) catch {
            slot.used = false;
            dns.setId(query, slot.client_id);
            return s.refuse(query, from);
        };
    }

    /// SERVFAIL with the header only: never larger than the query.
    fn refuse(s: *Server, query: []const u8, from: *const linux.sockaddr.in) void {
        const len = dns.headerOnly(query, .serv_fail, &reply);
        _ = sys.sendtoIn(s.listen, reply[0..len], from) catch {};
    }

    fn replies(s: *Server) void {
        for (0..batch) |_| {
            var from: linux.sockaddr.in = undefined;
            const n = sys.recvfromIn(s.upstream, &packet, &from) catch return;
            if (n > packet.len or n < dns.header_len) continue;
            const rid = dns.id(packet[0..n]);
            for (&slots) |*sl| {
                if (!sl.used or sl.our_id != rid) continue;
                const up = &s.args.upstreams[sl.upstream];
                // Only the upstream asked may answer (a spoofed reply from elsewhere is dropped).
                if (from.addr != up.addr or from.port != up.port) break;
                dns.setId(packet[0..n], sl.client_id);
                _ = sys.sendtoIn(s.listen, packet[0..n], &sl.client) catch {};
                sl.used = false;
                break;
            }
        }
    }

    /// Forgets queries unanswered for too long; the next ones go to the following upstream.
    fn expire(s: *Server, now: i64) void {
        for (&slots) |*sl| {
            if (!sl.used or sl.deadline > now) continue;
            sl.used = false;
            if (sl.upstream == s.preferred) s.preferred +%= 1;
        }
    }
};

/// A random id no query in flight uses (a few tries; the table is small next to 65536).
fn freshId() ?u16 {
    for (0..8) |_| {
        var b: [2]u8 = undefined;
        sys.getrandom(&b) catch return null;
        const v = std.mem.readInt(u16, &b, .little);
        for (slots) |sl| {
            if (sl.used and sl.our_id == v) break;
        } else return v;
    }
    return null;
}

test "arguments" {
    _ = &main; // compiled here too, not only into the binary
    var a: Args = .{};
    const ok = [_][*:0]const u8{ "tsd-monitor", "--dns", "--dir", "/r/networks/x", "--listen", "10.1.2.1", "--subnet", "10.1.2.0/24", "--upstream", "127.0.0.53", "--upstream", "127.1.2.3:5353" };
    try std.testing.expectEqual(@as(?[]const u8, null), parseArgs(&ok, &a));
    try std.testing.expectEqual(@as(usize, 2), a.upstream_count);
    try std.testing.expectEqual(std.mem.nativeToBig(u16, 5353), a.upstreams[1].port);
    try std.testing.expectEqual(std.mem.nativeToBig(u32, 0x7f000035), a.upstreams[0].addr);
    var b: Args = .{};
    const bad = [_][*:0]const u8{ "tsd-monitor", "--dns", "--dir", "/x", "--listen", "10.1.2.1", "--upstream", "1.2.3.4:0" };
    try std.testing.expect(parseArgs(&bad, &b) != null);
    var c: Args = .{};
    const relative = [_][*:0]const u8{ "tsd-monitor", "--dns", "--dir", "x", "--listen", "10.1.2.1" };
    try std.testing.expect(parseArgs(&relative, &c) != null);
}
