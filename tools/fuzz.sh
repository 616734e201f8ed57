#!/usr/bin/env bash
# Coverage-guided fuzzing of jrnn's importers with Jazzer (docs/reliability.md#fuzzing).
#   tools/fuzz.sh                 one 30 s round per target (what .ci/run runs; JRNN_CI_FUZZ=0 skips it)
#   tools/fuzz.sh 120             120 rounds of 30 s per target (an hour each): the long run
#   tools/fuzz.sh 10 npy h5       10 rounds of the named targets
# Targets: kerasConfig h5 keras npy (methods of java/src/test/java/io/jrnn/io/ImporterFuzzTest.java).
# Rounds continue from the corpus Jazzer grows in java/.cifuzz-corpus/ (git-ignored), so many short
# rounds are one long run. A crash input is written to
# java/src/test/resources/io/jrnn/io/ImporterFuzzTestInputs/<target>/crash-<sha1>, where the default
# `mvn verify` replays it from then on: fix the bug, keep the file (rename it to say what it tests).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(kerasConfig h5 keras npy)
mvn -q -pl java test-compile
status=0
for ((r = 1; r <= rounds; r++)); do
  for t in "${targets[@]}"; do
    log=$(mktemp)
    if ! JAZZER_FUZZ=1 mvn -pl java surefire:test@fuzz-regression -Dtest="ImporterFuzzTest#$t" \
        -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
      status=1
      echo "round $r $t: FINDING"; grep -E "FuzzTestFinding|crash-|Exception" "$log" | head -5
    fi
    echo "round $r $t: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1) corpus $(ls java/.cifuzz-corpus/io.jrnn.io.ImporterFuzzTest/$t 2>/dev/null | wc -l)"
    rm -f "$log"
  done
done
exit $status
