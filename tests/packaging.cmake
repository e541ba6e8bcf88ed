# packaging.cmake -- tests of packaging/ (tests/test_packaging.sh): the
# systemd units, the sample configuration, the man pages, the bash completion
# and the .deb. A test that cannot run here (a missing tool) is skipped with
# its reason printed (exit 77); the .deb is installed into the real system
# only as root with CORRAL_TEST_DPKG_INSTALL=1 or CI=true.
set(CORRAL_PACKAGING_TEST_ENV
    SRC=${CMAKE_SOURCE_DIR}
    BUILD=${CMAKE_BINARY_DIR}
    CORRALD=$<TARGET_FILE:corrald>
    CORRALCTL=$<TARGET_FILE:corralctl>
    CPACK=${CMAKE_CPACK_COMMAND})
if(CORRAL_SCDOC)
  list(APPEND CORRAL_PACKAGING_TEST_ENV MANDIR=${CMAKE_BINARY_DIR}/packaging/man)
endif()

foreach(t units config man completion deb)
  add_test(NAME packaging.${t}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_packaging.sh ${t})
  set_tests_properties(packaging.${t} PROPERTIES
                       ENVIRONMENT "${CORRAL_PACKAGING_TEST_ENV}"
                       SKIP_RETURN_CODE 77
                       TIMEOUT 120
                       LABELS packaging)
endforeach()
# cpack, and with CORRAL_TEST_DPKG_INSTALL=1 dpkg -i and --purge (man-db's
# trigger may take a while).
set_tests_properties(packaging.deb PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
