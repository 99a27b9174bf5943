# cmake/install.cmake — `cmake --install`: libattend (shared and static), the public headers,
# the CMake package (find_package(attend) -> attend::attend, the shared library; attend::attend_static
# when its dependencies are found) and the pkg-config file attend.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS attend_shared EXPORT attendTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS attend_core EXPORT attendStaticTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/attend DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(TARGETS attend RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(ATTEND_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/attend)
install(EXPORT attendTargets NAMESPACE attend:: DESTINATION ${ATTEND_CMAKE_DIR})
install(EXPORT attendStaticTargets NAMESPACE attend:: DESTINATION ${ATTEND_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/attendConfig.cmake.in
  ${PROJECT_BINARY_DIR}/attendConfig.cmake INSTALL_DESTINATION ${ATTEND_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/attendConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/attendConfig.cmake ${PROJECT_BINARY_DIR}/attendConfigVersion.cmake
  DESTINATION ${ATTEND_CMAKE_DIR})

# pkg-config: `pkg-config --cflags --libs attend` links the shared library; `--static` adds
# what libattend.a needs.
# The prefix is found relative to attend.pc itself, so an install with `--prefix` elsewhere works.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ATTEND_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(ATTEND_PC_PREFIX "\${pcfiledir}/..")
  string(REGEX MATCHALL "[^/]+" _attend_libdir_parts "${CMAKE_INSTALL_LIBDIR}")
  foreach(_p ${_attend_libdir_parts})
    string(APPEND ATTEND_PC_PREFIX "/..")
  endforeach()
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ATTEND_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(ATTEND_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(ATTEND_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(ATTEND_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/attend.pc.in ${PROJECT_BINARY_DIR}/attend.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/attend.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
