# corral-bench: the benchmark program (scripts/bench runs it). Built with the
# project so that it keeps compiling, but never registered with CTest: its
# timings have nothing to do in the test suite.
file(GLOB BENCH_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
add_executable(corral-bench ${BENCH_SOURCES})
target_include_directories(corral-bench PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(corral-bench PRIVATE corral_proto PkgConfig::MSGPACK PkgConfig::JANSSON m)
target_compile_definitions(corral-bench PRIVATE
  CORRALD_PATH="$<TARGET_FILE:corrald>"
  BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
# The daemon under test is built whenever the bench is.
add_dependencies(corral-bench corrald)
