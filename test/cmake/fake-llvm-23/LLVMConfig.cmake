# A stand-in LLVM 23 package, newer than Memscope supports: configuring
# against it must fail with a clear message (test/cmake/unsupported-llvm.sh).
set(LLVM_PACKAGE_VERSION 23.0.0)
set(LLVM_VERSION_MAJOR 23)
set(LLVM_VERSION_MINOR 0)
set(LLVM_VERSION_PATCH 0)
set(LLVM_TOOLS_BINARY_DIR /nonexistent)
