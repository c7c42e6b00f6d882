#!/usr/bin/env python3
"""Makes an instrumented .ll file look as if another Memscope build's plugin
had made it.

  set-version.py IN OUT OLD NEW        the version stamp c"OLD\00" -> c"NEW\00"
  set-version.py --abi IN OUT OLD NEW  the ABI: marker __memscope_abi_vOLD and
                                       the site table's abi_version field

A version stamp keeps its length (NEW as long as OLD), so its array type
stays valid. Exactly one stamp (one marker declaration) must be there."""
import re
import sys


def replace_once(text, old, new, what, path):
    if text.count(old) != 1:
        sys.exit(f"set-version.py: {path} has {text.count(old)} {what} {old}, expected 1")
    return text.replace(old, new)


args = sys.argv[1:]
abi = args[:1] == ["--abi"]
if abi:
    args = args[1:]
src, dst, old, new = args
if not abi and len(old) != len(new):
    sys.exit(f"set-version.py: '{old}' and '{new}' differ in length")
text = open(src).read()
if abi:
    text = replace_once(text, f"@__memscope_abi_v{old} =", f"@__memscope_abi_v{new} =",
                        "marker declarations", src)
    text = re.sub(f"@__memscope_abi_v{old}\\b", f"@__memscope_abi_v{new}", text)
    # The table's first field: { i32 <abi>, i32 <site count>, ...
    text, count = re.subn(f"(@memscope.module_sites = private constant {{[^}}]*}} {{ i32 ){old},",
                          f"\\g<1>{new},", text)
    if count != 1:
        sys.exit(f"set-version.py: {src}: no site table with ABI {old}")
else:
    text = replace_once(text, f'c"{old}\\00"', f'c"{new}\\00"', "stamps", src)
open(dst, "w").write(text)
