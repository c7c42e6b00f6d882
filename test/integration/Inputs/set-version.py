#!/usr/bin/env python3
"""set-version.py IN OUT OLD NEW: rewrites the Memscope version string that
MemscopePass stamped into an instrumented .ll file (c"OLD\\00") to NEW, as if
another Memscope build's plugin had made it. OLD and NEW have equal lengths,
so the string's array type stays valid. Exactly one stamp must be there."""
import sys

src, dst, old, new = sys.argv[1:5]
if len(old) != len(new):
    sys.exit(f"set-version.py: '{old}' and '{new}' differ in length")
text = open(src).read()
stamp = f'c"{old}\\00"'
if text.count(stamp) != 1:
    sys.exit(f"set-version.py: {src} has {text.count(stamp)} stamps {stamp}, expected 1")
open(dst, "w").write(text.replace(stamp, f'c"{new}\\00"'))
