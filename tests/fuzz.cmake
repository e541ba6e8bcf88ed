# Fuzz targets for proto/'s decoders, the configuration file parser, a
# durable queue's log replay, and the whole request path of the daemon.
#
# Always: replay drivers (fuzz_replay_*) that run the fuzz targets over the
# saved corpus tests/fuzz/corpus/TARGET/ (seeds and past crashes) as
# ordinary tests, with any compiler.
# With clang and -DCORRAL_FUZZ=ON: the libFuzzer binaries fuzz_reader,
# fuzz_params, fuzz_config, fuzz_log_replay and fuzz_request (target
# `fuzzers` builds them all), built with their own instrumented copy of
# proto/ (and of the daemon files they test) so that libFuzzer sees
# coverage inside it; and the tests fuzz_run_TARGET (label `fuzz`), each
# fuzzing a copy of its corpus for CORRAL_FUZZ_SECONDS (scripts/test runs
# them; scripts/fuzz runs one for longer). Regenerate seeds with
# tests/fuzz/make_corpus.py (reader, params), tests/fuzz/make_log_corpus.py
# (log_replay) and tests/fuzz/make_request_corpus.py (request); the config
# seeds are written by hand.
option(CORRAL_FUZZ "Build libFuzzer targets (needs clang)" OFF)

