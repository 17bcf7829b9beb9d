#!/usr/bin/env bash
# Runs the whole test suite: unit tests, Pax Exam tests in the built distribution, and the
# scenario tests (kill -9 during uploads, a 2 GiB upload under -Xmx256m, headless Chromium).
# Installs the Debian packages the tests need when they are missing (as root or with sudo):
# Chromium for the browser tests, coturn for the TURN tests, and the shared libraries the
# WebRTC native library links against (libpulse0 among them; no sound server runs).
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
for lib in libpulse0 libudev1 libx11-6 libxfixes3 libxrandr2 libxcomposite1 libdbus-1-3; do
    dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "install ok installed" || need+=("$lib")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "Installing ${need[*]} for the tests..."
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
exec mvn -B install "$@"
