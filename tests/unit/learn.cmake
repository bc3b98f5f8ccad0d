lanner_unit_test(test_learn SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_learn.c LIBS ln_learn)
lanner_unit_test(test_learn_file SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_learn_file.c LIBS ln_learn)
lanner_unit_test(test_learn_linear SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_learn_linear.c LIBS ln_learn)
