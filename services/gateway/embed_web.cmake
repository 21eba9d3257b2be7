# Turns a web asset into a C++ source file:
#   cmake -DIN=page.html -DOUT=out.cc -DNAME=kIndexHtml -P embed_web.cmake
file(READ "${IN}" content)
string(FIND "${content}" ")DSWEB\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )DSWEB\"")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated from ${IN} by embed_web.cmake. Do not edit.\n"
  "namespace dogsearch::gateway {\n"
  "extern const char ${NAME}[];\n"
  "const char ${NAME}[] = R\"DSWEB(${content})DSWEB\";\n"
  "}  // namespace dogsearch::gateway\n")
file(RENAME "${OUT}.tmp" "${OUT}")
