# Test registration. Every cmocka case in tests/<module>/test_*.c becomes its
# own CTest test named <module>.<case>, so CTest's summary counts cases; shell
# tests (test_*.sh) and oracle scripts (test_*.py) are registered as they are.
enable_testing()

set(VIGIL_TEST_ENV
    "VIGIL_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "VIGIL_BIN=${CMAKE_BINARY_DIR}/vigil"
    "VIGIL_TRAIN_BIN=${CMAKE_BINARY_DIR}/vigil-train"
    "VIGIL_BUILD_DIR=${CMAKE_BINARY_DIR}"
    "VIGIL_DATA_DIR=${PROJECT_SOURCE_DIR}/../shared/data")
# whether this build has the PostgreSQL backend (tests that need it skip without)
if(VIGIL_STORE_PG)
  list(APPEND VIGIL_TEST_ENV "VIGIL_STORE_PG_BUILT=1")
else()
  list(APPEND VIGIL_TEST_ENV "VIGIL_STORE_PG_BUILT=0")
endif()
if(VIGIL_SANITIZE)
  list(APPEND VIGIL_TEST_ENV "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
       "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endif()

# store tests that are SQLite's own (its handle, its files), not run through other URIs
set(VIGIL_STORE_ENGINE_TESTS test_store_open test_store_faults test_store_faulty test_store_row_text)
# the store suite on PostgreSQL (store_pg.*), each case in a fresh database of
# a throw-away cluster (tests/store/pg_cluster.sh, the fixture "pg"); a case
# that reads or tampers with SQLite's own file skips, saying so (store_fixture.h
# fx_raw) and CTest counts it as skipped (docs/store.md, "PostgreSQL backend")
set(VIGIL_PG_DIR ${CMAKE_BINARY_DIR}/pg-cluster)
if(VIGIL_STORE_PG)
  add_test(NAME store_pg.cluster_start
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/store/pg_cluster.sh start ${VIGIL_PG_DIR})
  add_test(NAME store_pg.cluster_stop
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/store/pg_cluster.sh stop ${VIGIL_PG_DIR})
  set_tests_properties(store_pg.cluster_start PROPERTIES FIXTURES_SETUP pg LABELS store_pg)
  set_tests_properties(store_pg.cluster_stop PROPERTIES FIXTURES_CLEANUP pg LABELS store_pg)
else()
  # one clear skip line rather than nothing: the suite did not run on PostgreSQL
  add_test(NAME store_pg.backend_not_built
           COMMAND sh -c "echo 'SKIP: PostgreSQL store tests not run: built without VIGIL_STORE_PG (libpq not found; scripts/setup.sh installs libpq-dev)'; exit 77")
  set_tests_properties(store_pg.backend_not_built PROPERTIES SKIP_RETURN_CODE 77 LABELS store_pg)
endif()

file(GLOB_RECURSE test_c_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/*/test_*.c)
foreach(src ${test_c_srcs})
  get_filename_component(tname ${src} NAME_WE)
  get_filename_component(tdir ${src} DIRECTORY)
  get_filename_component(tmod ${tdir} NAME)
  set(exe ${tmod}_${tname})
  add_executable(${exe} ${src})
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${exe} PRIVATE ${VIGIL_MODULES} PkgConfig::CMOCKA)
  if(VIGIL_STORE_PG)
    target_compile_definitions(${exe} PRIVATE VIGIL_TEST_HAVE_PG=1)
    target_link_libraries(${exe} PRIVATE PkgConfig::LIBPQ)
  endif()
  if(XGBOOST_FOUND)
    target_link_libraries(${exe} PRIVATE PkgConfig::XGBOOST)
  endif()
  add_dependencies(${exe} vigil)
  if(TARGET vigil-train)
    add_dependencies(${exe} vigil-train)
  endif()
  # every cmocka_unit_test(...) registration, its name possibly on the next
  # line (clang-format breaks long ones); each one must yield a name, so a
  # registration this cannot read stops the configure rather than vanish
  file(READ ${src} text)
  string(REGEX MATCHALL "cmocka_unit_test(_setup_teardown)?\\(" opens "${text}")
  string(REGEX MATCHALL "cmocka_unit_test(_setup_teardown)?\\([ \t\r\n]*[A-Za-z0-9_]+" calls
         "${text}")
  list(LENGTH opens n_opens)
  list(LENGTH calls n)
  if(NOT n EQUAL n_opens)
    message(FATAL_ERROR "${src}: ${n_opens} cmocka_unit_test registrations, ${n} with a "
                        "readable case name")
  endif()
  foreach(call ${calls})
    string(REGEX REPLACE "^cmocka_unit_test(_setup_teardown)?\\([ \t\r\n]*" "" case "${call}")
    add_test(NAME ${tmod}.${case} COMMAND ${exe} ${case}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(${tmod}.${case} PROPERTIES ENVIRONMENT "${VIGIL_TEST_ENV}"
                         LABELS ${tmod})
    # the store suite again through the faulty: wrapper, unarmed: every call passed
    # through must behave as on the store it wraps (docs/store.md, "Conformance and
    # faults"); not the files that reach into SQLite's own handle or test faulty: itself
    if(tmod STREQUAL "store" AND NOT tname IN_LIST VIGIL_STORE_ENGINE_TESTS)
      add_test(NAME store_faulty.${case} COMMAND ${exe} ${case}
               WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
      set_tests_properties(store_faulty.${case} PROPERTIES
                           ENVIRONMENT "${VIGIL_TEST_ENV};VIGIL_TEST_STORE_URI=faulty:{dir}/ward.db"
                           LABELS store_faulty)
    endif()
    if(VIGIL_STORE_PG AND tmod STREQUAL "store" AND NOT tname IN_LIST VIGIL_STORE_ENGINE_TESTS)
      add_test(NAME store_pg.${case}
               COMMAND bash ${PROJECT_SOURCE_DIR}/tests/store/pg_cluster.sh run ${VIGIL_PG_DIR}
                       $<TARGET_FILE:${exe}> ${case}
               WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
      set_tests_properties(store_pg.${case} PROPERTIES ENVIRONMENT "${VIGIL_TEST_ENV}"
                           FIXTURES_REQUIRED pg SKIP_RETURN_CODE 77 LABELS store_pg)
    endif()
  endforeach()
  if(n EQUAL 0)
    message(FATAL_ERROR "${src} registers no cmocka_unit_test")
  endif()
endforeach()

file(GLOB_RECURSE test_sh CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/*/test_*.sh)
foreach(src ${test_sh})
  get_filename_component(tname ${src} NAME_WE)
  get_filename_component(tdir ${src} DIRECTORY)
  get_filename_component(tmod ${tdir} NAME)
  add_test(NAME ${tmod}.${tname} COMMAND bash ${src} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${tmod}.${tname} PROPERTIES ENVIRONMENT "${VIGIL_TEST_ENV}"
                       LABELS ${tmod} SKIP_RETURN_CODE 77)
endforeach()

file(GLOB_RECURSE test_py CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/*/test_*.py)
foreach(src ${test_py})
  get_filename_component(tname ${src} NAME_WE)
  get_filename_component(tdir ${src} DIRECTORY)
  get_filename_component(tmod ${tdir} NAME)
  add_test(NAME ${tmod}.${tname} COMMAND /usr/bin/python3 ${src}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${tmod}.${tname} PROPERTIES ENVIRONMENT "${VIGIL_TEST_ENV}"
                       LABELS ${tmod} SKIP_RETURN_CODE 77)
endforeach()

add_test(NAME style.banned_functions
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check-banned.sh ${PROJECT_SOURCE_DIR})
