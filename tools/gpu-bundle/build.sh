#!/usr/bin/env bash
# Builds the self-contained GPU check bundle target/gpu-bundle/ (see README.md here):
#   jre/                    a jlink-ed Java 17 runtime
#   lib/*.jar               jrnn and its runtime jars, without oneDNN (the GPU check compares with the
#                           pure-Java reference backend) and without OpenCL
#   tests/                  jrnn's compiled test classes (the @Tag("gpu") tests, io.jrnn.backend.cuda.GpuBenchmark)
#   junit/                  junit-platform-console-standalone (version pinned in the root pom)
#   run.sh find-cuda-libs.sh parity-summary.sh torch_peer.py README.md VERSION
# Fails when the folder reaches 60 MiB; prints its size.
#
#   tools/gpu-bundle/build.sh [--skip-maven]     (--skip-maven: reuse java/target from an earlier build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC="$ROOT/tools/gpu-bundle"
OUTDIR="$ROOT/target/gpu-bundle"
LIMIT_BYTES=$((60 * 1024 * 1024))
MODULES=java.base,java.logging,java.management,java.sql,java.xml,jdk.unsupported,jdk.zipfs  # java.sql: JUnit console, Jackson; java.xml: JUnit XML reports; jdk.zipfs: JUnit scanning jars
SKIP_MAVEN=0
for arg in "$@"; do
    case "$arg" in
        --skip-maven) SKIP_MAVEN=1 ;;
        *) echo "build.sh: unknown argument '$arg'; valid: --skip-maven" >&2; exit 2 ;;
    esac
done
cd "$ROOT"

# 1. jars and test classes
if [ "$SKIP_MAVEN" -eq 0 ]; then
    echo "== mvn -q -DskipTests -pl java package"
    # target/lib may hold an earlier -Pdl4j build's jars (150 MB); the bundle takes the default build's only.
    rm -rf java/target/lib
    mvn -q -DskipTests -pl java package
fi
shopt -s nullglob
jars=(java/target/jrnn-*.jar)
[ ${#jars[@]} -eq 1 ] || { echo "build.sh: expected one java/target/jrnn-*.jar, found ${#jars[@]}" >&2; exit 1; }
[ -d java/target/test-classes/io/jrnn/backend/cuda ] \
    || { echo "build.sh: java/target/test-classes has no io/jrnn/backend/cuda (test classes not compiled)" >&2; exit 1; }

rm -rf "$OUTDIR"
mkdir -p "$OUTDIR/lib" "$OUTDIR/junit"
cp "${jars[0]}" "$OUTDIR/lib/"
for jar in java/target/lib/*.jar; do
    case "$(basename "$jar")" in
        dnnl-*|opencl-*|onnxruntime-*|xchart-*) ;;  # oneDNN (27 MB), OpenCL, ONNX Runtime (54 MB, a `jrnn bench` peer) and XChart stay out: nothing on the GPU path needs them
        *) cp "$jar" "$OUTDIR/lib/" ;;
    esac
done
cp -r java/target/test-classes "$OUTDIR/tests"
rm -rf "$OUTDIR/tests/jqwik-database" "$OUTDIR/tests/.jqwik-database"

# 2. the JUnit console launcher, pinned in the root pom
JUNIT_PLATFORM=$(sed -n 's:.*<junit.platform.version>\(.*\)</junit.platform.version>.*:\1:p' pom.xml | head -1)
[ -n "$JUNIT_PLATFORM" ] || { echo "build.sh: no <junit.platform.version> in pom.xml" >&2; exit 1; }
DEP_PLUGIN=$(sed -n 's:.*<dependency.plugin.version>\(.*\)</dependency.plugin.version>.*:\1:p' pom.xml | head -1)
echo "== junit-platform-console-standalone $JUNIT_PLATFORM"
mvn -q "org.apache.maven.plugins:maven-dependency-plugin:${DEP_PLUGIN:-3.8.1}:copy" \
    "-Dartifact=org.junit.platform:junit-platform-console-standalone:$JUNIT_PLATFORM" \
    "-DoutputDirectory=$OUTDIR/junit"

# 3. a small Java runtime
JLINK=${JLINK:-}
if [ -z "$JLINK" ]; then
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/jlink" ]; then JLINK="$JAVA_HOME/bin/jlink"; else JLINK=jlink; fi
fi
echo "== $JLINK --add-modules $MODULES"
"$JLINK" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --output "$OUTDIR/jre"
# Distribution JDKs often ship libjvm.so with its symbol table (~4 MB); only crash reports use it.
if command -v strip >/dev/null 2>&1; then
    strip --strip-unneeded "$OUTDIR/jre/lib/server/libjvm.so"
fi
"$OUTDIR/jre/bin/java" -version 2>&1 | head -1

# 4. scripts and notes
cp "$SRC/run.sh" "$SRC/find-cuda-libs.sh" "$SRC/parity-summary.sh" "$SRC/torch_peer.py" "$SRC/README.md" "$OUTDIR/"
chmod +x "$OUTDIR/run.sh" "$OUTDIR/torch_peer.py"
{
    echo "jrnn $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown), built $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$OUTDIR/VERSION"

# 5. size
bytes=$(du -sb "$OUTDIR" | cut -f1)
printf '== target/gpu-bundle: %d bytes (%s MiB); limit %d MiB\n' "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    $((LIMIT_BYTES / 1048576))
du -sh "$OUTDIR"/* | sed 's/^/   /'
if [ "$bytes" -ge "$LIMIT_BYTES" ]; then
    echo "build.sh: the bundle is $bytes bytes, at or over the 60 MiB limit" >&2
    exit 1
fi
