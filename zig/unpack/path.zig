//! Archive names → paths relative to the destination. Pure string work, no I/O.
//!
//! Names are cleaned lexically, as Docker does with filepath.Clean("/" + name): a leading
//! "/" is dropped, "." and empty components vanish, ".." pops a component and stops at the
//! root. The kernel then resolves what is left with RESOLVE_IN_ROOT, which also clamps the
//! ".." that symlink targets may hold. Cleaning first means the final component is always a
//! plain name, never "..", so no *at() call on it can climb out of its parent.
const std = @import("std");
const assert = std.debug.assert;
const tar = @import("tar.zig");

pub const Error = error{ NameTooLong, InvalidName };

/// Bytes for a cleaned path plus its NUL terminator.
pub const buffer_len = tar.max_path_len + 1;

/// A cleaned path split at its last "/": `parent` is "" for names directly under the root,
/// `path` is "" for the root itself. All three are NUL-terminated in the caller's buffer.
pub const Clean = struct {
    path: [:0]const u8,
    parent: [:0]const u8,
    base: [:0]const u8,

    pub fn isRoot(c: Clean) bool {
        return c.path.len == 0;
    }
};

/// Cleans `name` into `buf` (path) and `parent_buf` (the parent, separately terminated).
pub fn clean(name: []const u8, buf: *[buffer_len]u8, parent_buf: *[buffer_len]u8) Error!Clean {
    if (name.len > tar.max_path_len) return error.NameTooLong;
    if (std.mem.indexOfScalar(u8, name, 0) != null) return error.InvalidName;
    var len: usize = 0;
    var it = std.mem.tokenizeScalar(u8, name, '/');
    // Each iteration consumes at least one byte of name.
    while (it.next()) |component| {
        if (std.mem.eql(u8, component, ".")) continue;
        if (std.mem.eql(u8, component, "..")) {
            len = if (std.mem.lastIndexOfScalar(u8, buf[0..len], '/')) |slash| slash else 0;
            continue;
        }
        const sep: usize = if (len > 0) 1 else 0;
        // Cleaning never lengthens a name, so this always fits.
        assert(len + sep + component.len <= tar.max_path_len);
        if (sep == 1) buf[len] = '/';
        @memcpy(buf[len + sep ..][0..component.len], component);
        len += sep + component.len;
    }
    buf[len] = 0;
    const path = buf[0..len :0];
    const slash = std.mem.lastIndexOfScalar(u8, path, '/');
    const parent_len = slash orelse 0;
    @memcpy(parent_buf[0..parent_len], path[0..parent_len]);
    parent_buf[parent_len] = 0;
    const base_start = if (slash) |s| s + 1 else 0;
    const result: Clean = .{
        .path = path,
        .parent = parent_buf[0..parent_len :0],
        .base = buf[base_start..len :0],
    };
    assert(result.base.len > 0 or result.path.len == 0);
    assert(!std.mem.eql(u8, result.base, "..") and !std.mem.eql(u8, result.base, "."));
    return result;
}

const testing = std.testing;

fn expectClean(name: []const u8, want_path: []const u8, want_parent: []const u8, want_base: []const u8) !void {
    var buf: [buffer_len]u8 = undefined;
    var parent: [buffer_len]u8 = undefined;
    const c = try clean(name, &buf, &parent);
    try testing.expectEqualStrings(want_path, c.path);
    try testing.expectEqualStrings(want_parent, c.parent);
    try testing.expectEqualStrings(want_base, c.base);
}

test "clean keeps ordinary names" {
    try expectClean("etc/passwd", "etc/passwd", "etc", "passwd");
    try expectClean("./usr/bin/", "usr/bin", "usr", "bin");
    try expectClean("file", "file", "", "file");
    try expectClean("a//b/./c", "a/b/c", "a/b", "c");
}

test "clean contains absolute names and .. chains" {
    try expectClean("/abs/path", "abs/path", "abs", "path");
    try expectClean("../../etc/x", "etc/x", "etc", "x");
    try expectClean("a/../../../b", "b", "", "b");
    try expectClean("a/b/..", "a", "", "a");
    try expectClean("..", "", "", "");
    try expectClean("./", "", "", "");
    try expectClean("/", "", "", "");
    try expectClean("a/...", "a/...", "a", "...");
}

test "clean rejects NUL and overlong names" {
    var buf: [buffer_len]u8 = undefined;
    var parent: [buffer_len]u8 = undefined;
    try testing.expectError(error.InvalidName, clean("a\x00b", &buf, &parent));
    const long: [tar.max_path_len + 1]u8 = @splat('a');
    try testing.expectError(error.NameTooLong, clean(&long, &buf, &parent));
    const max: [tar.max_path_len]u8 = @splat('a');
    _ = try clean(&max, &buf, &parent);
}
