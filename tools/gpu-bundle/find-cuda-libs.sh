# shellcheck shell=bash
# Finds the folders that hold the CUDA runtime, cuDNN and cuBLAS shared libraries, best first.
# Sourced by run.sh (and by GpuBundleScriptTest, against a fake tree). Defines:
#   jrnn_cuda_lib_dirs       prints the folders, one per line
#   jrnn_ld_library_path     prints LD_LIBRARY_PATH: the caller's own entries first, then those folders
# Order: NVIDIA's pip wheels (python's `nvidia` namespace package, then common site-packages
# folders), then CUDA toolkits (/usr/local/cuda*), then the system library folders. A folder counts
# only when it holds libcudart.so*, libcudnn*.so*, libcublas*.so*, libnvrtc*.so* or libnvJitLink*.so*.
# Inputs for tests: JRNN_LIBSCAN_PREFIX (a root prepended to every fixed path), JRNN_PYTHON (default python3).

jrnn_has_cuda_libs() {
    local pattern
    for pattern in 'libcudart.so*' 'libcudnn*.so*' 'libcublas*.so*' 'libnvrtc*.so*' 'libnvJitLink*.so*'; do
        if compgen -G "$1/$pattern" >/dev/null 2>&1; then
            return 0
        fi
    done
    return 1
}

jrnn_cuda_lib_dirs() {
    local prefix="${JRNN_LIBSCAN_PREFIX:-}" python="${JRNN_PYTHON:-python3}"
    local LC_ALL=C  # globs sort in byte order whatever the locale, so the result is the same everywhere
    local -a candidates=()
    local d
    # 1. python's `nvidia` namespace package: nvidia/{cu13,cudnn,cublas,cuda_runtime,...}/lib.
    if command -v "$python" >/dev/null 2>&1; then
        while IFS= read -r d; do
            if [ -n "$d" ]; then
                candidates+=("$d"/*/lib "$d"/*/lib64)
            fi
        done < <("$python" -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null)
    fi
    # 2. Common site-packages folders (virtual environments, system and user installs, conda).
    for d in ${VIRTUAL_ENV:+"$VIRTUAL_ENV"/lib/python3*/site-packages/nvidia} \
             "$prefix"/opt/*/.venv/lib/python3*/site-packages/nvidia \
             "$prefix"/opt/*/lib/python3*/site-packages/nvidia \
             "$prefix"/usr/local/lib/python3*/dist-packages/nvidia \
             "$prefix"/usr/local/lib/python3*/site-packages/nvidia \
             "$prefix"/usr/lib/python3*/dist-packages/nvidia \
             ${HOME:+"$HOME"/.local/lib/python3*/site-packages/nvidia}; do
        candidates+=("$d"/*/lib)
    done
    # 3. CUDA toolkits, 4. the system library folders.
    candidates+=("$prefix"/usr/local/cuda*/targets/x86_64-linux/lib "$prefix"/usr/local/cuda*/lib64
                 "$prefix"/usr/lib/x86_64-linux-gnu "$prefix"/usr/lib64)
    local -A seen=()
    local real
    for d in "${candidates[@]}"; do
        [ -d "$d" ] || continue
        jrnn_has_cuda_libs "$d" || continue
        real=$(cd "$d" && pwd -P) || continue
        [ -n "${seen[$real]:-}" ] && continue
        seen[$real]=1
        printf '%s\n' "$d"
    done
}

jrnn_ld_library_path() {
    local joined="${LD_LIBRARY_PATH:-}" d
    while IFS= read -r d; do
        [ -n "$d" ] || continue
        case ":$joined:" in
            *":$d:"*) ;;
            *) joined="${joined:+$joined:}$d" ;;
        esac
    done < <(jrnn_cuda_lib_dirs)
    printf '%s\n' "$joined"
}
