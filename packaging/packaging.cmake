# packaging.cmake -- what `cmake --install` puts where, the man pages, and
# the Debian package (`cpack -G DEB` in the build directory). Included by the
# top-level CMakeLists.txt once the targets exist.
#
# Paths are relative to the install prefix unless absolute: configure with
# -DCMAKE_INSTALL_PREFIX=/usr for a system install; the .deb always installs
# under /usr. The configuration lives in /etc/corral whatever the prefix,
# since that is where corrald looks for it.

set(CORRAL_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(CORRAL_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd units, relative to the prefix (or absolute)")
set(CORRAL_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING "sysusers.d(5) files")
set(CORRAL_TMPFILES_DIR "lib/tmpfiles.d" CACHE STRING "tmpfiles.d(5) files")
set(CORRAL_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" CACHE STRING
    "bash completions")
set(CORRAL_CONFIG_DIR "/etc/corral" CACHE PATH "corrald's configuration directory (absolute)")
set(CORRAL_DEB_MAINTAINER "corral maintainers <maintainers@corral.invalid>" CACHE STRING
    "the Maintainer field of the .deb")
set(CORRAL_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/corral)

# ---- Programs and the library ----
install(TARGETS corrald DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS corralctl DESTINATION ${CMAKE_INSTALL_BINDIR})
# libcorral.so.1.x.y, its SONAME link libcorral.so.1, the libcorral.so dev link.
install(TARGETS corral LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
                       PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# libcorral.pc names the prefix it is installed under, which is only known at
# install time (cpack installs under /usr whatever the build's prefix). Made
# in a directory of its own per destination: installs may run concurrently.
install(CODE "
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  set(MSGPACK_MODULE_NAME \"${MSGPACK_MODULE_NAME}\")
  set(CMAKE_INSTALL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CMAKE_INSTALL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  string(MD5 _dest \"\$ENV{DESTDIR}:\${CMAKE_INSTALL_PREFIX}\")
  set(_pc \"${CMAKE_BINARY_DIR}/packaging/pc/\${_dest}/libcorral.pc\")
  configure_file(\"${CMAKE_SOURCE_DIR}/client/libcorral.pc.in\" \"\${_pc}\" @ONLY)
  file(INSTALL \"\${_pc}\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")
")

# ---- systemd, the sample configuration, completion, documentation ----
install(FILES ${CORRAL_PACKAGING_DIR}/corrald.service ${CORRAL_PACKAGING_DIR}/corrald.socket
        DESTINATION ${CORRAL_SYSTEMD_UNIT_DIR})
install(FILES ${CORRAL_PACKAGING_DIR}/sysusers.d/corral.conf DESTINATION ${CORRAL_SYSUSERS_DIR})
install(FILES ${CORRAL_PACKAGING_DIR}/tmpfiles.d/corral.conf DESTINATION ${CORRAL_TMPFILES_DIR})
install(FILES ${CORRAL_PACKAGING_DIR}/bash-completion/corralctl
        DESTINATION ${CORRAL_BASH_COMPLETION_DIR})
install(FILES ${CORRAL_PACKAGING_DIR}/corrald.conf DESTINATION ${CORRAL_DOC_DIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/proto/PROTOCOL.md
        DESTINATION ${CORRAL_DOC_DIR})
# The live configuration: in the .deb a conffile (dpkg keeps local changes);
# `cmake --install` never overwrites one that exists.
# (file(INSTALL) adds $DESTDIR itself.)
install(CODE "
  if(EXISTS \"\$ENV{DESTDIR}${CORRAL_CONFIG_DIR}/corrald.conf\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}${CORRAL_CONFIG_DIR}/corrald.conf\")
  else()
    file(INSTALL \"${CORRAL_PACKAGING_DIR}/corrald.conf\" DESTINATION \"${CORRAL_CONFIG_DIR}\"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
")

# ---- Man pages: scdoc(1) sources into troff, when scdoc is there ----
find_program(CORRAL_SCDOC scdoc)
if(CORRAL_SCDOC)
  file(GLOB CORRAL_MAN_SOURCES CONFIGURE_DEPENDS ${CORRAL_PACKAGING_DIR}/man/*.scd)
  set(CORRAL_MAN_PAGES "")
  foreach(src ${CORRAL_MAN_SOURCES})
    get_filename_component(page ${src} NAME_WLE) # corrald.8
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    # man<section>/ below packaging/man: a MANPATH for tests and `man`.
    set(out ${CMAKE_BINARY_DIR}/packaging/man/man${section}/${page})
    add_custom_command(OUTPUT ${out}
                       COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging/man/man${section}
                       COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${CORRAL_SCDOC} ${src} ${out}
                       DEPENDS ${src}
                       COMMENT "scdoc ${page}"
                       VERBATIM)
    list(APPEND CORRAL_MAN_PAGES ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${CORRAL_MAN_PAGES})
else()
  message(STATUS "scdoc not found: the man pages are not built or installed "
                 "(Debian package scdoc)")
endif()

# ---- The Debian package ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME corral)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR corral)
set(CPACK_PACKAGE_CONTACT ${CORRAL_DEB_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "process supervisor daemon with pools and queues")
# /etc/corral is outside the prefix: stage with DESTDIR, under /usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # corral_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CORRAL_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "process supervisor daemon with pools and queues
corrald starts, supervises, restarts and stops processes for its clients,
which drive it over a Unix socket with MessagePack-RPC: named process pools
with replicas and restart policies, and reliable message queues with an
optional durable log. This package holds corrald with its systemd units,
corralctl, and the libcorral C client library.")
# Depends: computed by dpkg-shlibdeps (package dpkg-dev) from the binaries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file for libcorral.so.1, and the ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
configure_file(${CORRAL_PACKAGING_DIR}/debian/conffiles.in
               ${CMAKE_BINARY_DIR}/packaging/debian/conffiles @ONLY)
# triggers: ldconfig runs after libcorral.so.1 comes or goes (CPack would
# add that to its own postinst/postrm, not to ours).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/debian/conffiles
    ${CORRAL_PACKAGING_DIR}/debian/triggers
    ${CORRAL_PACKAGING_DIR}/debian/postinst
    ${CORRAL_PACKAGING_DIR}/debian/prerm
    ${CORRAL_PACKAGING_DIR}/debian/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
