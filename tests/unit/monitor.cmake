lanner_unit_test(test_monitor SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_monitor.c LIBS ln_monitor)
