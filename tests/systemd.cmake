# systemd and configuration tests: the sd_notify protocol, the watchdog,
# socket activation and journald prefixes (test_systemd.c); the
# configuration file, --check-config, start-up, conf.d, reloads and pool
# privileges (test_config.c). Every case runs against a real corrald on a
# private socket and is its own CTest test "<area>.<name>".
#
# cfg_child is the child that reports what corrald set up for it;
# cfg_support adds a notification socket, launchers and reload helpers to
# the integration harness. A case that cannot run here (not root, no
# systemd-socket-activate, no unit files yet) exits 77: CTest shows it as
# skipped, with the reason in its output.

add_executable(corral_cfg_child ${CMAKE_CURRENT_LIST_DIR}/cfg_child.c)
set_target_properties(corral_cfg_child PROPERTIES OUTPUT_NAME cfg_child)

add_library(corral_cfg_support STATIC ${CMAKE_CURRENT_LIST_DIR}/cfg_support.c)
target_include_directories(corral_cfg_support PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(corral_cfg_support PUBLIC
  CFG_CHILD_PATH="$<TARGET_FILE:corral_cfg_child>"
  SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(corral_cfg_support PUBLIC corral_harness)
add_dependencies(corral_cfg_support corral_cfg_child)

# Longer than the harness's own alarm guard (100 s), so that a hung case is
# cleaned up by the harness (daemon, children, orphans) before CTest kills it.
set(CORRAL_CFG_TIMEOUT 120)

foreach(area systemd config)
  set(src ${CMAKE_CURRENT_LIST_DIR}/test_${area}.c)
  if(NOT EXISTS ${src})
    continue()
  endif()
  add_executable(test_${area} ${src})
  target_link_libraries(test_${area} PRIVATE corral_cfg_support)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  file(STRINGS ${src} lines REGEX "^[ \t]*TEST_CASE\\([a-z0-9_]+\\)")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*TEST_CASE\\(([a-z0-9_]+)\\).*" "\\1" name "${line}")
    add_test(NAME ${area}.${name} COMMAND test_${area} ${name})
    set_tests_properties(${area}.${name} PROPERTIES TIMEOUT ${CORRAL_CFG_TIMEOUT}
                                                    LABELS integration
                                                    SKIP_RETURN_CODE 77)
  endforeach()
endforeach()

# Timing-sensitive (bounds only, but a starved machine makes them slow):
# keep them from running beside the heavy cases.
foreach(t systemd.watchdog systemd.notify_status)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK heavy)
  endif()
endforeach()

# The unit files, checked by systemd-analyze verify (skipped, with the
# reason, when packaging/corrald.service or systemd-analyze is missing).
add_test(NAME systemd.units_verify
         COMMAND /bin/sh ${CMAKE_CURRENT_LIST_DIR}/units.sh ${CMAKE_SOURCE_DIR}/packaging
                 $<TARGET_FILE:corrald>)
set_tests_properties(systemd.units_verify PROPERTIES TIMEOUT 60 LABELS integration
                                                     SKIP_RETURN_CODE 77)
