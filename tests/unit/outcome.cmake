lanner_unit_test(test_outcome_metrics SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_outcome_metrics.c LIBS ln_outcome)
lanner_unit_test(test_outcome_threshold SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_outcome_threshold.c LIBS ln_outcome)
lanner_unit_test(test_outcome_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_outcome_policy.c LIBS ln_outcome)
lanner_unit_test(test_outcome_multiclass SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_outcome_multiclass.c LIBS ln_outcome)
