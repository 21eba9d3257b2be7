# Build switches. Each can be set with -D on the cmake command line.
option(DOGSEARCH_BUILD_TESTS "Build the GoogleTest suites" ON)
option(DOGSEARCH_WITH_TORCH "Build the parts that need LibTorch (models, checkpoints)" ON)
option(DOGSEARCH_WITH_OPENCV "Build the parts that need OpenCV (photo intake)" ON)
option(DOGSEARCH_TSAN "Build with ThreadSanitizer (concurrency test runs)" OFF)
option(DOGSEARCH_ASAN "Build with AddressSanitizer + UBSan" OFF)

# ccache cuts rebuilds on 2 cores a lot; use it when it is installed.
find_program(DOGSEARCH_CCACHE ccache)
if(DOGSEARCH_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${DOGSEARCH_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${DOGSEARCH_CCACHE})
endif()

if(DOGSEARCH_TSAN)
  add_compile_options(-fsanitize=thread -g -O1)
  add_link_options(-fsanitize=thread)
endif()
if(DOGSEARCH_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1)
  add_link_options(-fsanitize=address,undefined)
endif()
