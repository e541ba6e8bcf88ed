# Security tests: the [access] rules and what a non-root client's children
# run as (test_access.c), and the limits under hostile or careless clients
# (test_limits.c), every case against a real corrald on a private socket
# that other users can reach (the directory 0755, socket_mode 0666).
#
# Each test_<area>.c lists its cases as TEST_CASE(name); each case is its
# own CTest test "<area>.<name>". The cases run as root (the CI user):
# clients with another identity are setuid children (sec_support.c).
# Without root a case prints "SKIP: ..." and counts as skipped.

add_library(corral_sec_support STATIC ${CMAKE_CURRENT_LIST_DIR}/sec_support.c)
target_include_directories(corral_sec_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
# sv_support (supervision.cmake) packs json_pack() formats to MessagePack.
target_link_libraries(corral_sec_support PUBLIC corral_sv_support)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_SEC_TIMEOUT 120)

foreach(area access limits)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_sec_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # Every TEST_CASE(name) in the file (clang-format may put several on a line).
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" found "${text}")
  foreach(item IN LISTS found)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${item}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_SEC_TIMEOUT}
                                                    LABELS integration
                                                    SKIP_REGULAR_EXPRESSION "SKIP: ")
  endforeach()
endforeach()

# Thousands of connections and requests: keep them from running beside the other heavy cases.
foreach(t limits.connect_churn limits.slow_reader_paused limits.garbage_input)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK heavy)
  endif()
endforeach()
