# jrnn_cuda_fatbin(<target> SOURCE <file.cu> OUTPUT <file.fatbin> REPORT <file.txt> [DEPENDS <files>...])
#
# Compiles one .cu file with nvcc into a fatbin holding SASS for every architecture in
# JRNN_CUDA_ARCHS plus PTX for JRNN_CUDA_PTX_ARCH (so newer GPUs JIT-compile it), with every
# warning an error. ptxas's resource-usage report (registers, stack, spills per kernel) is written
# to REPORT, and the build fails if any kernel spills registers to local memory.
#
# Cache variables:
#   JRNN_NVCC           the nvcc executable (found on PATH, in $CUDA_HOME/bin, $CUDA_PATH/bin or /usr/local/cuda/bin)
#   JRNN_CUDA_ARCHS     SASS architectures, default 75;80;86;89;90 (Turing .. Hopper)
#   JRNN_CUDA_PTX_ARCH  PTX architecture, default 90
include_guard(GLOBAL)

find_program(JRNN_NVCC nvcc
    HINTS ENV CUDA_HOME ENV CUDA_PATH
    PATH_SUFFIXES bin
    PATHS /usr/local/cuda/bin /usr/local/cuda
    DOC "nvcc used to build jrnn's CUDA kernels")
if(NOT JRNN_NVCC)
    message(FATAL_ERROR "jrnn: nvcc not found (put it on PATH, set CUDA_HOME, or pass -DJRNN_NVCC=/path/to/nvcc)")
endif()

set(JRNN_CUDA_ARCHS "75;80;86;89;90" CACHE STRING "SASS architectures of the jrnn kernel fatbin")
set(JRNN_CUDA_PTX_ARCH "90" CACHE STRING "PTX architecture embedded in the jrnn kernel fatbin")

# Refuse, naming the architecture, when this nvcc cannot build one of them (e.g. sm_90 needs CUDA >= 11.8).
execute_process(COMMAND "${JRNN_NVCC}" --list-gpu-arch
    RESULT_VARIABLE _jrnn_rc OUTPUT_VARIABLE _jrnn_archs ERROR_VARIABLE _jrnn_err)
if(NOT _jrnn_rc EQUAL 0)
    message(FATAL_ERROR "jrnn: '${JRNN_NVCC} --list-gpu-arch' failed (${_jrnn_rc}): ${_jrnn_err}")
endif()
foreach(_jrnn_arch IN LISTS JRNN_CUDA_ARCHS JRNN_CUDA_PTX_ARCH)
    if(NOT _jrnn_archs MATCHES "compute_${_jrnn_arch}")
        message(FATAL_ERROR "jrnn: ${JRNN_NVCC} cannot build compute_${_jrnn_arch}; it lists: ${_jrnn_archs}"
            "Use a newer CUDA toolkit or set -DJRNN_CUDA_ARCHS=...")
    endif()
endforeach()

function(jrnn_cuda_fatbin target)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SOURCE;OUTPUT;REPORT" "DEPENDS")
    foreach(required SOURCE OUTPUT REPORT)
        if(NOT ARG_${required})
            message(FATAL_ERROR "jrnn_cuda_fatbin(${target}): ${required} is required")
        endif()
    endforeach()
    # The script gets the architectures comma-separated (one command-line argument).
    string(REPLACE ";" "," archs "${JRNN_CUDA_ARCHS}")
    add_custom_command(
        OUTPUT "${ARG_OUTPUT}" "${ARG_REPORT}"
        COMMAND "${CMAKE_COMMAND}"
            "-DJRNN_NVCC=${JRNN_NVCC}"
            "-DSOURCE=${ARG_SOURCE}"
            "-DOUTPUT=${ARG_OUTPUT}"
            "-DREPORT=${ARG_REPORT}"
            "-DARCHS=${archs}"
            "-DPTX_ARCH=${JRNN_CUDA_PTX_ARCH}"
            -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/JrnnNvccFatbin.cmake"
        DEPENDS "${ARG_SOURCE}" ${ARG_DEPENDS} "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/JrnnNvccFatbin.cmake"
        COMMENT "nvcc: ${ARG_OUTPUT}"
        VERBATIM)
    add_custom_target(${target} ALL DEPENDS "${ARG_OUTPUT}")
endfunction()
