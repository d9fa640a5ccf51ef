# The live page's files (index.html, style.css, app.js) as C++ raw string
# literals: file(READ) each, then configure_file of web_assets.cc.in, at
# configure time. Editing a file re-runs CMake (CMAKE_CONFIGURE_DEPENDS), so
# `cmake --build` picks it up. No xxd, no tool beyond CMake.
#
#   pgparity_embed_web(OUT_VAR)  # sets OUT_VAR to the generated .cc
function(pgparity_embed_web out_var)
  set(web_dir ${CMAKE_CURRENT_FUNCTION_LIST_DIR})
  set(delimiter "pgparity_web")
  foreach(pair "INDEX;index.html" "STYLE;style.css" "SCRIPT;app.js")
    list(GET pair 0 name)
    list(GET pair 1 file)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${web_dir}/${file})
    file(READ ${web_dir}/${file} content)
    # The literal would end early.
    string(FIND "${content}" ")${delimiter}\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${web_dir}/${file} contains )${delimiter}\"; rename the delimiter in "
        "embed.cmake")
    endif()
    set(PGPARITY_WEB_${name} "${content}")
  endforeach()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cc)
  configure_file(${web_dir}/web_assets.cc.in ${out} @ONLY)
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
