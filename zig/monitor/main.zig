//! tsd-monitor: one per container, the container's parent (see DESIGN.md "Processes").
const std = @import("std");
const build_options = @import("build_options");

pub fn main() u8 {
    std.debug.print("tsd-monitor {s}\n", .{build_options.version});
    return 0;
}
