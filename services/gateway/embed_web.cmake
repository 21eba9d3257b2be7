# Turns the web page into a C++ source file: cmake -DIN=page.html -DOUT=out.cc -P embed_web.cmake
file(READ "${IN}" content)
string(FIND "${content}" ")DSWEB\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )DSWEB\"")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by embed_web.cmake. Do not edit.\n"
  "namespace dogsearch::gateway {\n"
  "extern const char kIndexHtml[];\n"
  "const char kIndexHtml[] = R\"DSWEB(${content})DSWEB\";\n"
  "}  // namespace dogsearch::gateway\n")
file(RENAME "${OUT}.tmp" "${OUT}")
