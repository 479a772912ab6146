//! The container runtime: a bundle's config.json → a process in new namespaces. One module per
//! kernel concern (youki's layout); init.zig is the sequence that uses them.
pub const diag = @import("diag.zig");
pub const spec = @import("spec.zig");
pub const sync = @import("sync.zig");
pub const namespaces = @import("namespaces.zig");
pub const mounts = @import("mounts.zig");
pub const rootfs = @import("rootfs.zig");
pub const devices = @import("devices.zig");
pub const console = @import("console.zig");
pub const caps = @import("caps.zig");
pub const user = @import("user.zig");
pub const rlimits = @import("rlimits.zig");
pub const exec = @import("exec.zig");
pub const seccomp = @import("seccomp.zig");
pub const become = @import("become.zig");
pub const idmap = @import("idmap.zig");
pub const hooks = @import("hooks.zig");
pub const cgroup_mount = @import("cgroup_mount.zig");
pub const console_socket = @import("console_socket.zig");
pub const keyring = @import("keyring.zig");
pub const init = @import("init.zig");

test {
    @import("std").testing.refAllDecls(@This());
}
