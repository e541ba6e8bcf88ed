# Output tests: capture, files with rotation and reopening, journald,
# queue destinations with back-pressure, stdin (bytes and queues), join
# with output, and process.logs (tail, streams, pools, followers), every
# case against a real corrald on a private socket.
#
# test_output.c lists its cases as TEST_CASE(name); each case is its own
# CTest test "output.<name>". out_child is the child the daemon runs (a
# little script of writes, waits and reads); out_support adds
# msgpack-packed output calls and raw followers to the harness and the
# queue support.

if(NOT TARGET corral_q_support)
  message(STATUS "corral: output tests need queues.cmake (corral_q_support); skipped")
  return()
endif()

add_executable(corral_out_child ${CMAKE_CURRENT_LIST_DIR}/out_child.c)
set_target_properties(corral_out_child PROPERTIES OUTPUT_NAME out_child)

add_library(corral_out_support STATIC ${CMAKE_CURRENT_LIST_DIR}/out_support.c)
target_include_directories(corral_out_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(corral_out_support PUBLIC
  OUT_CHILD_PATH="$<TARGET_FILE:corral_out_child>")
target_link_libraries(corral_out_support PUBLIC corral_q_support)
add_dependencies(corral_out_support corral_out_child)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_OUT_TIMEOUT 120)

set(src ${CMAKE_CURRENT_LIST_DIR}/test_output.c)
if(EXISTS ${src})
  add_executable(test_output ${src})
  target_link_libraries(test_output PRIVATE corral_out_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # Every TEST_CASE(name) in the file: clang-format may put several on one line.
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" found "${text}")
  foreach(item IN LISTS found)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${item}")
    add_test(NAME output.${name} COMMAND test_output ${name})
    set_tests_properties(output.${name} PROPERTIES TIMEOUT ${CORRAL_OUT_TIMEOUT}
                                                   LABELS integration)
  endforeach()

  # Without a reachable journald (or with one), one of these prints "SKIP: why".
  foreach(name journal_unreachable journal_entry)
    if(TEST output.${name})
      set_tests_properties(output.${name} PROPERTIES SKIP_REGULAR_EXPRESSION "SKIP: ")
    endif()
  endforeach()
  # 100 MB through the daemon: keep it from running beside the other heavy cases.
  if(TEST output.flood_follow)
    set_tests_properties(output.flood_follow PROPERTIES RESOURCE_LOCK heavy)
  endif()
endif()
