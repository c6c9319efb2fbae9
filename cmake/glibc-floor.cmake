# The glibc floor check (cmake -P): reads the dynamic symbol table of LIBRARY with OBJDUMP, finds the
# highest GLIBC_x.y version it needs, prints it with the symbols that need it, and fails when it is
# above FLOOR. Run after every link of libwscrt-jni.so (CMakeLists.txt), for x86-64 and aarch64 alike;
# the floor and what lowering it would take are in docs/porting.md ("glibc floor").
#   cmake -DLIBRARY=libwscrt-jni.so -DOBJDUMP=objdump -DFLOOR=2.34 -P cmake/glibc-floor.cmake
foreach(var LIBRARY OBJDUMP FLOOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "glibc-floor.cmake: -D${var}=... is required")
  endif()
endforeach()
execute_process(COMMAND ${OBJDUMP} -T ${LIBRARY} OUTPUT_VARIABLE table RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "glibc-floor.cmake: ${OBJDUMP} -T ${LIBRARY} failed: ${err}")
endif()

set(highest "0")
set(symbols "")
set(above "")
string(REPLACE "\n" ";" lines "${table}")
foreach(line IN LISTS lines)
  # "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.34) pthread_create"
  if(line MATCHES "[( ]GLIBC_([0-9]+(\\.[0-9]+)+)\\)?[ \t]+([A-Za-z0-9_]+)$")
    set(version ${CMAKE_MATCH_1})
    set(name ${CMAKE_MATCH_3})
    if(version VERSION_GREATER FLOOR)
      list(APPEND above "${name}@GLIBC_${version}")
    endif()
    if(version VERSION_GREATER highest)
      set(highest ${version})
      set(symbols ${name})
    elseif(version VERSION_EQUAL highest)
      list(APPEND symbols ${name})
    endif()
  endif()
endforeach()
if(highest STREQUAL "0")
  message(FATAL_ERROR "glibc-floor.cmake: no GLIBC_ symbol versions found in ${LIBRARY}")
endif()

get_filename_component(library_name ${LIBRARY} NAME)
list(JOIN symbols ", " symbol_list)
if(highest VERSION_GREATER FLOOR)
  list(JOIN above ", " above_list)
  message(FATAL_ERROR "glibc floor: ${library_name} needs GLIBC_${highest}, above the documented floor "
                      "${FLOOR}; the symbols above it: ${above_list}")
endif()
message(STATUS "glibc floor: ${library_name} needs GLIBC_${highest} (floor ${FLOOR}): ${symbol_list}")
