# Warnings for our own code only; generated and third-party code is compiled without them.
function(dogsearch_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wno-unused-parameter)
endfunction()

# dogsearch_library(NAME SOURCES ... DEPS ... [PRIVATE_DEPS ...] [USES TORCH OPENCV GRPC]): a
# library of our own code. The layering rule (docs/ARCHITECTURE.md, "Layering") is enforced
# here: a library that does not declare `USES TORCH` (`OPENCV`, `GRPC`) compiles with an include
# directory whose <torch/...> (<opencv2/...>; <grpcpp/...> and *.grpc.pb.h) headers are #error,
# searched before the real ones, so including them from it, directly or through another header,
# fails to compile.
function(dogsearch_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS;USES" ${ARGN})
  add_library(${name} ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  if(NOT "TORCH" IN_LIST ARG_USES)
    target_include_directories(${name} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/cmake/layering/no_torch)
  endif()
  if(NOT "OPENCV" IN_LIST ARG_USES)
    target_include_directories(${name} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/cmake/layering/no_opencv)
  endif()
  if(NOT "GRPC" IN_LIST ARG_USES)
    target_include_directories(${name} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/cmake/layering/no_grpc)
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  dogsearch_warnings(${name})
endfunction()

# dogsearch_test(NAME SOURCES ... DEPS ... [LABELS ...] [TIMEOUT S] [PROPERTIES K V ...]): a
# GoogleTest binary, each test listed by CTest with those properties.
function(dogsearch_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} dogsearch_testing GTest::gtest GTest::gmock GTest::gtest_main)
  dogsearch_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    list(APPEND props LABELS ${ARG_LABELS})
  endif()
  list(APPEND props ${ARG_PROPERTIES})
  if(DOGSEARCH_TSAN)
    list(APPEND props ENVIRONMENT
         "TSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/tsan_suppressions.txt halt_on_error=1")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
