# Fuzz targets for proto/'s decoders, the configuration file parser and a
# durable queue's log replay.
#
# Always: replay drivers that run the fuzz targets over the saved corpus
# (seeds and past crashes) as ordinary tests, with any compiler.
# With clang and -DCORRAL_FUZZ=ON: the libFuzzer binaries fuzz_reader,
# fuzz_params, fuzz_config and fuzz_log_replay, built with their own
# instrumented copy of proto/ (and of the daemon files they test) so that
# libFuzzer sees coverage inside it. Regenerate seeds with
# tests/fuzz/make_corpus.py (reader, params) and tests/fuzz/make_log_corpus.py
# (log_replay); the config seeds are written by hand.
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
#
# NOTE FOR THE LEAD: the corpus holds crash-* regressions of daemon bugs
# found by these targets; fuzz_replay_config and fuzz_replay_log_replay
# fail until they are fixed: config/crash-command-backslash-nul
# (config.c config_words(): heap overflow), log_replay/crash-ack-short-record-at-end
# and seed-ack-wrong-size (queue-log.c qlog_decode(): over-read, ASan),
# log_replay/crash-next-id-wraps (queue-restore.c queue_replay(): next_id
# wraps to 0, new ids collide with live messages).
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
                            ${FUZZ_DAEMON}/syncer.c
                            ${FUZZ_DAEMON}/log.c ${FUZZ_DAEMON}/xmalloc.c)
set(FUZZ_log_replay_LIBS PkgConfig::LIBEVENT PkgConfig::ZLIB Threads::Threads)
foreach(target config log_replay)
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
    foreach(target config log_replay)
      add_executable(fuzz_${target} ${FUZZ_DIR}/fuzz_${target}.c ${PROTO_SOURCES}
                                    ${FUZZ_${target}_SOURCES})
      target_include_directories(fuzz_${target} PRIVATE ${CMAKE_SOURCE_DIR}/proto ${FUZZ_DAEMON})
      target_link_libraries(fuzz_${target} PRIVATE PkgConfig::MSGPACK ${FUZZ_${target}_LIBS} m)
      target_compile_options(fuzz_${target} PRIVATE ${FUZZ_CFLAGS})
      target_link_options(fuzz_${target} PRIVATE ${FUZZ_FLAGS})
    endforeach()
  endif()
endif()
