lanner_unit_test(test_serve_request SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_serve_request.c LIBS ln_serve)
lanner_unit_test(test_serve_server SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_serve_server.c LIBS ln_serve)
lanner_unit_test(test_serve_contract SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_serve_contract.c LIBS ln_serve)
