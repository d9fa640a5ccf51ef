# pgparity_test_labels(TARGET LABEL...): the ctest labels of every test
# gtest_discover_tests(TARGET) found, e.g. integration matrix. Needed because
# gtest_discover_tests (CMake 3.25) flattens a list in PROPERTIES: LABELS
# "integration;matrix" reaches set_tests_properties as LABELS integration
# plus a property named matrix. The discovery file sets ${TARGET}_TESTS;
# this script, included after it, labels those tests. Call it after
# gtest_discover_tests(TARGET), in the same directory.
function(pgparity_test_labels target)
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(WRITE "${script}"
    "if(DEFINED ${target}_TESTS)\n"
    "  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${ARGN}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
