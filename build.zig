//! One core compiled twice (DESIGN.md): libtsd.so, loaded by the CLI through bun:ffi, and
//! tsd-monitor, the static per-container parent that runs the bundle; and tsd-init, the small
//! static PID 1 of `run --init`.
const std = @import("std");
const builtin = @import("builtin");

/// The CPU the release artifacts are compiled for when neither -Dtarget nor -Dcpu is given:
/// never the build machine's own (build hosts have AVX-512, and a native libtsd.so or
/// tsd-monitor dies with SIGILL on most desktops, laptops and QEMU's default CPU).
/// x86_64: x86-64-v2 (SSE4.2, POPCNT; Nehalem, 2008), the floor Bun's own linux-x64 runtime
/// sets (it refuses to start without SSE4.2), so a lower Zig floor would widen nothing;
/// v3 measured no faster (bench/cpu-level.sh). aarch64 and the rest: the architecture's
/// baseline. `-Dcpu=native` (or any -Dtarget/-Dcpu) builds for something else on request;
/// scripts/build.sh checks the result against the floor (scripts/cpu-level.ts).
fn portableTarget() std.Target.Query {
    return switch (builtin.cpu.arch) {
        .x86_64 => .{ .cpu_model = .{ .explicit = &std.Target.x86.cpu.x86_64_v2 } },
        else => .{ .cpu_model = .baseline },
    };
}

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{ .default_target = portableTarget() });
    const optimize = b.standardOptimizeOption(.{});
    const version = b.option([]const u8, "version", "tsd version string") orelse "0.0.0-dev";

    const options = b.addOptions();
    options.addOption([]const u8, "version", version);

    const lib_module = b.createModule(.{
        .root_source_file = b.path("zig/lib.zig"),
        .target = target,
        .optimize = optimize,
        .pic = true,
    });
    lib_module.addOptions("build_options", options);
    const lib = b.addLibrary(.{ .name = "tsd", .linkage = .dynamic, .root_module = lib_module });
    b.installArtifact(lib);

    const core = coreModules(b, target, optimize);
    // libtsd's netlink code (zig/netlink/) shares the syscall layer.
    lib_module.addImport("linux", core.linux);

    const program_stack = 2 * 1024 * 1024;
    const monitor_module = b.createModule(.{
        .root_source_file = b.path("zig/monitor/main.zig"),
        .target = target,
        .optimize = optimize,
        .strip = optimize != .Debug,
        // No unwinding in the monitor (its panic handler prints no trace: main.zig), so no
        // unwind tables and no error return traces: smaller pages in every running monitor.
        .unwind_tables = .none,
        .error_tracing = false,
    });
    monitor_module.addOptions("build_options", options);
    monitor_module.addImport("linux", core.linux);
    monitor_module.addImport("runtime", core.runtime);
    monitor_module.addImport("unpack", core.unpack);
    const monitor = b.addExecutable(.{ .name = "tsd-monitor", .root_module = monitor_module });
    // Zig's start code raises RLIMIT_STACK to the program's stack size when the soft limit is
    // lower, and a container's init (cloned from the monitor) and tsd-init's child inherit it:
    // with the default 16 MiB every container got a 16 MiB soft limit, not the caller's 8 MiB
    // (runc's and Docker's). 2 MiB is above anything the monitor uses (its deepest frames, the
    // set-up's, are ~150 kB) and below every usual soft limit, so nothing is raised.
    monitor.stack_size = program_stack;
    b.installArtifact(monitor);

    // tsd-init (`run --init`): a static program of its own, bound into containers at
    // /sbin/docker-init (zig/init/main.zig says why it is not a mode of the monitor).
    const init_module = b.createModule(.{
        .root_source_file = b.path("zig/init/main.zig"),
        .target = target,
        .optimize = optimize,
        .strip = optimize != .Debug,
    });
    init_module.addImport("linux", core.linux);
    const init_exe = b.addExecutable(.{ .name = "tsd-init", .root_module = init_module });
    init_exe.stack_size = program_stack;
    b.installArtifact(init_exe);

    // tsd-runc, the OCI runtime's front (zig/front/main.zig): the cheap verbs without Bun's
    // start; everything else it hands to the tsd binary. Static, no imports but std.
    const front_module = b.createModule(.{
        .root_source_file = b.path("zig/front/main.zig"),
        .target = target,
        .optimize = optimize,
        .strip = optimize != .Debug,
    });
    front_module.addOptions("build_options", options);
    const front = b.addExecutable(.{ .name = "tsd-runc", .root_module = front_module });
    front.stack_size = program_stack;
    b.installArtifact(front);

    addTests(b, b.step("test", "Run the Zig unit tests"), target, optimize, options);

    // The same tests built for arm64 and run under qemu-user (qemu-aarch64; Debian's
    // qemu-user): syscall numbers, seccomp's architecture tokens and struct layouts are
    // checked as arm64 has them, on an x86_64 host. The kernel is the host's, so what needs
    // a syscall qemu 7.2 does not emulate (openat2) skips there (sys.skipWithoutOpenat2).
    const aarch64 = b.resolveTargetQuery(.{ .cpu_arch = .aarch64, .os_tag = .linux, .abi = .musl });
    const aarch64_step = b.step("test-aarch64", "Run the Zig unit tests for aarch64 under qemu-aarch64");
    if (builtin.cpu.arch != .aarch64) b.enable_qemu = true;
    addTests(b, aarch64_step, aarch64, optimize, options);
}

