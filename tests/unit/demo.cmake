lanner_unit_test(test_demo SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_demo.c LIBS ln_demo)
