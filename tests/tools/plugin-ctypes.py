#!/usr/bin/env python3
"""What a Python program that loads libpcap with ctypes sees of capture
source plugins (tests/plugin/t-loader.sh).  ctypes dlopen()s the library
RTLD_LOCAL, as scapy does with conf.use_pcap, so a plugin's references
to the pcap_plugin_*() functions cannot resolve from the global scope
unless the loader puts libpcap there.

  plugin-ctypes.py list            the names pcap_findalldevs() returns
  plugin-ctypes.py capture DEVICE  "N packets, caplen/len L,...; END"
                                   from pcap_next_ex() until it fails
"""
import ctypes
import os
import sys


class PcapIf(ctypes.Structure):
    pass


PcapIf._fields_ = [("next", ctypes.POINTER(PcapIf)),
                   ("name", ctypes.c_char_p),
                   ("description", ctypes.c_char_p),
                   ("addresses", ctypes.c_void_p),
                   ("flags", ctypes.c_uint)]


class PktHdr(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


pcap = ctypes.CDLL("libpcap.so.1", mode=os.RTLD_LOCAL)
pcap.pcap_create.restype = ctypes.c_void_p
pcap.pcap_create.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
pcap.pcap_activate.argtypes = [ctypes.c_void_p]
pcap.pcap_geterr.restype = ctypes.c_char_p
pcap.pcap_geterr.argtypes = [ctypes.c_void_p]
pcap.pcap_next_ex.argtypes = [ctypes.c_void_p,
                              ctypes.POINTER(ctypes.POINTER(PktHdr)),
                              ctypes.POINTER(ctypes.c_void_p)]
pcap.pcap_close.argtypes = [ctypes.c_void_p]
errbuf = ctypes.create_string_buffer(256)


def list_devices():
    devs = ctypes.POINTER(PcapIf)()
    if pcap.pcap_findalldevs(ctypes.byref(devs), errbuf) != 0:
        print("pcap_findalldevs: " + errbuf.value.decode())
        return 1
    d = devs
    while d:
        print(d.contents.name.decode())
        d = d.contents.next
    pcap.pcap_freealldevs(devs)
    return 0


def capture(device):
    p = pcap.pcap_create(device.encode(), errbuf)
    if not p:
        print("pcap_create %s: %s" % (device, errbuf.value.decode()))
        return 1
    status = pcap.pcap_activate(p)
    if status < 0:
        print("pcap_activate %s: %d: %s"
              % (device, status, pcap.pcap_geterr(p).decode()))
        pcap.pcap_close(p)
        return 1
    hdr = ctypes.POINTER(PktHdr)()
    data = ctypes.c_void_p()
    lens = []
    while True:
        status = pcap.pcap_next_ex(p, ctypes.byref(hdr), ctypes.byref(data))
        if status != 1:
            break
        lens.append("%d/%d" % (hdr.contents.caplen, hdr.contents.len))
    print("%d packets, caplen/len %s; pcap_next_ex %d: %s"
          % (len(lens), ",".join(lens), status,
             pcap.pcap_geterr(p).decode()))
    pcap.pcap_close(p)
    return 0


if len(sys.argv) == 2 and sys.argv[1] == "list":
    sys.exit(list_devices())
if len(sys.argv) == 3 and sys.argv[1] == "capture":
    sys.exit(capture(sys.argv[2]))
sys.stderr.write("usage: plugin-ctypes.py list | capture DEVICE\n")
sys.exit(2)
