# Install layout, the Debian package (cpack -G DEB) and the tests of both.
# Included at the end of the top-level CMakeLists.txt.
#
#   cmake --install build --prefix P     binaries, unit, sysusers.d, tmpfiles.d,
#                                        example config, man pages, docs under P
#   cd build && cpack -G DEB             overstap_<version>_<arch>.deb (prefix /usr)
#
# Where things go (relative directories are relative to the install prefix):
#   ${CMAKE_INSTALL_SBINDIR}/overstapd, ${CMAKE_INSTALL_BINDIR}/overstap
#   ${OVERSTAP_SYSTEMD_UNITDIR}/overstapd.service
#   ${OVERSTAP_SYSUSERSDIR}/overstap.conf, ${OVERSTAP_TMPFILESDIR}/overstap.conf
#   ${CMAKE_INSTALL_SYSCONFDIR}/overstap/overstapd.conf  (/etc/overstap/ for prefix /usr)
#   ${CMAKE_INSTALL_MANDIR}/man{1,5,8}/  (docs/CMakeLists.txt)
#   ${CMAKE_INSTALL_DOCDIR}/README.md, README.systemd.md
include(GNUInstallDirs)

# Not CMAKE_INSTALL_LIBDIR: that is lib/<multiarch> on Debian, and systemd
# looks in lib/. Debian 12 searches both /lib/systemd/system and
# /usr/lib/systemd/system for units.
set(OVERSTAP_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "Directory for overstapd.service, relative to the install prefix or absolute")
set(OVERSTAP_SYSUSERSDIR "lib/sysusers.d" CACHE STRING
    "Directory for the sysusers.d snippet, relative to the install prefix or absolute")
set(OVERSTAP_TMPFILESDIR "lib/tmpfiles.d" CACHE STRING
    "Directory for the tmpfiles.d snippet, relative to the install prefix or absolute")
set(OVERSTAP_DEB_MAINTAINER "overstap maintainers <overstap@example.org>" CACHE STRING
    "Maintainer field of the Debian package")

install(TARGETS overstapd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS overstap DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/overstap.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME overstap)
install(FILES systemd/overstap.sysusers DESTINATION ${OVERSTAP_SYSUSERSDIR} RENAME overstap.conf)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES systemd/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME README.systemd.md)
# The unit, the tmpfiles.d snippet and the example config: their contents or
# destination depend on the prefix in use at install time.
configure_file(cmake/install_generated.cmake.in install_generated.cmake @ONLY)
install(SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/install_generated.cmake)

# ---- Debian package ----------------------------------------------------------
set(OVERSTAP_DEB_PREFIX /usr)
set(OVERSTAP_DEB_BINDIR ${OVERSTAP_DEB_PREFIX}/${CMAKE_INSTALL_BINDIR})
set(OVERSTAP_DEB_DOCDIR ${OVERSTAP_DEB_PREFIX}/${CMAKE_INSTALL_DOCDIR})
set(OVERSTAP_DEB_CONFIG_FILE /etc/overstap/overstapd.conf)
set(OVERSTAP_DEB_DIR ${CMAKE_CURRENT_BINARY_DIR}/deb)
configure_file(cmake/deb/postinst.in ${OVERSTAP_DEB_DIR}/postinst @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
configure_file(cmake/deb/prerm ${OVERSTAP_DEB_DIR}/prerm COPYONLY)
configure_file(cmake/deb/postrm ${OVERSTAP_DEB_DIR}/postrm COPYONLY)
configure_file(cmake/deb/conffiles.in ${OVERSTAP_DEB_DIR}/conffiles @ONLY)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME overstap)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${OVERSTAP_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "warm handover of pupils' dossiers from school to MBO")
# The body; CPack puts the summary above it and indents it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "overstapd runs at one school or MBO institution and exchanges the dossiers
of pupils who move on directly with its counterparts, over CURVE-encrypted
ZeroMQ, after the pupil has registered and had inzage. overstap is the
command-line tool that staff and administrators use to talk to it.

The package adds the system user overstap, a hardened systemd unit
(overstapd.service) and an example configuration in /etc/overstap.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Libraries from dpkg-shlibdeps; the tools the maintainer scripts run.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd-sysusers, systemd-tmpfiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${OVERSTAP_DEB_DIR}/postinst;${OVERSTAP_DEB_DIR}/prerm;${OVERSTAP_DEB_DIR}/postrm;${OVERSTAP_DEB_DIR}/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# DESTDIR staging with the real prefix, so that install_generated.cmake sees
# /usr (and puts the configuration in /etc).
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${OVERSTAP_DEB_PREFIX})
set(CPACK_INSTALL_PREFIX ${OVERSTAP_DEB_PREFIX})
set(CPACK_STRIP_FILES TRUE)
include(CPack)

# ---- tests: ctest -R install ---------------------------------------------------
set(OVERSTAP_INSTALL_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/tests/install)
add_test(NAME install_tree
         COMMAND ${OVERSTAP_INSTALL_TESTS}/test_install.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
add_test(NAME install_sandbox
         COMMAND ${OVERSTAP_INSTALL_TESTS}/test_sandbox.py ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
add_test(NAME install_deb
         COMMAND ${OVERSTAP_INSTALL_TESTS}/test_deb.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
# Installs the package on this machine: only as root and with OVERSTAP_TEST_DPKG=1.
add_test(NAME install_dpkg
         COMMAND ${OVERSTAP_INSTALL_TESTS}/test_dpkg.sh ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(install_tree install_sandbox install_deb install_dpkg PROPERTIES
                     LABELS install TIMEOUT 600)
set_tests_properties(install_dpkg PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
