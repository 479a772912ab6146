//! The syscall layer of the tsd core: errno as Zig errors, one wrapper per syscall.
pub const errno = @import("errno.zig");
pub const sys = @import("sys.zig");
pub const message = @import("message.zig");

test {
    _ = errno;
    _ = sys;
    _ = message;
}
