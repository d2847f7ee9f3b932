# cmake --install: the binary, the shipped scenarios (their schema with them) and the docs, and
# the fixture library with the layers it needs, their headers and a package config, so another
# CMake project says find_package(fortisim) and links fortisim::fixture (or fortisim::client).
# Standard places (GNUInstallDirs): bin/, share/fortisim/, share/doc/fortisim/, lib/,
# include/fortisim/, lib/cmake/fortisim/.
include(CMakePackageConfigHelpers)

install(TARGETS fortisim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY scenarios/ DESTINATION ${CMAKE_INSTALL_DATADIR}/fortisim/scenarios
  FILES_MATCHING PATTERN "*.json")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES scenarios/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME scenarios.md)
install(FILES certs/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME certs.md)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# The libraries, under the names a consumer links: fortisim::fixture, fortisim::client, and the
# rooms below them (ARCHITECTURE.md).
set(fortisim_exported protocol pki scenario model observe engine control core asio io tls dns https admin
  server net client fixture)
foreach(name ${fortisim_exported})
  set_target_properties(fortisim_${name} PROPERTIES EXPORT_NAME ${name})
  list(APPEND fortisim_exported_targets fortisim_${name})
endforeach()
install(TARGETS ${fortisim_exported_targets} EXPORT fortisimTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fortisim)
# Headers keep their spelling under include/fortisim/: "fixture/fixture.hpp", "protocol/…".
foreach(folder protocol pki server/core server/net client fixture)
  install(DIRECTORY ${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fortisim/${folder}
    FILES_MATCHING PATTERN "*.hpp")
endforeach()

set(fortisim_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/fortisim)
install(EXPORT fortisimTargets NAMESPACE fortisim:: DESTINATION ${fortisim_cmake_dir})
configure_package_config_file(cmake/fortisimConfig.cmake.in ${PROJECT_BINARY_DIR}/fortisimConfig.cmake
  INSTALL_DESTINATION ${fortisim_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fortisimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fortisimConfig.cmake ${PROJECT_BINARY_DIR}/fortisimConfigVersion.cmake
  DESTINATION ${fortisim_cmake_dir})
