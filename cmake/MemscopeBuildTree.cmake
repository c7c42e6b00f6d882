# Builds programs of this repository (examples, benchmarks) with the
# build-tree compiler wrappers, so that they exercise exactly what a user
# gets. The project's own compiler may be gcc; these always use the clang the
# plugin was built for.
#
#   memscope_add_program(<name> SOURCES <src>... [PLAIN [LINK_RUNTIME]]
#                        [FLAGS <flag>...] [LIBS <lib>...] [DEPENDS <target>...])
#
# PLAIN builds the same sources with that clang and no instrumentation, as a
# baseline; LINK_RUNTIME links that baseline with libmemscope_rt anyway.
# Outputs go to ${CMAKE_BINARY_DIR}/bin.
function(memscope_add_program name)
  cmake_parse_arguments(ARG "PLAIN;LINK_RUNTIME" "" "SOURCES;FLAGS;LIBS;DEPENDS" ${ARGN})
  set(output ${CMAKE_BINARY_DIR}/bin/${name})
  set(sources)
  foreach(src ${ARG_SOURCES})
    list(APPEND sources ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  endforeach()
  if(ARG_PLAIN)
    set(compiler ${MEMSCOPE_CLANG}++ -g -fno-omit-frame-pointer)
    set(deps)
    if(ARG_LINK_RUNTIME)
      list(APPEND ARG_FLAGS -L${CMAKE_BINARY_DIR}/lib -Wl,-rpath,${CMAKE_BINARY_DIR}/lib
           -Wl,--no-as-needed -lmemscope_rt)
      set(deps memscope_rt)
    endif()
  else()
    set(compiler ${CMAKE_BINARY_DIR}/bin/memscope-clang++)
    set(deps MemscopePass memscope_rt memscope_lockfree
        ${CMAKE_BINARY_DIR}/bin/memscope-clang++)
  endif()
  add_custom_command(OUTPUT ${output}
    COMMAND ${compiler} -O2 -std=c++17 -pthread -I${PROJECT_SOURCE_DIR}/include
            ${ARG_FLAGS} ${sources} ${ARG_LIBS} -o ${output}
    DEPENDS ${sources} ${deps} ${ARG_DEPENDS}
    COMMENT "Building ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${output})
endfunction()
