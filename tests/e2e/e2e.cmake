# End-to-end tests: shell scripts that run the lanner binary on real data.
# Each script gets the binary and the source folder; exit 77 means skipped.
find_program(LANNER_PYTHON3 python3 REQUIRED)

function(lanner_e2e_test name)
  add_test(NAME e2e_${name}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/${name}.sh $<TARGET_FILE:lanner-cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(e2e_${name} PROPERTIES LABELS e2e TIMEOUT 900 SKIP_RETURN_CODE 77)
endfunction()

lanner_e2e_test(run_lending_club)
lanner_e2e_test(run_churn)
lanner_e2e_test(bad_pipelines)
lanner_e2e_test(demo)
lanner_e2e_test(shared_data)
lanner_e2e_test(predict_errors)
lanner_e2e_test(data_commands)
lanner_e2e_test(models)
lanner_e2e_test(contract)
lanner_e2e_test(serve)
lanner_e2e_test(outcomes)
lanner_e2e_test(outcomes_report)
lanner_e2e_test(postgres)
lanner_e2e_test(pipeline_contract)
lanner_e2e_test(cache)
lanner_e2e_test(gate)
lanner_e2e_test(run_kill)
lanner_e2e_test(monitor)
