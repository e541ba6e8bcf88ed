# corral-bench: the benchmark program (scripts/bench runs it). Built with the
# project so that it keeps compiling, but never registered with CTest: its
# timings have nothing to do in the test suite.
file(GLOB BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
add_executable(corral-bench ${BENCH_SOURCES})
target_include_directories(corral-bench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(corral-bench PRIVATE corral_proto PkgConfig::MSGPACK PkgConfig::JANSSON m)
# The supervised program of the restart scenario: libc only, so that its
# exec is cheap and the same under every supervisor measured.
add_executable(corral-bench-child ${CMAKE_CURRENT_LIST_DIR}/child/ready-child.c)
add_dependencies(corral-bench corral-bench-child)
target_compile_definitions(corral-bench PRIVATE
  CORRALD_PATH="$<TARGET_FILE:corrald>"
  CORRALCTL_PATH="$<TARGET_FILE:corralctl>"
  READY_CHILD_PATH="$<TARGET_FILE:corral-bench-child>"
  BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
# No add_dependencies(corrald, corralctl): the bench must still build while the
# daemon or the client is mid-change; scripts/bench builds all three targets.
