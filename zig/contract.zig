//! The Zig side of the contract tests (test/contract/): the fixtures the CLI's writers made
//! (config.json, the monitor's argv) are read by the Zig readers, and the Zig writers (report
//! lines, exit.json, health.json, log records, the copy helper's exit statuses) make exactly the fixtures
//! the CLI's readers are tested on (test/contract/contract.test.ts). A change on one side the
//! other cannot read fails here or there. The fixtures' directory comes from build.zig.
const std = @import("std");
const testing = std.testing;
const linux = std.os.linux;
const build_options = @import("build_options");
const runtime = @import("runtime");
const spec = runtime.spec;
const args_mod = @import("monitor/args.zig");
const dns_server = @import("monitor/dns_server.zig");
const report = @import("monitor/report.zig");
const finish = @import("monitor/finish.zig");
const log = @import("monitor/log.zig");
const health = @import("monitor/health.zig");
const copy_status = @import("monitor/copy_status.zig");
const create_mode = @import("monitor/create.zig");
const front_state = @import("front/state.zig");

const fixture_max = 1024 * 1024;

fn fixture(name: []const u8, buf: []u8) ![]const u8 {
    var dir = try std.fs.openDirAbsolute(build_options.contract_dir, .{});
    defer dir.close();
    return dir.readFile(name, buf);
}

test "config.json as the CLI writes it parses, field by field" {
    const text_buf = try testing.allocator.alloc(u8, fixture_max);
    defer testing.allocator.free(text_buf);
    const text = try fixture("spec.json", text_buf);
    const s = try testing.allocator.create(spec.Spec);
    defer testing.allocator.destroy(s);
    const pool = try testing.allocator.create(spec.Pool);
    defer testing.allocator.destroy(pool);
    const scratch = try testing.allocator.alloc(u8, 8 << 20);
    defer testing.allocator.free(scratch);
    var d: runtime.diag.Diag = .{};
    spec.parse(s, pool, "/var/lib/tsd/containers/c0ffee", text, scratch, &d) catch |err| {
        std.debug.print("{s}\n", .{d.message()});
        return err;
    };
    try testing.expectEqual(@as(usize, 4), s.process.argc);
    try testing.expectEqualStrings("/bin/sh", s.process.arg0());
    try testing.expectEqualStrings("a \"b\" \\c", s.process.getenv("QUOTED").?);
    try testing.expectEqualStrings("/w", s.process.cwd);
    try testing.expect(s.process.no_new_privileges);
    // NET_ADMIN added (12), MKNOD dropped (27).
    const caps = s.process.caps.?;
    try testing.expect(caps.bounding & (1 << 12) != 0 and caps.bounding & (1 << 27) == 0);
    try testing.expectEqualStrings("box", s.hostname.?);
    try testing.expect(s.seccomp.present());
    try testing.expect(s.devices_len >= 6);
    try testing.expectEqual(@as(usize, 2), s.cgroup_procs_len);
    try testing.expectEqualStrings("/var/lib/tsd/netns/c0ffee0000000000000000000000000000000000000000000000000000000000", s.joinPath(.network).?);
    try testing.expect(std.mem.startsWith(u8, s.overlay.?, "lowerdir=layers/l/L2ABC:layers/l/L1ABC,"));
    try testing.expectEqualStrings("/var/lib/tsd", s.rootfs_dir.?);
    var binds: usize = 0;
    for (s.mounts[0..s.mounts_len]) |m| binds += @intFromBool(m.bind);
    try testing.expect(binds >= 5); // two -v, hostname, hosts, resolv.conf
    // --ulimit core=-1 (RLIM_INFINITY as JavaScript writes it) and nofile=100:200.
    try testing.expectEqual(@as(usize, 2), s.process.rlimits_len);
    for (s.process.rlimits[0..s.process.rlimits_len]) |r| {
        if (r.resource == .CORE) try testing.expectEqual(std.math.maxInt(u64), r.hard) else try testing.expectEqual(@as(u64, 200), r.hard);
    }
    // --ipc container: joined by path, --pid host left out, --sysctl applied.
    try testing.expectEqualStrings("/proc/4242/ns/ipc", s.joinPath(.ipc).?);
    try testing.expect(!s.creates(.pid) and s.joinPath(.pid) == null);
    try testing.expectEqual(@as(usize, 1), s.sysctls_len);
}

/// A fixture holding a JSON array of strings, as the NUL-terminated argv a process gets
/// (allocated in `arena`).
fn argvFixture(name: []const u8, arena: std.mem.Allocator) ![]const [*:0]const u8 {
    var text_buf: [16 * 1024]u8 = undefined;
    const text = try fixture(name, &text_buf);
    const parsed = try std.json.parseFromSlice([]const []const u8, arena, text, .{});
    const argv = try arena.alloc([*:0]const u8, parsed.value.len);
    for (parsed.value, argv) |a, *out| out.* = (try arena.dupeZ(u8, a)).ptr;
    return argv;
}

