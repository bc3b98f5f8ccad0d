lanner_unit_test(test_expr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_expr.c LIBS ln_expr)
