lanner_unit_test(test_contract SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_contract.c LIBS ln_contract)
