lanner_unit_test(test_report SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_report.c LIBS ln_report)
