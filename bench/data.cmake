# Data loader benchmark; bench/CMakeLists.txt includes this file.
add_executable(bench_data_loader ${CMAKE_CURRENT_LIST_DIR}/bench_data_loader.cpp)
target_link_libraries(bench_data_loader PRIVATE nasq_core_torch)
