# cmake --install, in two components (the two Debian packages of cmake/package.cmake):
# - runtime: the binary, the shipped scenarios (their schema with them), the man page, bash
#   completion, the docs, LICENSE, CHANGELOG.md, the examples, and the pytest plugin's source;
# - development: the fixture library with the layers it needs, their headers and a package
#   config, so another CMake project says find_package(fortisim) and links fortisim::fixture (or
#   fortisim::client).
# Standard places (GNUInstallDirs): bin/, share/fortisim/, share/man/man1/,
# share/bash-completion/completions/, share/doc/fortisim/, lib/, include/fortisim/,
# lib/cmake/fortisim/.
include(CMakePackageConfigHelpers)

install(TARGETS fortisim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(DIRECTORY scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/fortisim/scenarios COMPONENT runtime
  FILES_MATCHING PATTERN "*.json")
install(FILES ${PROJECT_BINARY_DIR}/fortisim.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT runtime)
install(FILES packaging/fortisim.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME fortisim COMPONENT runtime)
install(FILES README.md LICENSE CHANGELOG.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
# Debian's place for the licence, which slim images keep when they drop the other docs.
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT runtime)
install(FILES scenarios/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME scenarios.md COMPONENT runtime)
install(FILES certs/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME certs.md COMPONENT runtime)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT runtime
  PATTERN "*.env" EXCLUDE)
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT runtime
  PATTERN "__pycache__" EXCLUDE PATTERN ".pytest_cache" EXCLUDE)
# The plugin's source, for an install's user to copy and pip-install (README, "Installing").
install(DIRECTORY python/ DESTINATION ${CMAKE_INSTALL_DATADIR}/fortisim/python COMPONENT runtime
  PATTERN "__pycache__" EXCLUDE PATTERN "*.egg-info" EXCLUDE PATTERN "build" EXCLUDE)

# The libraries, under the names a consumer links: fortisim::fixture, fortisim::client, and the
# rooms below them (ARCHITECTURE.md).
set(fortisim_exported protocol pki scenario model observe engine control core asio io tls dns https admin
  server net client fixture)
foreach(name ${fortisim_exported})
  set_target_properties(fortisim_${name} PROPERTIES EXPORT_NAME ${name})
  list(APPEND fortisim_exported_targets fortisim_${name})
endforeach()
install(TARGETS ${fortisim_exported_targets} EXPORT fortisimTargets COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fortisim)
# Headers keep their spelling under include/fortisim/: "fixture/fixture.hpp", "protocol/…".
foreach(folder protocol pki server/core server/net client fixture)
  install(DIRECTORY ${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fortisim/${folder}
    COMPONENT development FILES_MATCHING PATTERN "*.hpp")
endforeach()

set(fortisim_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/fortisim)
# With FORTISIM_SHARED: libfortisim.so and its own export set, which find_package(fortisim
# COMPONENTS shared) reads without asking for any other dependency but nlohmann_json.
if(FORTISIM_SHARED)
  install(TARGETS fortisim_shared EXPORT fortisimSharedTargets COMPONENT development
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fortisim)
  install(EXPORT fortisimSharedTargets NAMESPACE fortisim:: DESTINATION ${fortisim_cmake_dir} COMPONENT development)
endif()
install(EXPORT fortisimTargets NAMESPACE fortisim:: DESTINATION ${fortisim_cmake_dir} COMPONENT development)
configure_package_config_file(cmake/fortisimConfig.cmake.in ${PROJECT_BINARY_DIR}/fortisimConfig.cmake
  INSTALL_DESTINATION ${fortisim_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fortisimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fortisimConfig.cmake ${PROJECT_BINARY_DIR}/fortisimConfigVersion.cmake
  DESTINATION ${fortisim_cmake_dir} COMPONENT development)
