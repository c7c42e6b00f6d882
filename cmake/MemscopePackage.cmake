# Installs (and mirrors into the build tree) what another CMake project uses:
#
#   P/share/memscope/memscope-toolchain.cmake   every target instrumented
#   P/lib/cmake/Memscope/MemscopeConfig.cmake    find_package(Memscope CONFIG):
#                                                Memscope::runtime and
#                                                memscope_instrument(<target>)
include(CMakePackageConfigHelpers)

set(MEMSCOPE_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Memscope)
set(MEMSCOPE_SHARE_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/memscope)

# Tools of the plugin's LLVM, for archives of -flto objects (ar and ranlib
# of binutils cannot index LLVM bitcode without the LTO plugin).
set(MEMSCOPE_LLVM_AR "${LLVM_TOOLS_BINARY_DIR}/llvm-ar")
set(MEMSCOPE_LLVM_RANLIB "${LLVM_TOOLS_BINARY_DIR}/llvm-ranlib")
configure_file(${CMAKE_CURRENT_LIST_DIR}/memscope-toolchain.cmake.in
  ${CMAKE_BINARY_DIR}/${MEMSCOPE_SHARE_INSTALL_DIR}/memscope-toolchain.cmake @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/${MEMSCOPE_SHARE_INSTALL_DIR}/memscope-toolchain.cmake
  DESTINATION ${MEMSCOPE_SHARE_INSTALL_DIR})

# One template, two configurations: the install prefix (relocatable, paths
# relative to the config file) and the build tree (its headers are split
# between the source and the build include/).
set(MEMSCOPE_PLUGIN_FILE ${CMAKE_INSTALL_LIBDIR}/MemscopePass.so)
set(MEMSCOPE_LIBRARY_DIR ${CMAKE_INSTALL_LIBDIR})
set(MEMSCOPE_INCLUDE_DIR ${CMAKE_INSTALL_INCLUDEDIR})
set(MEMSCOPE_EXTRA_INCLUDE_DIR "")
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/MemscopeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/CMakeFiles/MemscopeConfig-install.cmake
  INSTALL_DESTINATION ${MEMSCOPE_CMAKE_INSTALL_DIR}
  PATH_VARS MEMSCOPE_PLUGIN_FILE MEMSCOPE_LIBRARY_DIR MEMSCOPE_INCLUDE_DIR)
set(MEMSCOPE_EXTRA_INCLUDE_DIR "${PROJECT_SOURCE_DIR}/include")
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/MemscopeConfig.cmake.in
  ${CMAKE_BINARY_DIR}/${MEMSCOPE_CMAKE_INSTALL_DIR}/MemscopeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_BINARY_DIR}/${MEMSCOPE_CMAKE_INSTALL_DIR}
  INSTALL_PREFIX ${CMAKE_BINARY_DIR}
  PATH_VARS MEMSCOPE_PLUGIN_FILE MEMSCOPE_LIBRARY_DIR MEMSCOPE_INCLUDE_DIR)
# Instrumented objects carry the plugin's version and the runtime refuses
# another one, so only the same minor version is compatible (pre-1.0).
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/${MEMSCOPE_CMAKE_INSTALL_DIR}/MemscopeConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/CMakeFiles/MemscopeConfig-install.cmake
  DESTINATION ${MEMSCOPE_CMAKE_INSTALL_DIR} RENAME MemscopeConfig.cmake)
install(FILES ${CMAKE_BINARY_DIR}/${MEMSCOPE_CMAKE_INSTALL_DIR}/MemscopeConfigVersion.cmake
  DESTINATION ${MEMSCOPE_CMAKE_INSTALL_DIR})
# memscope_add_test(), for find_package(Memscope) and the toolchain file.
foreach(file MemscopeTesting.cmake MemscopeRunTest.cmake)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${file}
    ${CMAKE_BINARY_DIR}/${MEMSCOPE_CMAKE_INSTALL_DIR}/${file} COPYONLY)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/${file}
    DESTINATION ${MEMSCOPE_CMAKE_INSTALL_DIR})
endforeach()
