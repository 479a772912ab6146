//! runc's session keyring: unless --no-new-keyring, the init joins a new session keyring named
//! `_ses.<container id>` (KEYCTL_JOIN_SESSION_KEYRING) so the container does not inherit the
//! runtime's (the host's) session keyring and its keys, then makes it searchable by its user
//! (KEY_USR_SEARCH, as runc's ModKeyringPerm). A kernel without keyrings (ENOSYS) is no error;
//! in a user namespace, where the kernel may refuse it (EPERM, EACCES) or the mapped user's key
//! quota is spent (EDQUOT), neither (runc's best effort: keyrings are a marginal protection).
const std = @import("std");
const sys = @import("linux").sys;
const Diag = @import("diag.zig").Diag;

const keyctl_join_session_keyring = 1;
const keyctl_setperm = 5;
const keyctl_describe = 6;
const key_usr_search: u32 = 0x00080000;
/// "_ses." and runc's longest id (the runtime checks ids against `^[\w+-\.]+$`, 1024 bytes).
pub const name_max = 5 + 1024;

pub const Name = struct {
    buf: [name_max + 1]u8 = undefined,
    len: usize = 0,

    pub fn of(id: []const u8) ?Name {
        var n: Name = .{};
        const out = std.fmt.bufPrintZ(&n.buf, "_ses.{s}", .{id}) catch return null;
        n.len = out.len;
        return n;
    }

    pub fn slice(n: *const Name) [:0]const u8 {
        return n.buf[0..n.len :0];
    }
};

pub fn join(name: [:0]const u8, in_user_namespace: bool, d: *Diag) !void {
    const id = sys.keyctl(keyctl_join_session_keyring, @intFromPtr(name.ptr), 0, 0, 0) catch |err| switch (err) {
        error.NOSYS => return,
        error.PERM, error.ACCES, error.DQUOT => if (in_user_namespace) return else return d.fail(err, "join the session keyring \"{s}\"", .{name}),
        else => return d.fail(err, "join the session keyring \"{s}\"", .{name}),
    };
    var buf: [256]u8 = undefined;
    const len = sys.keyctl(keyctl_describe, id, @intFromPtr(&buf), buf.len, 0) catch |err| return d.fail(err, "describe the session keyring", .{});
    const perm = parsePerm(buf[0..@min(len, buf.len)]) orelse {
        d.set(125, "the session keyring's description has no permissions: {s}", .{buf[0..@min(len, buf.len)]});
        return error.InvalidKeyring;
    };
    _ = sys.keyctl(keyctl_setperm, id, perm | key_usr_search, 0, 0) catch |err| return d.fail(err, "make the session keyring searchable", .{});
}

/// KEYCTL_DESCRIBE's "type;uid;gid;perm;description": perm is hex.
fn parsePerm(text: []const u8) ?u32 {
    var it = std.mem.splitScalar(u8, text, ';');
    var i: usize = 0;
    while (it.next()) |field| : (i += 1) {
        if (i == 3) return std.fmt.parseInt(u32, field, 16) catch null;
        if (i > 3) break;
    }
    return null;
}

test "the keyring's name and its permissions" {
    const n = Name.of("c1").?;
    try std.testing.expectEqualStrings("_ses.c1", n.slice());
    try std.testing.expectEqual(@as(?u32, 0x3f130000), parsePerm("keyring;0;0;3f130000;_ses.c1\x00"));
    try std.testing.expectEqual(@as(?u32, null), parsePerm("keyring;0;0"));
    try std.testing.expectEqual(@as(?Name, null), Name.of("x" ** 1025));
}
