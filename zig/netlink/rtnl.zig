//! rtnetlink (NETLINK_ROUTE) requests built in fixed buffers: links, addresses, routes.
//! No allocation and only raw syscalls, so it is safe in a child forked from the CLI.
//! A socket belongs to the network namespace it was opened in, whatever the process later
//! joins: that is how one process talks to the host's namespace and a container's at once.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("linux").sys;
const errno = @import("linux").errno;
const assert = std.debug.assert;

pub const Error = sys.Error || error{ ShortReply, NameTooLong, RequestTooLarge };

// Message types and flags (rtnetlink.h, netlink.h).
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_ACK: u16 = 0x04;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

// Attributes.
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_OIF: u16 = 4;
const NLA_F_NESTED: u16 = 0x8000;
const IFF_UP: u32 = 1;

pub const ifname_max = 15; // IFNAMSIZ - 1

const IfInfo = extern struct { family: u8 = 0, pad: u8 = 0, type: u16 = 0, index: i32 = 0, flags: u32 = 0, change: u32 = 0 };
const IfAddr = extern struct { family: u8, prefixlen: u8, flags: u8 = 0, scope: u8 = 0, index: u32 };
const RtMsg = extern struct {
    family: u8,
    dst_len: u8 = 0,
    src_len: u8 = 0,
    tos: u8 = 0,
    table: u8 = 254, // RT_TABLE_MAIN
    protocol: u8 = 3, // RTPROT_BOOT, as `ip route add` does
    scope: u8 = 0, // RT_SCOPE_UNIVERSE
    type: u8 = 1, // RTN_UNICAST
    flags: u32 = 0,
};
const NlMsgHdr = extern struct { len: u32, type: u16, flags: u16, seq: u32, pid: u32 };
const NlAttr = extern struct { len: u16, type: u16 };

/// One request: a header, a fixed struct, attributes (nestable). Bounded at `capacity`.
const Request = struct {
    const capacity = 512;
    buf: [capacity]u8 align(4) = undefined,
    len: usize = 0,
    overflow: bool = false,

    fn init(r: *Request, msg_type: u16, flags: u16, seq: u32) void {
        r.len = 0;
        r.overflow = false;
        r.put(std.mem.asBytes(&NlMsgHdr{ .len = 0, .type = msg_type, .flags = NLM_F_REQUEST | NLM_F_ACK | flags, .seq = seq, .pid = 0 }));
    }

    fn put(r: *Request, bytes: []const u8) void {
        const padded = std.mem.alignForward(usize, bytes.len, 4);
        if (r.len + padded > capacity) {
            r.overflow = true;
            return;
        }
        @memcpy(r.buf[r.len..][0..bytes.len], bytes);
        @memset(r.buf[r.len + bytes.len ..][0 .. padded - bytes.len], 0);
        r.len += padded;
    }

    fn attr(r: *Request, kind: u16, payload: []const u8) void {
        r.put(std.mem.asBytes(&NlAttr{ .len = @intCast(@sizeOf(NlAttr) + payload.len), .type = kind }));
        if (r.overflow) return;
        // put() pads the payload; the attribute's own length excludes the padding.
        r.put(payload);
    }

    fn attrU32(r: *Request, kind: u16, v: u32) void {
        r.attr(kind, std.mem.asBytes(&v));
    }

    /// A NUL-terminated string attribute, as the kernel expects for names and kinds.
    fn attrStr(r: *Request, kind: u16, s: []const u8) void {
        var tmp: [32]u8 = undefined;
        if (s.len + 1 > tmp.len) {
            r.overflow = true;
            return;
        }
        @memcpy(tmp[0..s.len], s);
        tmp[s.len] = 0;
        r.attr(kind, tmp[0 .. s.len + 1]);
    }

    fn nestBegin(r: *Request, kind: u16) usize {
        const at = r.len;
        r.put(std.mem.asBytes(&NlAttr{ .len = 0, .type = kind | NLA_F_NESTED }));
        return at;
    }

    fn nestEnd(r: *Request, at: usize) void {
        if (r.overflow) return;
        const len: u16 = @intCast(r.len - at);
        std.mem.writeInt(u16, r.buf[at..][0..2], len, .little);
    }

    fn finish(r: *Request) Error![]const u8 {
        if (r.overflow) return error.RequestTooLarge;
        std.mem.writeInt(u32, r.buf[0..4], @intCast(r.len), .little);
        return r.buf[0..r.len];
    }
};

