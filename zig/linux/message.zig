//! A failure told across the FFI seam: one line into the caller's buffer, truncated to fit,
//! always NUL-terminated (an empty buffer takes nothing).
const std = @import("std");

pub const Message = struct {
    buf: []u8,

    pub fn set(m: Message, comptime fmt: []const u8, args: anytype) void {
        if (m.buf.len == 0) return;
        var w: std.Io.Writer = .fixed(m.buf[0 .. m.buf.len - 1]);
        w.print(fmt, args) catch {}; // Truncation is the documented behaviour.
        m.buf[w.end] = 0;
    }
};
