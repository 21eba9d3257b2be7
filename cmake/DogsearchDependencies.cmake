# Every third-party dependency comes from Debian 12 packages (see tools/install_deps.sh).
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf CONFIG QUIET)
if(NOT Protobuf_FOUND)
  find_package(Protobuf REQUIRED)
endif()
find_package(gRPC CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

find_program(DOGSEARCH_PROTOC protoc REQUIRED)
find_program(DOGSEARCH_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

if(DOGSEARCH_WITH_OPENCV)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
endif()

# hnswlib is header-only (libhnswlib-dev installs /usr/include/hnswlib).
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)
add_library(hnswlib INTERFACE)
target_include_directories(hnswlib SYSTEM INTERFACE ${HNSWLIB_INCLUDE_DIR})

set(DOGSEARCH_CUDA OFF)
if(DOGSEARCH_WITH_TORCH)
  find_package(Torch REQUIRED)
  # A CUDA build is chosen automatically when the Torch that was found has CUDA
  # (e.g. the LibTorch shipped with a CUDA PyTorch: -DCMAKE_PREFIX_PATH=<torch>/share/cmake).
  if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
    set(DOGSEARCH_CUDA ON)
  endif()
  # Torch's imported target carries its own flags; wrap it so our targets link one name.
  add_library(dogsearch_torch INTERFACE)
  target_link_libraries(dogsearch_torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(dogsearch_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  if(DOGSEARCH_CUDA)
    target_compile_definitions(dogsearch_torch INTERFACE DOGSEARCH_CUDA=1)
  endif()
  message(STATUS "dogsearch: LibTorch ${Torch_VERSION}, CUDA build: ${DOGSEARCH_CUDA}")
endif()

if(DOGSEARCH_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
