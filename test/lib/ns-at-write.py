#!/usr/bin/env python3
# The user namespace a command is in when it first writes to stdout or stderr (rootless.test.ts:
# the fast path's commands stay in the host's, the re-exec'd ones are in the pause process's).
# Both are pipes filled to the brim first, so the command's first write blocks (whatever exec'd
# it before: setpriv, nsenter); its /proc/PID/ns/user is read then, and the pipes drained.
#   python3 ns-at-write.py ARGV...   prints {"ns", "code", "stdout", "stderr"} as JSON
import fcntl, json, os, subprocess, sys, threading, time

F_SETPIPE_SZ = 1031


def full_pipe():
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    os.set_blocking(w, False)
    n = 0
    try:
        while True:
            n += os.write(w, b"\0" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    return r, w, n


def drain(fd, skip, out):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
    out.append(b"".join(chunks)[skip:].decode())


def blocked(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().endswith("pipe_write")
    except OSError:
        return False


o_r, o_w, o_n = full_pipe()
e_r, e_w, e_n = full_pipe()
proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=o_w, stderr=e_w)
os.close(o_w)
os.close(e_w)
ns = ""
deadline = time.monotonic() + 30
while time.monotonic() < deadline and proc.poll() is None:
    if blocked(proc.pid):
        ns = os.readlink(f"/proc/{proc.pid}/ns/user")
        break
    time.sleep(0.002)
out, err = [], []
threads = [threading.Thread(target=drain, args=(o_r, o_n, out)), threading.Thread(target=drain, args=(e_r, e_n, err))]
for t in threads:
    t.start()
code = proc.wait()
for t in threads:
    t.join()
print(json.dumps({"ns": ns, "code": code, "stdout": out[0], "stderr": err[0]}))
