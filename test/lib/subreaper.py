#!/usr/bin/env python3
# A stand-in for containerd's shim or conmon in the OCI-runtime e2e tests (src/runtime/): it
# becomes a child subreaper (PR_SET_CHILD_SUBREAPER), runs one command (`tsd-runc create …`,
# `exec --detach …`) with its own stdio, then reaps what the command left running (the
# container's init, a detached exec'd process), as a shim does. On fd 3 it reports, one JSON
# line each: {"ran": CODE} when the command returned, {"reaped": PID, "status": S} per orphan
# reaped (S: the exit code, or 128+N for signal N). It exits when no child is left.
import ctypes
import json
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def report(obj):
    os.write(3, (json.dumps(obj) + "\n").encode())


def status_of(raw):
    return os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw)


def main():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    cmd = subprocess.Popen(sys.argv[1:], close_fds=True)
    while True:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        if pid == cmd.pid:
            report({"ran": status_of(raw)})
        else:
            report({"reaped": pid, "status": status_of(raw)})


main()
