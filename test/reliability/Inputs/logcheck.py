#!/usr/bin/env python3
"""Reads memscope logs independently of memscope-merge, for the reliability
tests. Framing follows include/memscope/LogFormat.h.

  logcheck.py check DIR        every record of every log under DIR has a valid
                               CRC and nothing follows the end but zeros, or
                               the one write a thread was making when the
                               process died (LogReader's "cut short" tail);
                               prints "logs ok files=N records=M cut_short=C"
                               or the damage
  logcheck.py end DIR          per process folder (sorted): "end=none" or
                               "end exit_kind=N threads_running=R"
  logcheck.py site-count JSON FILE:LINE   allocations of that site in an
                               analysis.json (0 when absent)
  logcheck.py process JSON     per process: "process state=S exit_kind=K"
"""
import json
import os
import struct
import sys

HEADER = 64
END, PROCESS_END, THREAD_RUNNING, EVENTS = 0, 4, 7, 22
# LogFormat.h: kMaxPayload, and kMaxUnpublishedEvents (a Key and an event).
MAX_PAYLOAD = 0xFFFF
MAX_UNPUBLISHED_EVENTS = (1 + 4 * 10) + (1 + 3 * 10 + 10 + 2 * 10)
CUT_SHORT = []


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data, crc=0xFFFFFFFF):
    for b in data:
        crc = TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def records(path):
    """Yields (type, payload); raises ValueError on damage."""
    data = open(path, "rb").read()
    if len(data) < HEADER or data[:8] != b"MSCOPELG":
        raise ValueError(f"{path}: bad file header")
    (major,) = struct.unpack_from("<H", data, 8)
    offset = HEADER
    last_type = None

    def cut_short(zero_header):
        # A thread killed mid-write leaves one unpublished write, then zeros.
        reach = 8 + MAX_PAYLOAD if zero_header else (
            MAX_UNPUBLISHED_EVENTS if last_type == EVENTS else 0)
        if reach and len(data) % 4096 == 0 and not any(data[offset + reach:]):
            CUT_SHORT.append(path)
            return True
        return False

    while offset + 8 <= len(data):
        rtype, flags, size, crc = struct.unpack_from("<BBHI", data, offset)
        if rtype == 0 and flags == 0 and size == 0 and crc == 0:
            if any(data[offset:]) and not cut_short(True):
                raise ValueError(f"{path}: data after the end at offset {offset}")
            return
        end = offset + 8 + size
        if end > len(data):
            if cut_short(False):
                return
            raise ValueError(f"{path}: record at {offset} overruns the file")
        payload = data[offset + 8:end]
        head = data[offset:offset + 4]
        if major == 1:  # version 1: the header's bytes, then the payload
            expected = ~crc32c(payload, crc32c(head))
        else:  # the payload, then the header's bytes
            expected = ~crc32c(head, crc32c(payload))
        if expected & 0xFFFFFFFF != crc:
            if cut_short(False):
                return
            raise ValueError(f"{path}: bad CRC at offset {offset}")
        yield rtype, payload
        last_type = rtype
        offset += (8 + size + 7) & ~7


def log_files(root):
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".log"):
                yield os.path.join(folder, name)


def main():
    command = sys.argv[1]
    if command == "check":
        files = count = 0
        for path in log_files(sys.argv[2]):
            files += 1
            try:
                count += sum(1 for _ in records(path))
            except ValueError as error:
                print(f"damaged: {error}")
                sys.exit(1)
        print(f"logs ok files={files} records={count} "
              f"cut_short={len(CUT_SHORT)}")
    elif command == "end":
        for path in log_files(sys.argv[2]):
            if os.path.basename(path) != "process.log":
                continue
            end, running = None, 0
            for rtype, payload in records(path):
                if rtype == PROCESS_END:
                    end = struct.unpack_from("<QQQQi", payload)[4]
                elif rtype == THREAD_RUNNING:
                    running += 1
            print("end=none" if end is None else
                  f"end exit_kind={end} threads_running={running}")
    elif command == "site-count":
        data = json.load(open(sys.argv[2]))
        want = sys.argv[3]
        total = sum(site["allocations"] for site in data["sites"]
                    if f"{os.path.basename(site['file'])}:{site['line']}" == want)
        print(int(round(total)))
    elif command == "process":
        data = json.load(open(sys.argv[2]))
        for p in data["processes"]:
            print(f"process state={p['state']} exit_kind={p['exit_kind']}")
    else:
        sys.exit(f"logcheck.py: unknown command {command}")


if __name__ == "__main__":
    main()
