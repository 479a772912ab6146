//! The one syscall layer of the tsd core, used by the runtime, the monitor, netlink and unpack
//! (youki's syscall/ in Zig). Read in this order:
//!   errno.zig    the kernel's -errno → a Zig error (`check`) or an errno (`of`), and the one
//!                strerror(3) table every message takes its wording from;
//!   sys.zig      the raw calls std.os.linux lacks (`raw`), then one wrapper per syscall with
//!                the same arguments and errno as a Zig error, EINTR retried where it can occur;
//!   message.zig  a failure told across the FFI seam, one line into the caller's buffer.
pub const errno = @import("errno.zig");
pub const sys = @import("sys.zig");
pub const message = @import("message.zig");

test {
    _ = errno;
    _ = sys;
    _ = message;
}
