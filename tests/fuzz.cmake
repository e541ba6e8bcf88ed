# Fuzz targets for proto/'s decoders.
#
# Always: replay drivers that run the fuzz targets over the saved corpus
# (seeds and past crashes) as ordinary tests, with any compiler.
# With clang and -DCORRAL_FUZZ=ON: the libFuzzer binaries fuzz_reader and
# fuzz_params, built with their own instrumented copy of proto/ so that
# libFuzzer sees coverage inside it. Regenerate seeds with
# tests/fuzz/make_corpus.py.
option(CORRAL_FUZZ "Build libFuzzer targets (needs clang)" OFF)

set(FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
foreach(target reader params)
  add_executable(fuzz_replay_${target} ${FUZZ_DIR}/fuzz_${target}.c ${FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_replay_${target} PRIVATE corral_proto m)
  add_test(NAME fuzz_replay_${target}
           COMMAND fuzz_replay_${target} ${FUZZ_DIR}/corpus/${target})
endforeach()

if(CORRAL_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(WARNING "CORRAL_FUZZ needs clang (CC=clang); fuzz targets not built")
  else()
    set(FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
                   -fno-omit-frame-pointer)
    foreach(target reader params)
      add_executable(fuzz_${target} ${FUZZ_DIR}/fuzz_${target}.c ${PROTO_SOURCES})
      target_include_directories(fuzz_${target} PRIVATE ${CMAKE_SOURCE_DIR}/proto)
      target_link_libraries(fuzz_${target} PRIVATE PkgConfig::MSGPACK m)
      target_compile_options(fuzz_${target} PRIVATE ${FUZZ_FLAGS})
      target_link_options(fuzz_${target} PRIVATE ${FUZZ_FLAGS})
    endforeach()
  endif()
endif()
