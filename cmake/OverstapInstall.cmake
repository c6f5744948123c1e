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
#   ${CMAKE_INSTALL_MANDIR}/man{1,5,8}/*.gz  (docs/CMakeLists.txt)
#   ${CMAKE_INSTALL_DOCDIR}/  README.Debian (the administrator's guide),
#       README.systemd.md, copyright, changelog.gz, report-json.md,
#       report-schema.json, web.conf.example (web/CMakeLists.txt),
#       examples/ (docs/examples: docs/CMakeLists.txt)
# The documentation is the same with or without the package, so that a
# cmake install and the .deb have one layout (install_tree checks both).
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
# The project names no address of its own yet (see README.md): this role
# address is the default; set the real one with -DOVERSTAP_DEB_MAINTAINER=.
# It goes in the Maintainer field, the changelog and the copyright file.
set(OVERSTAP_DEB_MAINTAINER "overstap maintainers <overstap@lists.example.nl>" CACHE STRING
    "Maintainer of the Debian package: \"Name <address>\"")
message(STATUS "Debian package maintainer: ${OVERSTAP_DEB_MAINTAINER} (OVERSTAP_DEB_MAINTAINER)")

install(TARGETS overstapd DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS overstap DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/overstap.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME overstap)
install(FILES systemd/overstap.sysusers DESTINATION ${OVERSTAP_SYSUSERSDIR} RENAME overstap.conf)

# ---- documentation: for the administrator, not the developer ----------------
# README.md starts from the source tree (scripts/demo, building the package)
# and HACKING.md is the developer's: neither is installed. README.Debian is
# the installed guide, with the man pages and the examples.
set(OVERSTAP_DOC_GEN ${CMAKE_CURRENT_BINARY_DIR}/doc-gen)
# The copyright file (machine-readable, DEP-5) and the changelog name the
# maintainer. The changelog is a native package's (no Debian revision):
# changelog.gz, gzip -9n as dh_compress does it.
configure_file(cmake/deb/copyright.in ${OVERSTAP_DOC_GEN}/copyright @ONLY)
configure_file(cmake/deb/changelog.in ${OVERSTAP_DOC_GEN}/changelog @ONLY)
execute_process(COMMAND gzip -9n -c ${OVERSTAP_DOC_GEN}/changelog
                OUTPUT_FILE ${OVERSTAP_DOC_GEN}/changelog.gz RESULT_VARIABLE overstap_gzip_rc)
if(NOT overstap_gzip_rc EQUAL 0)
  message(FATAL_ERROR "gzip -9n of the changelog failed: ${overstap_gzip_rc}")
endif()
file(STRINGS cmake/deb/changelog.in overstap_changelog_top LIMIT_COUNT 1)
if(NOT overstap_changelog_top MATCHES "^overstap \\(${PROJECT_VERSION}\\) ")
  message(WARNING "cmake/deb/changelog.in does not start with version ${PROJECT_VERSION}: "
                  "add an entry for it (install_deb fails until then)")
endif()
install(FILES ${OVERSTAP_DOC_GEN}/copyright ${OVERSTAP_DOC_GEN}/changelog.gz
              cmake/deb/README.Debian docs/report-json.md docs/report-schema.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES systemd/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME README.systemd.md)
# The example import files go to ${CMAKE_INSTALL_DOCDIR}/examples from
# docs/CMakeLists.txt, which installs them once.
# The unit, the tmpfiles.d snippet and the example config: their contents or
# destination depend on the prefix in use at install time.
configure_file(cmake/install_generated.cmake.in install_generated.cmake @ONLY)
install(SCRIPT ${CMAKE_CURRENT_BINARY_DIR}/install_generated.cmake)

# ---- Debian package ----------------------------------------------------------
set(OVERSTAP_DEB_PREFIX /usr)
set(OVERSTAP_DEB_BINDIR ${OVERSTAP_DEB_PREFIX}/${CMAKE_INSTALL_BINDIR})
set(OVERSTAP_DEB_SBINDIR ${OVERSTAP_DEB_PREFIX}/${CMAKE_INSTALL_SBINDIR})
set(OVERSTAP_PLACEHOLDER_ID 99XX00)	# CONFIG_PLACEHOLDER_ID in daemon/config.h
set(OVERSTAP_DEB_DOCDIR ${OVERSTAP_DEB_PREFIX}/${CMAKE_INSTALL_DOCDIR})
set(OVERSTAP_DEB_CONFIG_FILE /etc/overstap/overstapd.conf)
set(OVERSTAP_DEB_DIR ${CMAKE_CURRENT_BINARY_DIR}/deb)
configure_file(cmake/deb/postinst.in ${OVERSTAP_DEB_DIR}/postinst @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
configure_file(cmake/deb/config ${OVERSTAP_DEB_DIR}/config COPYONLY)
configure_file(cmake/deb/templates ${OVERSTAP_DEB_DIR}/templates COPYONLY)
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
(overstapd.service) and an example configuration in /etc/overstap. The
daemon starts once the institution id has been set there.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Libraries from dpkg-shlibdeps; the tools the maintainer scripts run
# (deb-systemd-helper and -invoke come from init-system-helpers).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "systemd-sysusers, systemd-tmpfiles, init-system-helpers (>= 1.54~), debconf (>= 0.5) | debconf-2.0")
# The Dutch catalog (share/locale/nl) speaks only where a Dutch locale is
# generated, which takes the locales package; the daemon itself needs none
# (C.UTF-8 is built into libc, design.md §10).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "locales")
# config and templates: debconf's purge question (cmake/deb/templates).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${OVERSTAP_DEB_DIR}/config;${OVERSTAP_DEB_DIR}/templates;${OVERSTAP_DEB_DIR}/postinst;${OVERSTAP_DEB_DIR}/prerm;${OVERSTAP_DEB_DIR}/postrm;${OVERSTAP_DEB_DIR}/conffiles")
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
