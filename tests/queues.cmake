# Queue tests: blocking put/get, reliable delivery, durability and
# consuming pools, every case against a real corrald on a private socket
# with its own --state-dir.
#
# Each test_<area>.c lists its cases as TEST_CASE(name) lines; each case is
# its own CTest test "<area>.<name>". q_job is the child the daemon runs (a
# supervised reservation holder, a consuming pool's handler); q_support
# adds msgpack-packed queue calls and raw waiting requests to the harness.

add_executable(corral_q_job ${CMAKE_CURRENT_LIST_DIR}/q_job.c)
set_target_properties(corral_q_job PROPERTIES OUTPUT_NAME q_job)
target_link_libraries(corral_q_job PRIVATE corral PkgConfig::MSGPACK)

add_library(corral_q_support STATIC ${CMAKE_CURRENT_LIST_DIR}/q_support.c)
target_include_directories(corral_q_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(corral_q_support PUBLIC Q_JOB_PATH="$<TARGET_FILE:corral_q_job>")
target_link_libraries(corral_q_support PUBLIC corral_harness)
add_dependencies(corral_q_support corral_q_job)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_Q_TIMEOUT 120)

foreach(area queue durable consume)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_q_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # clang-format may put several TEST_CASE(...) on one line: match across the file.
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" cases "${text}")
  foreach(line IN LISTS cases)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${line}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_Q_TIMEOUT}
                                                    LABELS integration)
  endforeach()
endforeach()

# Without root (or without mount) the disk-full case prints "SKIP: why".
if(TEST durable.disk_full)
  set_tests_properties(durable.disk_full PROPERTIES SKIP_REGULAR_EXPRESSION "SKIP: ")
endif()
# A thousand jobs: keep them from running beside the other heavy cases.
if(TEST consume.pool_1000)
  set_tests_properties(consume.pool_1000 PROPERTIES RESOURCE_LOCK heavy)
endif()