test "the monitor's argv as the CLI builds it parses" {
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const argv = try argvFixture("monitor-argv.json", arena.allocator());
    var problem: args_mod.Problem = .{};
    const a = args_mod.parse(argv, &problem) catch |err| {
        std.debug.print("{s} {s}\n", .{ problem.text, problem.arg });
        return err;
    };
    try testing.expect(a.stdin and a.exit_report and a.attach and !a.stdin_attach);
    try testing.expectEqualSlices(u8, &.{ 0x10, 0x11 }, a.detach_keys.?.slice());
    try testing.expect(std.mem.endsWith(u8, a.exit_file.?, "/exit.json"));
    try testing.expect(std.mem.endsWith(u8, a.log.?, "-json.log"));
    try testing.expectEqual(@as(u64, 10 * 1024 * 1024), a.log_max_size);
    try testing.expectEqual(@as(u32, 2), a.log_max_files);
    try testing.expectEqual(@as(usize, 6), a.cleanup.len);
    try testing.expectEqualStrings("cleanup", std.mem.span(a.cleanup[4]));
    try testing.expectEqual(@as(usize, 3), a.health.argv.len);
    try testing.expectEqualStrings("/bin/sh", std.mem.span(a.health.argv[0]));
    try testing.expectEqualStrings("wget -q -O- http://127.0.0.1/ || exit 1", std.mem.span(a.health.argv[2]));
    try testing.expectEqual(@as(u64, 200 * std.time.ns_per_ms), a.health.interval_ns);
    try testing.expectEqual(@as(u64, 30 * std.time.ns_per_s), a.health.timeout_ns);
    try testing.expectEqual(@as(u64, std.time.ns_per_s), a.health.start_period_ns);
    try testing.expectEqual(@as(u32, 5), a.health.retries);
    try testing.expectEqualStrings("/proc/4242/fd/8", a.namespaces.user.?);
    try testing.expectEqualStrings("/proc/4242/fd/9", a.namespaces.mount.?);
}

test "tsd-monitor --create's argv as the CLI builds it parses" {
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const argv = try argvFixture("create-argv.json", arena.allocator());
    var d: runtime.diag.Diag = .{};
    const a = create_mode.parseArgs(argv, &d) catch |err| {
        std.debug.print("{s}\n", .{d.message()});
        return err;
    };
    try testing.expectEqualStrings("ctr1", a.id);
    try testing.expect(std.mem.endsWith(u8, a.bundle, "/k8s.io/ctr1"));
    try testing.expect(std.mem.endsWith(u8, a.fifo, "/ctr1/exec.fifo"));
    try testing.expect(std.mem.endsWith(u8, a.hook_state.?, "/ctr1/hook-state"));
    try testing.expectEqualStrings("/tmp/pty1/pty.sock", a.console_socket.?);
    try testing.expectEqual(@as(usize, 2), a.cgroup_procs_len);
    try testing.expectEqual(@as(u32, 2), a.preserve_fds);
    try testing.expect(a.no_pivot and a.no_new_keyring and a.wait);
}

test "the hooks' state prefix create writes loads and renders as JSON" {
    var tmp = testing.tmpDir(.{});
    defer tmp.cleanup();
    var text_buf: [4096]u8 = undefined;
    try tmp.dir.writeFile(.{ .sub_path = "hook-state", .data = try fixture("hook-state.txt", &text_buf) });
    var dir_buf: [std.fs.max_path_bytes]u8 = undefined;
    const dir = try tmp.dir.realpath(".", &dir_buf);
    var path_buf: [std.fs.max_path_bytes]u8 = undefined;
    const path = try std.fmt.bufPrintZ(&path_buf, "{s}/hook-state", .{dir});
    const st = try testing.allocator.create(runtime.hooks.State);
    defer testing.allocator.destroy(st);
    st.* = .{};
    var d: runtime.diag.Diag = .{};
    try st.load(path, &d);
    const out = try testing.allocator.create([runtime.hooks.state_max]u8);
    defer testing.allocator.destroy(out);
    const json = st.render("creating", 4242, out);
    const parsed = try std.json.parseFromSlice(std.json.Value, testing.allocator, json, .{});
    defer parsed.deinit();
    const o = parsed.value.object;
    try testing.expectEqualStrings("1.3.0", o.get("ociVersion").?.string);
    try testing.expectEqualStrings("ctr1", o.get("id").?.string);
    try testing.expectEqualStrings("creating", o.get("status").?.string);
    try testing.expectEqual(@as(i64, 4242), o.get("pid").?.integer);
    try testing.expectEqualStrings("a \"b\" \\c\nd", o.get("annotations").?.object.get("quoted").?.string);
}

test "the resolver's argv as the CLI builds it parses" {
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const argv = try argvFixture("resolver-argv.json", arena.allocator());
    var a: dns_server.Args = .{};
    if (dns_server.parseArgs(argv, &a)) |problem| {
        std.debug.print("{s}\n", .{problem});
        return error.TestUnexpectedResult;
    }
    try testing.expect(std.mem.endsWith(u8, a.dir, "/networks/ab12" ++ "0" ** 60));
    try testing.expectEqual(@as(u32, 0x0a5b0001), a.listen);
    try testing.expectEqual(@as(u6, 24), a.subnet.prefix);
    try testing.expectEqual(@as(usize, 2), a.upstream_count);
    try testing.expectEqual(std.mem.nativeToBig(u16, 5353), a.upstreams[1].port);
}

