# nasq_add_plugin(NAME KIND SOURCES ... [LIBRARIES ...] [OUTPUT_DIRECTORY dir])
#
# Builds a nasq plugin as a MODULE library named libnasq_<KIND>_<NAME>.so
# with hidden visibility, so that only the entry points the SDK macros mark
# as exported are visible. KIND is hardware, quantizer or strategy; the
# latter two link the LibTorch component of the SDK.
function(nasq_add_plugin NAME KIND)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT KIND MATCHES "^(hardware|quantizer|strategy)$")
    message(FATAL_ERROR "nasq_add_plugin(${NAME}): KIND must be hardware, quantizer or strategy, not '${KIND}'")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "nasq_add_plugin(${NAME}): SOURCES is empty")
  endif()

  set(target "nasq_${KIND}_${NAME}")
  string(REPLACE "-" "_" target "${target}")
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    CXX_EXTENSIONS OFF)
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL" "LINKER:--no-undefined")
  if(KIND STREQUAL "hardware")
    target_link_libraries(${target} PRIVATE nasq::sdk ${ARG_LIBRARIES})
  else()
    target_link_libraries(${target} PRIVATE nasq::sdk_torch ${ARG_LIBRARIES})
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED NASQ_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${NASQ_PLUGIN_OUTPUT_DIR}")
  endif()
  # Inside the nasq tree, plugins without their own output directory are
  # installed into the directory the loader searches next to the executable.
  if(NOT ARG_OUTPUT_DIRECTORY AND DEFINED NASQ_PLUGIN_INSTALL_DIR)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../../../${CMAKE_INSTALL_LIBDIR}")
    install(TARGETS ${target} LIBRARY DESTINATION "${NASQ_PLUGIN_INSTALL_DIR}")
  endif()
  set(NASQ_LAST_PLUGIN_TARGET ${target} PARENT_SCOPE)
endfunction()
