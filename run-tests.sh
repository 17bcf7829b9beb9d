#!/usr/bin/env bash
# Runs the whole test suite: unit tests, Pax Exam tests in the built distribution, and the
# scenario tests (kill -9 during uploads, a 2 GiB upload under -Xmx256m, headless Chromium).
# Installs the Debian packages the browser test needs when they are missing (as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    echo "Installing ${need[*]} for the browser test..."
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
exec mvn -B install "$@"