test "report lines: the writer makes the fixture the CLI reads" {
    var text_buf: [4096]u8 = undefined;
    const text = try fixture("report.txt", &text_buf);
    var got: std.ArrayList(u8) = .empty;
    defer got.deinit(testing.allocator);
    var buf: [report.line_max]u8 = undefined;
    try got.appendSlice(testing.allocator, report.format(&buf, .{ .started = 4242 }));
    try got.appendSlice(testing.allocator, report.format(&buf, .{ .failed = .{ .status = 127, .message = "cannot exec \"/bin/nope\": no such file or directory" } }));
    try got.appendSlice(testing.allocator, report.format(&buf, .{ .exited = 137 }));
    try got.appendSlice(testing.allocator, report.format(&buf, .detached));
    try got.appendSlice(testing.allocator, report.format(&buf, .{ .output_closed = .stdout }));
    try got.appendSlice(testing.allocator, report.format(&buf, .{ .output_closed = .stderr }));
    try testing.expectEqualStrings(text, got.items);
}

test "exit.json: the writer makes the fixtures the CLI reads" {
    var text_buf: [4096]u8 = undefined;
    var buf: [4096]u8 = undefined;
    const killed = finish.format(.{ .pid = 7, .exit_code = 137, .signal = 9, .started_at = 1700000000123456789, .finished_at = 1700000001987654321, .err = null }, &buf);
    try testing.expectEqualStrings(try fixture("exit.json", &text_buf), killed);
    const failed = finish.format(.{ .pid = 0, .exit_code = 127, .signal = 0, .started_at = 1, .finished_at = 2, .err = "cannot exec \"/bin/nope\": no such file or directory" }, &buf);
    try testing.expectEqualStrings(try fixture("exit-error.json", &text_buf), failed);
}

test "json-file log records: the writer makes the fixture the CLI reads" {
    var text_buf: [4096]u8 = undefined;
    const text = try fixture("log.jsonl", &text_buf);
    var buf: [log.line_max * 6 + 128]u8 = undefined;
    var got: std.ArrayList(u8) = .empty;
    defer got.deinit(testing.allocator);
    try got.appendSlice(testing.allocator, log.formatRecord(&buf, "hello\n", .stdout, 1_700_000_000_123_456_789));
    try got.appendSlice(testing.allocator, log.formatRecord(&buf, "a \"b\"\t\x01\n", .stderr, 1_700_000_001_000_000_001));
    try testing.expectEqualStrings(text, got.items);
}

test "health.json: the writer makes the fixture the CLI reads" {
    var text_buf: [4096]u8 = undefined;
    const cfg: health.Config = .{ .argv = &.{"true"}, .retries = 2 };
    var s: health.State = .{};
    const results = [_]struct { code: i32, out: []const u8 }{
        .{ .code = 0, .out = "ok\n" },
        .{ .code = -1, .out = "Health check exceeded timeout (300ms)" },
        .{ .code = 1, .out = "a \"b\"\t\x01\xff" },
    };
    for (results, 0..) |r, i| {
        const e = s.nextSlot();
        const start: i64 = 1_700_000_000_000_000_000 + @as(i64, @intCast(i)) * 1_000_000_000;
        e.* = .{ .start_ns = start, .end_ns = start + 500_000_000, .exit_code = r.code, .len = 0, .truncated = 0, .output = undefined };
        e.append(r.out);
        s.commit(&cfg, 0);
    }
    // The last output was cut: shown with "...".
    @constCast(s.entry(2)).truncated = 1;
    var o: health.Out = .{ .fd = -1 };
    try health.format(&o, &s);
    try testing.expectEqualStrings(try fixture("health.json", &text_buf), o.buf[0..o.len]);
}

test "copy helper exit statuses: the table makes the fixture the CLI reads" {
    var text_buf: [1024]u8 = undefined;
    var buf: [1024]u8 = undefined;
    try testing.expectEqualStrings(try fixture("copy-status.txt", &text_buf), copy_status.format(&buf));
}

test "the runtime's state JSON: the front prints what the Bun side prints (runtime-state.out)" {
    const text_buf = try testing.allocator.alloc(u8, fixture_max);
    defer testing.allocator.free(text_buf);
    const want_buf = try testing.allocator.alloc(u8, fixture_max);
    defer testing.allocator.free(want_buf);
    var arena = std.heap.ArenaAllocator.init(testing.allocator);
    defer arena.deinit();
    const rec = try front_state.parseRecord(arena.allocator(), try fixture("runtime-state.json", text_buf));
    try testing.expectEqual(@as(i64, 0), rec.pid);
    var out_buf: [4096]u8 = undefined;
    var out: front_state.Out = .{ .buf = &out_buf };
    try front_state.writeState(&out, &rec, .stopped);
    try testing.expectEqualStrings(try fixture("runtime-state.out", want_buf), out.written());
}
