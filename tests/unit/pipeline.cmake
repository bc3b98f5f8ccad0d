lanner_unit_test(test_pipeline SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pipeline.c LIBS ln_pipeline)
lanner_unit_test(test_pipeline_release SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_pipeline_release.c LIBS ln_pipeline)
