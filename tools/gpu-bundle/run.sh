#!/usr/bin/env bash
# jrnn GPU check bundle: runs the GPU tests, the GPU benchmark and the PyTorch peer on a machine
# with only an NVIDIA driver and the CUDA/cuDNN/cuBLAS libraries (no JDK, no Maven, no network),
# then prints a SUMMARY. See README.md next to this script.
#
#   ./run.sh [--quick] [--tests-only | --bench-only] [--no-torch] [--profile]
#
# --profile: after the benchmark, io.jrnn.backend.cuda.GpuProfile (where jrnn's end-to-end time goes);
# its GPU-PROFILE lines go to gpu-profile.txt and the summary. Not part of the default run.
#
# Reports go to $REPORT_DIR (default: reports/ next to this script); when $OUT is set, at most
# 8 files are copied there. Exit status: 0 when nothing failed (also when CUDA is not usable and
# everything skipped), 1 when a test or a step failed, 2 for bad arguments.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
QUICK=0
RUN_TESTS=1
RUN_BENCH=1
RUN_TORCH=1
RUN_PROFILE=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --tests-only) RUN_BENCH=0; RUN_TORCH=0 ;;
        --bench-only) RUN_TESTS=0 ;;
        --no-torch) RUN_TORCH=0 ;;
        --profile) RUN_PROFILE=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg'; valid: --quick, --tests-only, --bench-only, --no-torch, --profile" >&2; exit 2 ;;
    esac
done
# Time limits (seconds). The whole run stays under JRNN_T_TOTAL (7.5 minutes): the environment and
# the tests have fixed limits; the benchmark gets what is left but the PyTorch peer's share (at most
# JRNN_T_BENCH), the PyTorch peer what is left then (at most JRNN_T_TORCH).
T_TOTAL=${JRNN_T_TOTAL:-450}
T_ENV=${JRNN_T_ENV:-45}
T_TESTS=${JRNN_T_TESTS:-180}
T_BENCH=${JRNN_T_BENCH:-240}
T_TORCH=${JRNN_T_TORCH:-100}
# --profile only, on top of JRNN_T_TOTAL:
T_PROFILE=${JRNN_T_PROFILE:-150}

REPORT="${REPORT_DIR:-$HERE/reports}"
rm -rf "$REPORT"
mkdir -p "$REPORT"
STATUS=0
START=$(date +%s)
left() { echo $(( T_TOTAL - ($(date +%s) - START) )); }
atmost() { if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }

# --- 1. Libraries ------------------------------------------------------------------------------
# shellcheck source=find-cuda-libs.sh
. "$HERE/find-cuda-libs.sh"
# shellcheck source=parity-summary.sh
. "$HERE/parity-summary.sh"
echo "== CUDA library folders found (best first):"
jrnn_cuda_lib_dirs | sed 's/^/   /'
LD_LIBRARY_PATH=$(jrnn_ld_library_path)
export LD_LIBRARY_PATH
echo "== LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

if [ -x "$HERE/jre/bin/java" ]; then
    JAVA="$HERE/jre/bin/java"
elif command -v java >/dev/null 2>&1; then
    JAVA=java
    echo "== no bundled JRE at $HERE/jre; using java from PATH"
else
    echo "run.sh: no Java: neither $HERE/jre/bin/java nor java on PATH" >&2
    exit 1
fi
CP="$HERE/lib/*:$HERE/tests"
JOPTS=(-Xmx8g "-Dorg.bytedeco.javacpp.cachedir=${TMPDIR:-/tmp}/jrnn-javacpp-cache")
PYTHON=${JRNN_PYTHON:-python3}
TIMEOUT=()
if command -v timeout >/dev/null 2>&1; then
    TIMEOUT=(timeout --kill-after=10)
