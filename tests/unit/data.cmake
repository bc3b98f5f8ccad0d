lanner_unit_test(test_data SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_data.c LIBS ln_data)
lanner_unit_test(test_data_sources SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_data_sources.c
                 LIBS ln_data)
lanner_unit_test(test_data_postgres SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_data_postgres.c
                 LIBS ln_data)
