# Builds programs of this repository (examples, benchmarks) with the
# build-tree compiler wrappers, so that they exercise exactly what a user
# gets. The project's own compiler may be gcc; these always use the clang the
# plugin was built for.
#
#   memscope_add_program(<name> SOURCES <src>... [PLAIN] [FLAGS <flag>...])
#
# PLAIN builds the same sources with that clang and no instrumentation, as a
# baseline. Outputs go to ${CMAKE_BINARY_DIR}/bin.
function(memscope_add_program name)
  cmake_parse_arguments(ARG "PLAIN" "" "SOURCES;FLAGS" ${ARGN})
  set(output ${CMAKE_BINARY_DIR}/bin/${name})
  set(sources)
  foreach(src ${ARG_SOURCES})
    list(APPEND sources ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  endforeach()
  if(ARG_PLAIN)
    set(compiler ${MEMSCOPE_CLANG}++ -g -fno-omit-frame-pointer)
    set(deps)
  else()
    set(compiler ${CMAKE_BINARY_DIR}/bin/memscope-clang++)
    set(deps MemscopePass memscope_rt ${CMAKE_BINARY_DIR}/bin/memscope-clang++)
  endif()
  add_custom_command(OUTPUT ${output}
    COMMAND ${compiler} -O2 -std=c++17 -pthread -I${PROJECT_SOURCE_DIR}/include
            ${ARG_FLAGS} ${sources} -o ${output}
    DEPENDS ${sources} ${deps}
    COMMENT "Building ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${output})
endfunction()
