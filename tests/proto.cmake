# Unit tests of proto/: the codec, the reader's limits and the params decoder.
add_executable(test_proto ${CMAKE_CURRENT_SOURCE_DIR}/test_proto.c)
target_link_libraries(test_proto PRIVATE corral_proto)
add_test(NAME proto COMMAND test_proto)
