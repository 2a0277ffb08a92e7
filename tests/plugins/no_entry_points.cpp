// Broken test plugin: a shared library without any nasq entry symbol.
extern "C" __attribute__((visibility("default"))) int unrelated_function() { return 42; }
