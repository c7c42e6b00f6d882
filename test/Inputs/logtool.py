#!/usr/bin/env python3
"""Damages memscope logs on purpose, for the merge's bad-input tests.

  logtool.py records FILE                 list records: index offset type size
  logtool.py truncate FILE N              cut FILE in the middle of record N
  logtool.py corrupt FILE N               flip one payload byte of record N
  logtool.py set-version DIR MAJOR        rewrite every log's format major version

N is a record's index in the file, or TYPE:K for the K-th (from 0) record
of type TYPE (22:5 is the sixth Events record).

The framing follows include/memscope/LogFormat.h: a 64-byte file header, then
8-byte aligned records with a header {u8 type, u8 flags, u16 size, u32 crc}.
"""
import os
import struct
import sys

HEADER = 64


def records(data):
    offset = HEADER
    index = 0
    while offset + 8 <= len(data):
        rtype, flags, size, crc = struct.unpack_from("<BBHI", data, offset)
        if rtype == 0 and size == 0 and crc == 0:
            break
        yield index, offset, rtype, size
        offset += (8 + size + 7) & ~7
        index += 1


def find(data, n):
    wanted_type, _, k = n.partition(":")
    seen = 0
    for index, offset, rtype, size in records(data):
        if not k and index == int(n):
            return offset, size
        if k and rtype == int(wanted_type):
            if seen == int(k):
                return offset, size
            seen += 1
    sys.exit(f"logtool: no record {n}")


def main():
    command = sys.argv[1]
    if command == "records":
        data = open(sys.argv[2], "rb").read()
        for index, offset, rtype, size in records(data):
            print(index, offset, rtype, size)
    elif command == "truncate":
        path, n = sys.argv[2], sys.argv[3]
        data = open(path, "rb").read()
        offset, size = find(data, n)
        with open(path, "r+b") as f:
            f.truncate(offset + 8 + size // 2)
    elif command == "corrupt":
        path, n = sys.argv[2], sys.argv[3]
        data = bytearray(open(path, "rb").read())
        offset, size = find(data, n)
        data[offset + 8 + size // 2] ^= 0x5A
        open(path, "wb").write(data)
    elif command == "set-version":
        for root, _, files in os.walk(sys.argv[2]):
            for name in files:
                if name.endswith(".log"):
                    with open(os.path.join(root, name), "r+b") as f:
                        f.seek(8)
                        f.write(struct.pack("<H", int(sys.argv[3])))
    else:
        sys.exit(f"logtool: unknown command {command}")


if __name__ == "__main__":
    main()
