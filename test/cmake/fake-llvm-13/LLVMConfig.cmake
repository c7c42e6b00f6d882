# A stand-in LLVM 13 package: configuring Memscope against it must fail with
# a clear message (test/cmake/unsupported-llvm.sh).
set(LLVM_PACKAGE_VERSION 13.0.1)
set(LLVM_VERSION_MAJOR 13)
set(LLVM_VERSION_MINOR 0)
set(LLVM_VERSION_PATCH 1)
set(LLVM_TOOLS_BINARY_DIR /nonexistent)
