#!/usr/bin/env python3
# The receiving end of runc's --console-socket, as containerd's shim and conmon are, for the
# OCI-runtime e2e tests: listens on PATH (argv[1]), prints "ready", takes one connection, the
# message's bytes (the master's name) and its one SCM_RIGHTS fd (the pty master), writes argv[2]
# to the terminal, reads what comes back until EOF (the process exited) or 10 s, then prints
# one JSON line: {"name": …, "fds": N, "output": …}.
import array
import json
import os
import select
import socket
import sys
import time

path, typed = sys.argv[1], sys.argv[2].encode()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
fds = array.array("i")
msg, ancdata, _, _ = conn.recvmsg(256, socket.CMSG_LEN(fds.itemsize * 4))
for level, kind, data in ancdata:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
output = b""
if fds:
    master = fds[0]
    os.write(master, typed)
    end = time.time() + 10
    while time.time() < end:
        ready, _, _ = select.select([master], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
print(json.dumps({"name": msg.decode(), "fds": len(fds), "output": output.decode(errors="replace")}), flush=True)
os.unlink(path)
