# -*- Python -*-
# lit configuration for Memscope's suites: pass (the pass on IR), e2e
# (instrumented programs run and merged), merge (memscope-merge's input
# handling), report (the outputs against outside readers), reliability
# (crashes, kills, full disks, forks) and integration (wrappers, CMake,
# autotools, LTO, version checks).
import os
import shutil

import lit.formats
import lit.util

config.name = "Memscope"
config.test_format = lit.formats.ShTest(not lit.util.which("bash"))
config.suffixes = [".ll", ".c", ".cpp", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "cmake", "install", "unit",
                   "fuzz", "sanitizers", "llvm-versions"]

site = lit_config.params.get("memscope_site")
if not site:
    lit_config.fatal("run through ctest, or pass --param memscope_site=<build>/test/lit.site.cfg.py")
lit_config.load_config(config, site)

config.test_source_root = os.path.dirname(__file__)
# ctest runs one lit per test, two at once: each gets its own folder, since
# lit rewrites <exec root>/.lit_test_times.txt at exit and a lit starting at
# that moment would read half a file (a ValueError in lit's discovery).
config.test_exec_root = os.path.join(config.memscope_obj_root, "test", "lit-out",
                                     lit_config.params.get("memscope_test", ""))

# memscope-merge keeps symbolized addresses between merges: the tests keep
# theirs beside their output, not in the user's ~/.cache, and start each
# lit run without them, so that every change to the symbolization is
# exercised (a test's later merges read what its first kept).
symbol_cache = os.path.join(config.test_exec_root, "symbol-cache")
shutil.rmtree(symbol_cache, ignore_errors=True)
config.environment["MEMSCOPE_CACHE_DIR"] = symbol_cache

config.environment["PATH"] = os.pathsep.join(
    [config.memscope_bin_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
for var in ("MEMSCOPE_OUT", "MEMSCOPE_OPTIONS", "MEMSCOPE_PASS_OPTIONS"):
    config.environment.pop(var, None)

plugin = os.path.join(config.memscope_lib_dir, "MemscopePass.so")
clangxx = config.clang + "++"
config.substitutions.append(("%shlibdir", config.memscope_lib_dir))
config.substitutions.append(("%memscope_include", os.path.join(config.memscope_src_root, "include")))
config.substitutions.append(("%plugin", plugin))
config.substitutions.append(("%clangxx_memscope", f"{clangxx} -fpass-plugin={plugin} -g"))
config.substitutions.append(("%clang_memscope", f"{config.clang} -fpass-plugin={plugin} -g"))
config.substitutions.append(("%clangxx", clangxx))
config.substitutions.append(("%clang", config.clang))
config.substitutions.append(("%opt_memscope", f"opt -load-pass-plugin={plugin}"))
config.substitutions.append(("%memscope_cc", os.path.join(config.memscope_bin_dir, "memscope-clang")))
config.substitutions.append(("%memscope_cxx", os.path.join(config.memscope_bin_dir, "memscope-clang++")))
config.substitutions.append(("%memscope_bin", config.memscope_bin_dir))
config.substitutions.append(("%merge", os.path.join(config.memscope_bin_dir, "memscope-merge")))
config.substitutions.append(("%python", config.python))
# util-linux's script(1) runs a command on a pseudo-terminal (progress tests).
if shutil.which("script"):
    config.available_features.add("script")

# %check_html renders report.html in headless Chromium; without Chromium it
# checks the file statically (check_html.py --static), so that a test's other
# checks (folded stacks, trace, text, JSON) still run.
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
check_html = '"%s" "%s"' % (config.python, os.path.join(config.test_source_root, "report", "Inputs", "check_html.py"))
if chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", chromium))
    config.substitutions.append(("%check_html", check_html + ' "%s"' % chromium))
else:
    config.substitutions.append(("%check_html", check_html + " --static"))
config.substitutions.append(("%inputs", os.path.join(os.path.dirname(__file__), "Inputs")))
config.substitutions.append(("%src_root", config.memscope_src_root))
config.substitutions.append(("%link_rt", f"-L{config.memscope_lib_dir} -Wl,-rpath,{config.memscope_lib_dir} -lmemscope_rt"))

# libc++ (Debian's libc++-N-dev) for the libc++ std::thread test.
libcxx_headers = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(config.clang))),
                              "include", "c++", "v1")
if os.path.isdir(libcxx_headers):
    config.available_features.add("libcxx")

if config.heaptrack and config.heaptrack_print:
    config.available_features.add("heaptrack")
    config.substitutions.append(("%heaptrack_print", config.heaptrack_print))
    config.substitutions.append(("%heaptrack", config.heaptrack))
