#!/usr/bin/env bash
# The benchmark harness of issue 6: builds what it needs, runs every row N times with its
# same-run reference and writes a dated section into bench/RESULTS.md (bench/target/RESULTS-quick.md
# with --quick). Usage: bench/run.sh [--runs N] [--quick]
#                                    [--rows upload,replication,webrtc,catchup,boot,jobqueue,crypto,signal]
#                                    [--no-netns] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
NETNS=yes
BUILD=yes
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-netns) NETNS=no ;;
    --no-build) BUILD=no ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

if [ "$BUILD" = yes ]; then
  # Always: an assembly left from an earlier build (or with a jar swapped in for an A/B) would
  # be measured as if it were this checkout. Maven's incremental build keeps this short.
  echo "building the product (mvn install -DskipTests)"
  mvn -B -q install -DskipTests
  mvn -B -q -Pbench -pl bench -am package -DskipTests
fi
[ -f bench/target/benchmarks.jar ] || { echo "bench/target/benchmarks.jar missing"; exit 1; }

# the replication reference: Debian's syncthing
if ! command -v syncthing >/dev/null 2>&1; then
  echo "installing syncthing (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q syncthing || { apt-get update -q && apt-get install -y -q syncthing; }
  else sudo apt-get install -y -q syncthing; fi
fi
# the webrtc rows: Debian's coturn (the relay row's TURN server) and libpulse0 (the webrtc-java native library links it)
if ! command -v turnserver >/dev/null 2>&1 || ! dpkg-query -W -f='${Status}' libpulse0 2>/dev/null | grep -q 'ok installed'; then
  echo "installing coturn and libpulse0 (Debian packages)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q coturn libpulse0 || { apt-get update -q && apt-get install -y -q coturn libpulse0; }
  else sudo apt-get install -y -q coturn libpulse0; fi
fi

# the boot/memory reference: plain Apache Karaf 4.4.8 from Maven Central
KARAF=bench/target/karaf/apache-karaf-4.4.8
if [ ! -x "$KARAF/bin/karaf" ]; then
  mkdir -p bench/target/karaf
  mvn -B -q dependency:copy -Dartifact=org.apache.karaf:apache-karaf:4.4.8:tar.gz -DoutputDirectory=bench/target/karaf
  tar xzf bench/target/karaf/apache-karaf-4.4.8.tar.gz -C bench/target/karaf
fi

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
CMD=("$JAVA" -Xmx2g -cp bench/target/benchmarks.jar org.sover.bench.harness.Harness --bench "$ROOT/bench"
     --assembly "$ROOT/assembly/target/assembly" --signal "$ROOT/signal-distribution/target/assembly" --karaf "$ROOT/$KARAF" --built "$([ "$BUILD" = yes ] && echo true || echo false)")
# Everything the harness starts (nodes, Syncthing, plain Karaf) in a network namespace that has
# only loopback, when this user may make one (root); otherwise on the host's 127.0.0.1.
if [ "$NETNS" = yes ] && unshare -n true 2>/dev/null; then
  exec unshare -n sh -c 'ip link set lo up && exec "$@"' sh "${CMD[@]}" --netns "yes (unshare -n, lo only)" "${ARGS[@]}"
else
  exec "${CMD[@]}" --netns "no" "${ARGS[@]}"
fi
