# Fault and load tests: durable queues under kill -9 at random moments and
# on a state directory that turns read-only (test_fault.c); hundreds of
# concurrent clients and hostile ones (test_load.c). Every case starts its
# own corrald on a private socket with its own --state-dir.
#
# Each test_<area>.c lists its cases as TEST_CASE(name) lines; each case is
# its own CTest test "<area>.<name>". fault_support adds seeded randomness,
# /proc readings, calls for forked children and threads, and the small file
# systems (tmpfs, ext4 on a loop device) of the read-only cases.

if(NOT TARGET corral_q_support)
  message(STATUS "corral: queue test support missing, fault and load tests skipped")
  return()
endif()

find_package(Threads REQUIRED)

add_library(corral_fault_support STATIC ${CMAKE_CURRENT_LIST_DIR}/fault_support.c)
target_include_directories(corral_fault_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(corral_fault_support PUBLIC corral_q_support Threads::Threads)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_FAULT_TIMEOUT 120)

foreach(area fault load)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_fault_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # clang-format may put several TEST_CASE(...) on one line: match across the file.
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" cases "${text}")
  foreach(item IN LISTS cases)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${item}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_FAULT_TIMEOUT}
                                                    LABELS integration
                                                    SKIP_REGULAR_EXPRESSION "SKIP: ")
  endforeach()
endforeach()

# Heavy cases (many processes, connections or fsyncs): never beside the
# other heavy ones, so that their bounds hold on a small machine.
foreach(t fault.crash_rounds load.clients load.hostile_clients)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK heavy)
  endif()
endforeach()