set(FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
foreach(target reader params)
  add_executable(fuzz_replay_${target} ${FUZZ_DIR}/fuzz_${target}.c ${FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_replay_${target} PRIVATE corral_proto m)
  add_test(NAME fuzz_replay_${target}
           COMMAND fuzz_replay_${target} ${FUZZ_DIR}/corpus/${target})
endforeach()

# Targets over daemon/ code: the daemon files each one links (no main()).
# fuzz_log_replay stubs the daemon around the queue code (requests,
# connections, events, pools, process table): see its header.
# fuzz_request links the whole daemon but main() (corrald.c), with
# tests/fuzz/mock_spawn.c instead of spawn.c: no real process is started.
set(FUZZ_DAEMON ${CMAKE_SOURCE_DIR}/daemon)
set(FUZZ_config_SOURCES ${FUZZ_DAEMON}/config.c ${FUZZ_DAEMON}/access.c ${FUZZ_DAEMON}/log.c
                        ${FUZZ_DAEMON}/xmalloc.c)
if(EXISTS ${FUZZ_DAEMON}/strv.c)
  list(APPEND FUZZ_config_SOURCES ${FUZZ_DAEMON}/strv.c)
endif()
set(FUZZ_config_LIBS PkgConfig::INIH PkgConfig::LIBEVENT)
set(FUZZ_log_replay_SOURCES ${FUZZ_DAEMON}/queue.c ${FUZZ_DAEMON}/queue-io.c
                            ${FUZZ_DAEMON}/queue-reserve.c ${FUZZ_DAEMON}/queue-restore.c
                            ${FUZZ_DAEMON}/queue-log.c ${FUZZ_DAEMON}/heap.c ${FUZZ_DAEMON}/timer.c
                            ${FUZZ_DAEMON}/qready.c
                            ${FUZZ_DAEMON}/syncer.c
                            ${FUZZ_DAEMON}/log.c ${FUZZ_DAEMON}/xmalloc.c)
set(FUZZ_log_replay_LIBS PkgConfig::LIBEVENT PkgConfig::ZLIB Threads::Threads)
file(GLOB FUZZ_request_SOURCES CONFIGURE_DEPENDS ${FUZZ_DAEMON}/*.c)
list(REMOVE_ITEM FUZZ_request_SOURCES ${FUZZ_DAEMON}/corrald.c ${FUZZ_DAEMON}/spawn.c)
list(APPEND FUZZ_request_SOURCES ${FUZZ_DIR}/mock_spawn.c)
set(FUZZ_request_LIBS PkgConfig::LIBEVENT PkgConfig::SYSTEMD PkgConfig::ZLIB PkgConfig::INIH
                      Threads::Threads)
foreach(target config log_replay request)
  add_executable(fuzz_replay_${target} ${FUZZ_DIR}/fuzz_${target}.c ${FUZZ_DIR}/replay_main.c
                                       ${FUZZ_${target}_SOURCES})
  target_include_directories(fuzz_replay_${target} PRIVATE ${FUZZ_DAEMON})
  target_link_libraries(fuzz_replay_${target} PRIVATE corral_proto ${FUZZ_${target}_LIBS} m)
  add_test(NAME fuzz_replay_${target}
           COMMAND fuzz_replay_${target} ${FUZZ_DIR}/corpus/${target})
endforeach()

if(CORRAL_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(WARNING "CORRAL_FUZZ needs clang (CC=clang); fuzz targets not built")
  else()
    set(FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer)
    # proto/arena.c's struct proto_arena puts a flexible-array struct before
    # more members (a GNU extension gcc accepts): clang's -Werror refuses it.
    # daemon/log.c formats through a va_list helper clang wants marked format(printf).
    set(FUZZ_CFLAGS ${FUZZ_FLAGS} -Wno-gnu-variable-sized-type-not-at-end -Wno-format-nonliteral)
    foreach(target reader params)
      add_executable(fuzz_${target} ${FUZZ_DIR}/fuzz_${target}.c ${PROTO_SOURCES})
      target_include_directories(fuzz_${target} PRIVATE ${CMAKE_SOURCE_DIR}/proto)
      target_link_libraries(fuzz_${target} PRIVATE PkgConfig::MSGPACK m)
      target_compile_options(fuzz_${target} PRIVATE ${FUZZ_CFLAGS})
      target_link_options(fuzz_${target} PRIVATE ${FUZZ_FLAGS})
    endforeach()
    foreach(target config log_replay request)
      add_executable(fuzz_${target} ${FUZZ_DIR}/fuzz_${target}.c ${PROTO_SOURCES}
                                    ${FUZZ_${target}_SOURCES})
      target_include_directories(fuzz_${target} PRIVATE ${CMAKE_SOURCE_DIR}/proto ${FUZZ_DAEMON})
      target_link_libraries(fuzz_${target} PRIVATE PkgConfig::MSGPACK ${FUZZ_${target}_LIBS} m)
      target_compile_options(fuzz_${target} PRIVATE ${FUZZ_CFLAGS})
      target_link_options(fuzz_${target} PRIVATE ${FUZZ_FLAGS})
    endforeach()

    # Brief fuzzing as tests: each target over a copy of its corpus (the
    # repository's stays as it is), failing on any crash, leak or timeout
    # and naming the saved input. `ctest -L fuzz -j N` runs them side by side.
    if(DEFINED ENV{CORRAL_FUZZ_SECONDS})
      set(_fuzz_seconds_default $ENV{CORRAL_FUZZ_SECONDS})
    else()
      set(_fuzz_seconds_default 20)
    endif()
    set(CORRAL_FUZZ_SECONDS ${_fuzz_seconds_default}
        CACHE STRING "Seconds each fuzz_run_TARGET test fuzzes")
    set(FUZZ_TARGETS reader params config log_replay request)
    add_custom_target(fuzzers)
    foreach(target ${FUZZ_TARGETS})
      add_dependencies(fuzzers fuzz_${target})
      add_test(NAME fuzz_run_${target}
               COMMAND ${CMAKE_SOURCE_DIR}/scripts/fuzz --binary $<TARGET_FILE:fuzz_${target}>
                       --work ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${target}
                       ${target} ${CORRAL_FUZZ_SECONDS})
      math(EXPR _fuzz_timeout "${CORRAL_FUZZ_SECONDS} * 2 + 120")
      set_tests_properties(fuzz_run_${target} PROPERTIES LABELS fuzz TIMEOUT ${_fuzz_timeout})
    endforeach()
  endif()
endif()
