lanner_unit_test(test_core SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_core.c LIBS ln_core)
