# The Debian packages, made by `cpack -G DEB` in a build folder (scripts/package.sh):
#   fortisim_<version>_<arch>.deb      the runtime component of cmake/install.cmake: the binary,
#                                      scenarios, man page, completion, docs, examples
#   fortisim-dev_<version>_<arch>.deb  the development component: the fixture's libraries,
#                                      headers and CMake package config
# Each package's dependencies come from scripts/packages.txt, the one list: fortisim depends on
# its "run" packages, fortisim-dev on fortisim and the "build" ones (the libraries are static, so a
# consumer links their dependencies too). The version is project()'s, as `fortisim --version` says.
file(STRINGS ${PROJECT_SOURCE_DIR}/scripts/packages.txt fortisim_package_lines REGEX "^[a-z0-9]")
foreach(line ${fortisim_package_lines})
  if(line MATCHES "^([^ ]+) +(run|build) ")
    list(APPEND fortisim_depends_${CMAKE_MATCH_2} ${CMAKE_MATCH_1})
  endif()
endforeach()
list(JOIN fortisim_depends_run ", " fortisim_runtime_depends)
list(JOIN fortisim_depends_build ", " fortisim_development_depends)

# cpack (and `make install`) build nothing first: scripts/package.sh builds, then packages what
# is there, so a package test running beside other tests never starts a build.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fortisim)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "fortisim developers <fortisim@fortisim.invalid>")
# Each package's description: its first line is the synopsis (no CPACK_PACKAGE_DESCRIPTION_SUMMARY,
# which CPack would put before it again).
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME fortisim)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "${fortisim_runtime_depends}")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "simulator of Fortinet's FortiToken activation service, for labs and tests
fortisim answers FortiGates and the FortiToken Mobile app as Fortinet's activation
service does, over HTTPS, from scenario files that describe the world and inject
failures at every layer. It has a control API, a web console, a DNS responder, its
own lab CA, and a client that speaks the protocol.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME fortisim-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "fortisim (= ${PROJECT_VERSION}), ${fortisim_development_depends}")
set(CPACK_COMPONENT_DEVELOPMENT_DESCRIPTION "fortisim as a test fixture for C++ projects
find_package(fortisim) and link fortisim::fixture (static libraries) to start
fortisim in a test and steer it through its control API; fortisim::client speaks
the protocol. With libfortisim.so (a build with FORTISIM_SHARED, as this
package's), find_package(fortisim COMPONENTS shared) and fortisim::shared need
nlohmann-json3-dev alone. examples/cpp-fixture in fortisim's docs also needs
doctest-dev.")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SUGGESTS doctest-dev)
# libfortisim.so: dpkg runs ldconfig when the package comes or goes.
file(WRITE ${PROJECT_BINARY_DIR}/deb-dev/triggers "activate-noawait ldconfig\n")  # dpkg wants that name
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/deb-dev/triggers)
include(CPack)
