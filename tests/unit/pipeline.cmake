lanner_unit_test(test_pipeline SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pipeline.c LIBS ln_pipeline)