pub const Socket = struct {
    fd: sys.fd_t,
    seq: u32 = 1,

    pub fn open() Error!Socket {
        const f = try sys.socket(linux.AF.NETLINK, linux.SOCK.RAW | linux.SOCK.CLOEXEC, linux.NETLINK.ROUTE);
        return .{ .fd = f };
    }

    pub fn close(s: *Socket) void {
        sys.close(s.fd);
        s.fd = -1;
    }

    /// Sends one request and waits for its acknowledgement; the kernel's errno becomes the error.
    /// `reply`, when given, receives the payload of a non-error answer (GETLINK).
    fn call(s: *Socket, r: *Request, reply: ?*IfInfo) Error!void {
        const bytes = try r.finish();
        const seq = s.seq;
        s.seq +%= 1;
        var addr = std.mem.zeroes(linux.sockaddr.nl);
        addr.family = linux.AF.NETLINK;
        while (true) {
            _ = sys.check(linux.sendto(s.fd, bytes.ptr, bytes.len, 0, @ptrCast(&addr), @sizeOf(linux.sockaddr.nl))) catch |err| switch (err) {
                error.INTR => continue,
                else => return err,
            };
            break;
        }
        var buf: [8192]u8 align(4) = undefined;
        // Bounded: a request yields its answer and an ack; stale messages are skipped.
        var rounds: usize = 0;
        while (rounds < 64) : (rounds += 1) {
            const n = sys.check(linux.recvfrom(s.fd, &buf, buf.len, 0, null, null)) catch |err| switch (err) {
                error.INTR => continue,
                else => return err,
            };
            var off: usize = 0;
            while (off + @sizeOf(NlMsgHdr) <= n) {
                const h = std.mem.bytesToValue(NlMsgHdr, buf[off..][0..@sizeOf(NlMsgHdr)]);
                if (h.len < @sizeOf(NlMsgHdr) or off + h.len > n) return error.ShortReply;
                const body = buf[off + @sizeOf(NlMsgHdr) .. off + h.len];
                off += std.mem.alignForward(usize, h.len, 4);
                if (h.seq != seq) continue;
                if (h.type == NLMSG_ERROR) {
                    if (body.len < 4) return error.ShortReply;
                    const code = std.mem.readInt(i32, body[0..4], .little);
                    if (code == 0) return;
                    return errno.fromErrno(@enumFromInt(@as(u16, @intCast(-code))));
                }
                if (reply) |out| {
                    if (body.len < @sizeOf(IfInfo)) return error.ShortReply;
                    out.* = std.mem.bytesToValue(IfInfo, body[0..@sizeOf(IfInfo)]);
                }
            }
        }
        return error.ShortReply;
    }

    /// The index of the link called `name` in this socket's namespace.
    pub fn linkIndex(s: *Socket, name: []const u8) Error!u32 {
        if (name.len > ifname_max) return error.NameTooLong;
        var r: Request = .{};
        r.init(RTM_GETLINK, 0, s.seq);
        r.put(std.mem.asBytes(&IfInfo{}));
        r.attrStr(IFLA_IFNAME, name);
        var info: IfInfo = .{};
        try s.call(&r, &info);
        assert(info.index > 0);
        return @intCast(info.index);
    }

    /// A bridge; EXIST when it is there already.
    pub fn addBridge(s: *Socket, name: []const u8, mtu: u32) Error!void {
        if (name.len > ifname_max) return error.NameTooLong;
        var r: Request = .{};
        r.init(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, s.seq);
        r.put(std.mem.asBytes(&IfInfo{}));
        r.attrStr(IFLA_IFNAME, name);
        if (mtu != 0) r.attrU32(IFLA_MTU, mtu);
        const info = r.nestBegin(IFLA_LINKINFO);
        r.attrStr(IFLA_INFO_KIND, "bridge");
        r.nestEnd(info);
        try s.call(&r, null);
    }

    /// A veth pair: `name` here (with `mac` when given), `peer` in the namespace `peer_ns_fd`.
    pub fn addVeth(s: *Socket, name: []const u8, mac: ?*const [6]u8, peer: []const u8, peer_ns_fd: sys.fd_t, mtu: u32) Error!void {
        if (name.len > ifname_max or peer.len > ifname_max) return error.NameTooLong;
        var r: Request = .{};
        r.init(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, s.seq);
        r.put(std.mem.asBytes(&IfInfo{}));
        r.attrStr(IFLA_IFNAME, name);
        if (mac) |m| r.attr(IFLA_ADDRESS, m);
        if (mtu != 0) r.attrU32(IFLA_MTU, mtu);
        const info = r.nestBegin(IFLA_LINKINFO);
        r.attrStr(IFLA_INFO_KIND, "veth");
        const data = r.nestBegin(IFLA_INFO_DATA);
        const p = r.nestBegin(VETH_INFO_PEER);
        r.put(std.mem.asBytes(&IfInfo{}));
        r.attrStr(IFLA_IFNAME, peer);
        r.attrU32(IFLA_NET_NS_FD, @intCast(peer_ns_fd));
        if (mtu != 0) r.attrU32(IFLA_MTU, mtu);
        r.nestEnd(p);
        r.nestEnd(data);
        r.nestEnd(info);
        try s.call(&r, null);
    }

    /// Brings the link up; with `master` (an index) enslaves it to that bridge first.
    pub fn setUp(s: *Socket, index: u32, master: ?u32) Error!void {
        var r: Request = .{};
        r.init(RTM_NEWLINK, 0, s.seq);
        r.put(std.mem.asBytes(&IfInfo{ .index = @intCast(index), .flags = IFF_UP, .change = IFF_UP }));
        if (master) |m| r.attrU32(IFLA_MASTER, m);
        try s.call(&r, null);
    }

    /// Takes the link down: no RCU grace period to wait for, unlike a delete.
    pub fn setDown(s: *Socket, name: []const u8) Error!void {
        if (name.len > ifname_max) return error.NameTooLong;
        var r: Request = .{};
        r.init(RTM_NEWLINK, 0, s.seq);
        r.put(std.mem.asBytes(&IfInfo{ .flags = 0, .change = IFF_UP }));
        r.attrStr(IFLA_IFNAME, name);
        try s.call(&r, null);
    }

    pub fn deleteLink(s: *Socket, name: []const u8) Error!void {
        if (name.len > ifname_max) return error.NameTooLong;
        var r: Request = .{};
        r.init(RTM_DELLINK, 0, s.seq);
        r.put(std.mem.asBytes(&IfInfo{}));
        r.attrStr(IFLA_IFNAME, name);
        try s.call(&r, null);
    }

    /// An IPv4 address `ip`/`prefix` (network byte order) with its broadcast; EXIST if present.
    pub fn addAddress4(s: *Socket, index: u32, ip: [4]u8, prefix: u8) Error!void {
        assert(prefix <= 32);
        var r: Request = .{};
        r.init(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, s.seq);
        r.put(std.mem.asBytes(&IfAddr{ .family = linux.AF.INET, .prefixlen = prefix, .index = index }));
        r.attr(IFA_LOCAL, &ip);
        r.attr(IFA_ADDRESS, &ip);
        const host_mask: u32 = if (prefix == 32) 0 else (@as(u32, 0xffff_ffff) >> @intCast(prefix));
        const bcast = std.mem.nativeToBig(u32, std.mem.bigToNative(u32, @bitCast(ip)) | host_mask);
        if (prefix < 31) r.attr(IFA_BROADCAST, std.mem.asBytes(&bcast));
        try s.call(&r, null);
    }

    /// The default route through `gateway` out of `index`.
    pub fn addDefaultRoute4(s: *Socket, index: u32, gateway: [4]u8) Error!void {
        var r: Request = .{};
        r.init(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, s.seq);
        r.put(std.mem.asBytes(&RtMsg{ .family = linux.AF.INET }));
        r.attr(RTA_GATEWAY, &gateway);
        r.attrU32(RTA_OIF, index);
        try s.call(&r, null);
    }
};

test "request attributes are aligned and nested lengths cover their children" {
    var r: Request = .{};
    r.init(RTM_NEWLINK, 0, 7);
    r.put(std.mem.asBytes(&IfInfo{}));
    const n = r.nestBegin(IFLA_LINKINFO);
    r.attrStr(IFLA_INFO_KIND, "veth"); // 4 + 5 bytes, padded to 12
    r.nestEnd(n);
    const bytes = try r.finish();
    try std.testing.expectEqual(@as(usize, 16 + 16 + 4 + 12), bytes.len);
    try std.testing.expectEqual(@as(u16, 16), std.mem.readInt(u16, bytes[32..34], .little));
    try std.testing.expectEqual(@as(u16, 9), std.mem.readInt(u16, bytes[36..38], .little));
}

test "an oversized request is refused, not truncated" {
    var r: Request = .{};
    r.init(RTM_NEWLINK, 0, 1);
    var i: usize = 0;
    while (i < 100) : (i += 1) r.attrU32(IFLA_MTU, 1500);
    try std.testing.expectError(error.RequestTooLarge, r.finish());
}
