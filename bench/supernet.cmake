# Supernet search-step benchmark; bench/CMakeLists.txt includes this file.
add_executable(bench_supernet ${CMAKE_CURRENT_LIST_DIR}/bench_supernet.cpp)
target_link_libraries(bench_supernet PRIVATE nasq_core_torch)
nasq_use_torch_pch(bench_supernet)
target_compile_definitions(bench_supernet PRIVATE
  NASQ_PLUGIN_OUTPUT_DIR="${NASQ_PLUGIN_OUTPUT_DIR}")
add_dependencies(bench_supernet nasq_quantizer_plugins)
