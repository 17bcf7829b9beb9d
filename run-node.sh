#!/usr/bin/env bash
# Builds Sover when the sources changed, then runs one node in the foreground on embedded
# defaults (data in assembly/target/assembly/data) and prints the web UI address.
# Stop it with Ctrl-C. Variables: SOVER_DATA, SOVER_HTTP_PORT, SOVER_HTTP_HOST, SOVER_SSH_PORT,
# SOVER_ADMIN_PASSWORD (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
dist=assembly/target/assembly
if [ ! -x "$dist/bin/karaf" ] || [ -n "$(find pom.xml bundles webconsole features assembly/src assembly/pom.xml \
        -newer "$dist/bin/karaf" -type f -not -path '*/target/*' 2>/dev/null | head -n 1)" ]; then
    echo "Building Sover (mvn install, tests skipped; run ./run-tests.sh for the tests)..."
    mvn -B -q -Dstyle.color=never install -DskipTests -pl '!itests'
fi
port="${SOVER_HTTP_PORT:-8181}"
data="${SOVER_DATA:-$PWD/$dist/data}"

"$dist/bin/karaf" server &
node=$!
stop_node() {
    echo
    echo "Stopping the node..."
    # bin/karaf runs the JVM as its child: ask Karaf to shut down, do not just kill the script.
    SOVER_DATA="$data" "$dist/bin/stop" >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do
        kill -0 "$node" 2>/dev/null || exit 0
        sleep 0.5
    done
    pkill -TERM -P "$node" 2>/dev/null || true
    exit 0
}
trap stop_node INT TERM

for _ in $(seq 1 240); do
    # the API first, then the web UI (a bundle of its own, registered a moment later)
    if curl -fsS -o /dev/null "http://127.0.0.1:${port}/v1/health" 2>/dev/null \
            && curl -fsS -o /dev/null "http://127.0.0.1:${port}/" 2>/dev/null; then
        echo
        echo "Sover node is running. Open the web UI: http://localhost:${port}/"
        if [ -f "$data/setup-code" ]; then
            echo "First run: enter the setup code $(cat "$data/setup-code") to create the admin account."
        fi
        echo "Admin shell: $dist/bin/client -a ${SOVER_SSH_PORT:-8101} -u <admin account>    Data: $data"
        echo "Press Ctrl-C to stop."
        break
    fi
    if ! kill -0 "$node" 2>/dev/null; then
        echo "The node stopped during start-up; see $data/karaf/log/karaf.log" >&2
        exit 1
    fi
    sleep 0.5
done
wait "$node"
