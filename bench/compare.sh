#!/usr/bin/env bash
# Runs JrnnVsOneDnnBenchmark one (cell, shape) pair at a time, so that direct oneDNN and jrnn are
# measured back to back (one JMH run, two forks) and share the machine's conditions, then prints a
# markdown table with the jrnn/direct ratio. Where `perf` works, JMH's perfnorm profiler adds the
# JVM's CPU time per call (perf task-clock), which other jobs on the machine disturb far less than
# wall-clock time; set PERF=0 to leave it out. Extra arguments go to JMH (e.g. -wi 2 -i 3).
# Usage: bench/compare.sh [JMH options]      (after: mvn -q -DskipTests install && mvn -q -pl bench package)
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-ACTIVE}"
JAR=bench/target/benchmarks.jar
OUT="${OUT:-bench/target/results}"
SHAPES="${SHAPES:-512x64x25x512 128x32x50x64}"
CELLS="${CELLS:-LSTM GRU GRU_RESET_BEFORE}"
PROF=()
if [[ "${PERF:-1}" != 0 ]] && perf stat -e task-clock true >/dev/null 2>&1; then
  PROF=(-prof perfnorm:events=task-clock)
fi
mkdir -p "$OUT"
for shape in $SHAPES; do
  for cell in $CELLS; do
    java -jar "$JAR" JrnnVsOneDnn -p cell="$cell" -p shape="$shape" ${PROF[@]+"${PROF[@]}"} \
        -rf csv -rff "$OUT/$cell-$shape.csv" "$@"
  done
done

echo
echo "| cell | shape (H, N, T, C) | direct oneDNN ms (wall) | jrnn ms (wall) | ratio (wall) | direct CPU ms | jrnn CPU ms | ratio (CPU) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for shape in $SHAPES; do
  for cell in $CELLS; do
    awk -F, -v cell="$cell" -v shape="$shape" '
      { for (i = 1; i <= NF; i++) gsub(/"/, "", $i) }
      $1 ~ /directOneDnn$/            { d = $5; de = $6 }
      $1 ~ /\.jrnn$/                  { j = $5; je = $6 }
      $1 ~ /directOneDnn:task-clock$/ { dc = $5 }
      $1 ~ /\.jrnn:task-clock$/       { jc = $5 }
      END {
        gsub(/x/, ", ", shape)
        cpu = dc > 0 && jc > 0
        printf "| %s | %s | %.3f ± %.3f | %.3f ± %.3f | %.3f | %s | %s | %s |\n", cell, shape, d, de, j, je, j / d,
            cpu ? sprintf("%.3f", dc) : "–", cpu ? sprintf("%.3f", jc) : "–", cpu ? sprintf("%.3f", jc / dc) : "–"
      }' "$OUT/$cell-$shape.csv"
  done
done
