# Script mode (cmake -P), run by jrnn_cuda_fatbin(): nvcc -fatbin with warnings as errors, the
# resource-usage report written to REPORT, and a failure when any kernel spills registers.
# Inputs: JRNN_NVCC, SOURCE, OUTPUT, REPORT, ARCHS (comma-separated), PTX_ARCH.
cmake_minimum_required(VERSION 3.18)

set(gencode "")
string(REPLACE "," ";" arch_list "${ARCHS}")
foreach(arch IN LISTS arch_list)
    list(APPEND gencode -gencode "arch=compute_${arch},code=sm_${arch}")
endforeach()
list(APPEND gencode -gencode "arch=compute_${PTX_ARCH},code=compute_${PTX_ARCH}")

get_filename_component(output_dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${output_dir}")
# Build into a temporary file so a failed build never leaves a stale or partial fatbin behind.
set(partial "${OUTPUT}.partial")
execute_process(
    COMMAND "${JRNN_NVCC}" -fatbin -std=c++17 -O3
        -Werror all-warnings
        "-Xptxas=-v,-warn-spills,-warn-lmem-usage"
        ${gencode}
        -o "${partial}" "${SOURCE}"
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err)
file(WRITE "${REPORT}" "${out}${err}")
if(NOT rc EQUAL 0)
    file(REMOVE "${partial}")
    message(FATAL_ERROR "jrnn: nvcc failed (${rc}) on ${SOURCE}:\n${out}${err}")
endif()
string(REGEX MATCHALL "[1-9][0-9]* bytes spill (stores|loads)" spills "${out}${err}")
if(spills)
    file(REMOVE "${partial}")
    message(FATAL_ERROR "jrnn: a kernel spills registers (${spills}); see ${REPORT}")
endif()
file(RENAME "${partial}" "${OUTPUT}")
