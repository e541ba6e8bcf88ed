# Integration tests: every case starts a real corrald on a private socket.
#
# Each test_<area>.c lists its cases as TEST_CASE(name) lines; each case is
# registered as its own CTest test "<area>.<name>" so that ctest -j runs
# them in parallel. The programs find corrald, corralctl and the helper
# child through compile definitions.

add_executable(corral_test_helper ${CMAKE_CURRENT_LIST_DIR}/helper.c)
set_target_properties(corral_test_helper PROPERTIES OUTPUT_NAME helper)

add_library(corral_harness STATIC ${CMAKE_CURRENT_LIST_DIR}/harness.c)
target_include_directories(corral_harness PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(corral_harness PUBLIC
  CORRALD_PATH="$<TARGET_FILE:corrald>"
  CORRALCTL_PATH="$<TARGET_FILE:corralctl>"
  HELPER_PATH="$<TARGET_FILE:corral_test_helper>")
target_link_libraries(corral_harness PUBLIC corral PkgConfig::MSGPACK)
# The programs under test must be built before any test runs them.
add_dependencies(corral_harness corrald corralctl corral_test_helper)

set(CORRAL_TEST_TIMEOUT 120)

foreach(area process rpc daemon ctl)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_harness)
  if(area STREQUAL "ctl")
    target_link_libraries(test_${area} PRIVATE PkgConfig::JANSSON)
  endif()
  # Re-run CMake when cases are added or removed.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # Every TEST_CASE(name) in the file (clang-format may put several on a line).
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" found "${text}")
  foreach(item IN LISTS found)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${item}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_TEST_TIMEOUT}
                                                    LABELS integration)
  endforeach()
endforeach()

# A heavy case: keep it from running beside the other heavy one.
if(TEST process.reap_1000)
  set_tests_properties(process.reap_1000 PROPERTIES RESOURCE_LOCK heavy)
endif()
if(TEST rpc.inflight_limit)
  set_tests_properties(rpc.inflight_limit PROPERTIES RESOURCE_LOCK heavy)
endif()

# A client in another language, speaking raw MessagePack-RPC. Debian's
# python3 has python3-msgpack; the python3 on PATH may be another one.
if(EXISTS /usr/bin/python3)
  add_test(NAME foreign.python
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/foreign_client.py
                   $<TARGET_FILE:corrald> $<TARGET_FILE:corral_test_helper>)
  set_tests_properties(foreign.python PROPERTIES TIMEOUT ${CORRAL_TEST_TIMEOUT}
                                                 LABELS integration)
else()
  message(STATUS "corral: /usr/bin/python3 not found, foreign.python test skipped")
endif()
