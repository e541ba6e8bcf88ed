# Supervision tests: restart policies, readiness, pools, dependencies and
# events, every case against a real corrald on a private socket.
#
# Each test_<area>.c lists its cases as TEST_CASE(name) lines; each case is
# its own CTest test "<area>.<name>". svc_helper is the supervised child
# (crashing, notifying, waiting services); sv_support adds json_pack-built
# calls and event streams to the integration harness.

add_executable(corral_svc_helper ${CMAKE_CURRENT_LIST_DIR}/svc_helper.c)
set_target_properties(corral_svc_helper PROPERTIES OUTPUT_NAME svc_helper)
target_link_libraries(corral_svc_helper PRIVATE PkgConfig::SYSTEMD)

add_library(corral_sv_support STATIC ${CMAKE_CURRENT_LIST_DIR}/sv_support.c)
target_include_directories(corral_sv_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(corral_sv_support PUBLIC
  SVC_HELPER_PATH="$<TARGET_FILE:corral_svc_helper>")
target_link_libraries(corral_sv_support PUBLIC corral_harness PkgConfig::JANSSON)
add_dependencies(corral_sv_support corral_svc_helper)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_SV_TIMEOUT 120)

foreach(area supervise pool events)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_sv_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  # clang-format may put several TEST_CASE(...) on one line: match across the file.
  file(READ ${src} text)
  string(REGEX MATCHALL "TEST_CASE\\([a-z0-9_]+\\)" cases "${text}")
  foreach(line IN LISTS cases)
    string(REGEX REPLACE "TEST_CASE\\(([a-z0-9_]+)\\)" "\\1" name "${line}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_SV_TIMEOUT}
                                                    LABELS integration)
  endforeach()
endforeach()

# Floods the daemon with events: keep it from running beside the other heavy cases.
if(TEST events.slow_subscriber)
  set_tests_properties(events.slow_subscriber PROPERTIES RESOURCE_LOCK heavy)
endif()
