# cgroup v2 delegation: the test moves itself into a fresh cgroup so that its
# corrald finds one delegated to it; it skips (saying why) where the machine
# has no writable cgroup v2 hierarchy or the test is not root.
add_executable(test_cgroup ${CMAKE_CURRENT_LIST_DIR}/test_cgroup.c)
target_link_libraries(test_cgroup PRIVATE corral_harness)
add_test(NAME cgroup.terminate_kills_escaped_grandchild
         COMMAND test_cgroup terminate_kills_escaped_grandchild)
set_tests_properties(cgroup.terminate_kills_escaped_grandchild PROPERTIES
  TIMEOUT 120 LABELS integration SKIP_REGULAR_EXPRESSION "SKIP: ")
