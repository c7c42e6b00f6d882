# memscope_add_test(): a test run under Memscope and checked against a memory
# budget, as one ctest entry (docs/budgets.md). Included by MemscopeConfig.cmake
# (find_package(Memscope)) and by the toolchain file, which set Memscope_MERGE.
#
#   memscope_add_test(NAME <name> COMMAND <command> [<arg>...]
#                     [BUDGET <budget.json>] [BASELINE <logs or report>]
#                     [OPTIONS <MEMSCOPE_OPTIONS>] [WORKING_DIRECTORY <dir>])
#
# Runs COMMAND with MEMSCOPE_OUT set to a fresh folder below
# <build>/memscope-tests/<name>, then memscope-merge on it (report in
# <that folder>/report) with --check BUDGET and --diff BASELINE when given.
# The entry fails when COMMAND fails or a budget is exceeded (memscope-merge
# exit status 3), with memscope-merge's lines in the test output.
set(_MEMSCOPE_RUN_TEST "${CMAKE_CURRENT_LIST_DIR}/MemscopeRunTest.cmake")

function(memscope_add_test)
  cmake_parse_arguments(MS "" "NAME;BUDGET;BASELINE;OPTIONS;WORKING_DIRECTORY"
                        "COMMAND" ${ARGN})
  if(NOT MS_NAME)
    message(FATAL_ERROR "memscope_add_test: NAME is required")
  endif()
  if(NOT MS_COMMAND)
    message(FATAL_ERROR "memscope_add_test(${MS_NAME}): COMMAND is required")
  endif()
  if(MS_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "memscope_add_test(${MS_NAME}): unknown arguments: "
                        "${MS_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT Memscope_MERGE)
    message(FATAL_ERROR "memscope_add_test(${MS_NAME}): Memscope_MERGE is not "
                        "set (use find_package(Memscope) or the toolchain file)")
  endif()
  foreach(file BUDGET BASELINE)
    if(MS_${file})
      get_filename_component(MS_${file} "${MS_${file}}" ABSOLUTE
                             BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    endif()
  endforeach()
  set(command ${MS_COMMAND})
  list(GET command 0 program)
  if(TARGET ${program}) # a target name, as add_test() takes it
    list(REMOVE_AT command 0)
    list(INSERT command 0 "$<TARGET_FILE:${program}>")
  endif()
  set(args)
  if(MS_WORKING_DIRECTORY)
    set(args WORKING_DIRECTORY ${MS_WORKING_DIRECTORY})
  endif()
  add_test(NAME ${MS_NAME} ${args}
    COMMAND ${CMAKE_COMMAND}
      "-DMEMSCOPE_MERGE=${Memscope_MERGE}"
      "-DMEMSCOPE_LOGS=${CMAKE_BINARY_DIR}/memscope-tests/${MS_NAME}"
      "-DMEMSCOPE_BUDGET=${MS_BUDGET}" "-DMEMSCOPE_BASELINE=${MS_BASELINE}"
      "-DMEMSCOPE_OPTIONS=${MS_OPTIONS}"
      -P "${_MEMSCOPE_RUN_TEST}" -- ${command})
endfunction()