/// The named modules the artifacts and the tests share: the syscall layer, the container runtime
/// (init, mounts, console…) and the tar walker and extractor (libtsd has zig/unpack/ as files;
/// the monitor's --copy and --pack modes import it as a module).
const Core = struct { linux: *std.Build.Module, runtime: *std.Build.Module, unpack: *std.Build.Module };

fn coreModules(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode) Core {
    const linux = b.createModule(.{ .root_source_file = b.path("zig/linux/linux.zig"), .target = target, .optimize = optimize });
    const runtime = b.createModule(.{ .root_source_file = b.path("zig/runtime/runtime.zig"), .target = target, .optimize = optimize });
    runtime.addImport("linux", linux);
    const unpack = b.createModule(.{ .root_source_file = b.path("zig/unpack/unpack.zig"), .target = target, .optimize = optimize });
    unpack.addImport("linux", linux);
    return .{ .linux = linux, .runtime = runtime, .unpack = unpack };
}

fn addTests(
    b: *std.Build,
    step: *std.Build.Step,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    options: *std.Build.Step.Options,
) void {
    // Modules of their own: the step's target may differ from the artifacts'.
    const core = coreModules(b, target, optimize);
    for ([_][]const u8{ "zig/lib.zig", "zig/monitor/main.zig", "zig/init/main.zig", "zig/front/main.zig" }) |root| {
        const t = b.addTest(.{ .root_module = b.createModule(.{
            .root_source_file = b.path(root),
            .target = target,
            .optimize = optimize,
        }) });
        t.root_module.addOptions("build_options", options);
        t.root_module.addImport("linux", core.linux);
        t.root_module.addImport("runtime", core.runtime);
        if (std.mem.endsWith(u8, root, "main.zig")) t.root_module.addImport("unpack", core.unpack);
        step.dependOn(&b.addRunArtifact(t).step);
    }
    for ([_]*std.Build.Module{ core.linux, core.runtime }) |module| {
        const t = b.addTest(.{ .root_module = module });
        step.dependOn(&b.addRunArtifact(t).step);
    }

    // The contract tests (test/contract/): the Zig side reads the CLI's fixtures and makes its own.
    const contract_options = b.addOptions();
    contract_options.addOption([]const u8, "contract_dir", b.pathFromRoot("test/contract/fixtures"));
    const contract = b.addTest(.{ .root_module = b.createModule(.{
        .root_source_file = b.path("zig/contract.zig"),
        .target = target,
        .optimize = optimize,
    }) });
    contract.root_module.addOptions("build_options", contract_options);
    contract.root_module.addImport("linux", core.linux);
    contract.root_module.addImport("runtime", core.runtime);
    contract.root_module.addImport("unpack", core.unpack);
    step.dependOn(&b.addRunArtifact(contract).step);
}