fi
limit() { # limit SECONDS command...: runs the command under a time limit when `timeout` exists
    local s=$1
    shift
    if [ ${#TIMEOUT[@]} -gt 0 ]; then "${TIMEOUT[@]}" "$s" "$@"; else "$@"; fi
}

# --- 2. Environment ----------------------------------------------------------------------------
echo "== jrnn env"
limit "$T_ENV" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.jrnn.cli.Main env >"$REPORT/env.txt" 2>&1
ENV_RC=$?
cat "$REPORT/env.txt"
if [ "$ENV_RC" -ne 0 ]; then
    echo "== jrnn env exited with $ENV_RC"
    STATUS=1
fi
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$REPORT/nvidia-smi.txt" 2>&1 || true
    echo "nvidia-smi: $(cat "$REPORT/nvidia-smi.txt")" | tee -a "$REPORT/env.txt"
fi

# --- 3. GPU tests --------------------------------------------------------------------------------
TESTS_RC=-
if [ "$RUN_TESTS" -eq 1 ]; then
    echo "== GPU tests (JUnit, package io.jrnn.backend.cuda, tag gpu)"
    limit "$T_TESTS" "$JAVA" "${JOPTS[@]}" -cp "$CP:$HERE/junit/*" org.junit.platform.console.ConsoleLauncher execute \
        --disable-banner --disable-ansi-colors --details=tree --select-package=io.jrnn --include-tag=gpu \
        --reports-dir="$REPORT/junit" >"$REPORT/gpu-tests.log" 2>&1
    TESTS_RC=$?
    cat "$REPORT/gpu-tests.log"
    if [ "$TESTS_RC" -ne 0 ]; then
        echo "== GPU tests exited with $TESTS_RC"
        STATUS=1
    fi
fi

# --- 4. GPU benchmark ------------------------------------------------------------------------------
BENCH_RC=-
if [ "$RUN_BENCH" -eq 1 ]; then
    echo "== GPU benchmark (jrnn end to end vs the same cuDNN call made directly)"
    torch_share=0
    [ "$RUN_TORCH" -eq 1 ] && torch_share=$T_TORCH
    bench_limit=$(atmost "$T_BENCH" $(( $(left) - torch_share )))
    [ "$bench_limit" -lt 60 ] && bench_limit=60
    BENCH_ARGS=(--out "$REPORT" --budget-s $(( bench_limit - 30 )))
    [ "$QUICK" -eq 1 ] && BENCH_ARGS+=(--quick --reps 20 --warmup 30)
    echo "   (time limit ${bench_limit} s)"
    limit "$bench_limit" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.jrnn.backend.cuda.GpuBenchmark "${BENCH_ARGS[@]}" \
        >"$REPORT/gpu-bench.log" 2>&1
    BENCH_RC=$?
    cat "$REPORT/gpu-bench.log"
    if [ "$BENCH_RC" -ne 0 ]; then
        echo "== GPU benchmark exited with $BENCH_RC"
        STATUS=1
    fi
fi

# --- 5. PyTorch peer -------------------------------------------------------------------------------
TORCH_RC=-
if [ "$RUN_TORCH" -eq 1 ]; then
    if command -v "$PYTHON" >/dev/null 2>&1 && "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
        echo "== PyTorch peer (nn.LSTM / nn.GRU on cuDNN, same shapes)"
        torch_limit=$(atmost "$T_TORCH" $(( $(left) - 10 )))
        [ "$torch_limit" -lt 40 ] && torch_limit=40
        echo "   (time limit ${torch_limit} s)"
        TORCH_ARGS=(--out "$REPORT" --jrnn-csv "$REPORT/gpu-bench.csv" --budget-s $(( torch_limit - 20 )))
        [ "$QUICK" -eq 1 ] && TORCH_ARGS+=(--quick)
        limit "$torch_limit" "$PYTHON" "$HERE/torch_peer.py" "${TORCH_ARGS[@]}" >"$REPORT/torch-peer.log" 2>&1
        TORCH_RC=$?
        cat "$REPORT/torch-peer.log"
        if [ "$TORCH_RC" -ne 0 ]; then
            echo "== PyTorch peer exited with $TORCH_RC"
            STATUS=1
        fi
    else
        echo "== PyTorch peer skipped: '$PYTHON -c \"import torch\"' fails"
        TORCH_RC=skipped
    fi
fi

# --- 5b. Profile (--profile only, after the benchmark and the peer) --------------------------------------------------------------
PROFILE_RC=-
if [ "$RUN_PROFILE" -eq 1 ]; then
    echo "== GPU profile (io.jrnn.backend.cuda.GpuProfile, time limit ${T_PROFILE} s)"
    limit "$T_PROFILE" "$JAVA" "${JOPTS[@]}" -cp "$CP" io.jrnn.backend.cuda.GpuProfile >"$REPORT/gpu-profile.log" 2>&1
    PROFILE_RC=$?
    grep '^GPU-PROFILE' "$REPORT/gpu-profile.log" >"$REPORT/gpu-profile.txt"
    cat "$REPORT/gpu-profile.log"
    if [ "$PROFILE_RC" -ne 0 ]; then
        echo "== GPU profile exited with $PROFILE_RC"
        STATUS=1
    fi
fi

# --- 6. Summary ------------------------------------------------------------------------------------
count() { # count KIND: "N tests KIND" from the JUnit console summary, or -
    local n
    n=$(grep -E "^\[ *[0-9]+ $1 *\]" "$REPORT/gpu-tests.log" 2>/dev/null | head -1 | grep -oE '[0-9]+' | head -1)
    printf '%s' "${n:--}"
}
{
    echo "================================ SUMMARY ================================"
    echo "bundle:     $(cat "$HERE/VERSION" 2>/dev/null || echo unknown)"
    grep -E '^nvidia-smi:' "$REPORT/env.txt" | sed 's/^nvidia-smi: */gpu (nvidia-smi): /'
    grep -E '^cuda: ' "$REPORT/env.txt" | sed 's/^cuda: */cuda:       /' | grep -v ' loaded ' || echo "cuda:       (jrnn env printed nothing)"
    grep -E '^backend:' "$REPORT/env.txt" | sed 's/^backend: */auto backend: /'
    if [ "$RUN_TESTS" -eq 1 ]; then
        echo "tests:      $(count 'tests successful') passed, $(count 'tests failed') failed," \
             "$(count 'tests aborted') skipped by assumption, $(count 'tests skipped') disabled;" \
             "$(count 'containers failed') classes failed (exit $TESTS_RC)"
        if grep -q 'org/bytedeco/dnnl\|org\.bytedeco\.dnnl' "$REPORT/gpu-tests.log" 2>/dev/null; then
            echo "note:       a GPU test reached oneDNN, which the bundle leaves out (GPU tests must compare with the reference backend)"
        fi
        jrnn_parity_summary GPU-PARITY "parity" "(no GPU-PARITY lines: no parity test ran)" "$REPORT/gpu-tests.log"
        jrnn_parity_summary GPU-BENCH-CHECK "bench direct path" "(no GPU-BENCH-CHECK lines)" "$REPORT/gpu-tests.log"
        echo "checks:     $(grep -c '^GPU-CHECK ' "$REPORT/gpu-tests.log" 2>/dev/null || true) GPU-CHECK lines (kernels, leaks: not layer parity)"
    fi
    if [ "$RUN_BENCH" -eq 1 ]; then
        echo "benchmark (exit $BENCH_RC):"
        if [ -f "$REPORT/gpu-bench.md" ]; then cat "$REPORT/gpu-bench.md"; else echo "  no table written"; fi
    fi
    if [ "$RUN_TORCH" -eq 1 ]; then
        echo "jrnn vs PyTorch (exit $TORCH_RC):"
        if [ -f "$REPORT/jrnn-vs-torch.md" ]; then cat "$REPORT/jrnn-vs-torch.md"; else echo "  no comparison written"; fi
    fi
    if [ "$RUN_PROFILE" -eq 1 ]; then
        echo "profile (exit $PROFILE_RC):"
        if [ -s "$REPORT/gpu-profile.txt" ]; then cat "$REPORT/gpu-profile.txt"; else echo "  no GPU-PROFILE lines"; fi
    fi
    echo "elapsed:    $(( $(date +%s) - START )) s; reports in $REPORT; status $STATUS"
    echo "========================================================================="
} >"$REPORT/summary.txt"

# At most 8 files, flat, into $OUT.
if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    junit_xml=$(ls "$REPORT"/junit/*.xml 2>/dev/null | head -1)
    for f in "$REPORT/summary.txt" "$REPORT/env.txt" "$REPORT/gpu-tests.log" "$junit_xml" "$REPORT/gpu-bench.md" \
             "$REPORT/gpu-bench.csv" "$REPORT/torch-peer.csv" "$REPORT/jrnn-vs-torch.md"; do
        [ -n "$f" ] && [ -f "$f" ] && cp "$f" "$OUT/"
    done
fi
cat "$REPORT/summary.txt"
exit "$STATUS"
