#!/usr/bin/env python3
"""tun-writer: write deterministic IPv4 packets into a tun device.

usage: tun-writer.py -i TUNDEV -n COUNT [-f FIRST]
       tun-writer.py -w FILE -n COUNT [-f FIRST]

Attaches to the existing tun device TUNDEV (ip tuntap add ... mode tun),
which gives it carrier, and writes packets FIRST..FIRST+COUNT-1; the kernel
receives them as if they had arrived on the device.  With -w the same
packets are written to a DLT_RAW pcap file instead, so that a test can work
out offline what a capture of them must contain.

Packet i is UDP from 198.51.100.1 to 198.51.100.(2 + i % 4), ports
1024 + i % 7 -> 5000 + i % 5, 20 to 1400 bytes long, carrying i and a
pattern.  TEST-NET-2 addresses only (RFC 5737).
"""
import fcntl
import getopt
import os
import struct
import sys

TUNSETIFF = 0x400454ca
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
DLT_RAW = 101


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(i):
    length = 28 + 8 + (i * 7919) % (1400 - 36 + 1)
    payload = struct.pack("!II", 0x50524e47, i) + bytes(
        (i * 31 + k) & 0xff for k in range(length - 36))
    udp = struct.pack("!HHHH", 1024 + i % 7, 5000 + i % 5, 8 + len(payload), 0)
    src = bytes([198, 51, 100, 1])
    dst = bytes([198, 51, 100, 2 + i % 4])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, length, i & 0xffff, 0, 64, 17,
                     0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp + payload


def main():
    opts, args = getopt.getopt(sys.argv[1:], "i:w:n:f:")
    opts = dict(opts)
    if args or ("-i" in opts) == ("-w" in opts) or "-n" not in opts:
        sys.exit(__doc__.split("\n\n")[1])
    first, count = int(opts.get("-f", "0")), int(opts["-n"])
    if "-w" in opts:
        with open(opts["-w"], "wb") as f:
            f.write(struct.pack("=IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                                DLT_RAW))
            for i in range(first, first + count):
                p = packet(i)
                f.write(struct.pack("=IIII", 0, 0, len(p), len(p)) + p)
        return
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF,
                struct.pack("16sH", opts["-i"].encode(), IFF_TUN | IFF_NO_PI))
    for i in range(first, first + count):
        p = packet(i)
        if os.write(fd, p) != len(p):
            sys.exit("tun-writer: short write of packet %d" % i)
    os.close(fd)
    print("sent %d packets" % count)


if __name__ == "__main__":
    main()
