# Shared by scripts/demo.sh and scripts/test.sh: dependencies, build, emulator.
# Sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
PYTHON=/usr/bin/python3

# Debian packages the build, the emulator and the tests need.
PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-common
          libcurl4-openssl-dev libjansson-dev libssl-dev python3 python3-cryptography
          openssl curl ca-certificates"

# Install what is missing; apt-get only runs when something is.
install_deps() {
    local missing=() p
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        $SUDO apt-get update -q
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

build_install() {
    echo "== building and installing callrecords_fdw"
    make -C "$ROOT" -s
    $SUDO make -C "$ROOT" -s install
}

EMU_PID=
EMU_DIR=

stop_emulator() {
    if [ -n "$EMU_PID" ]; then
        kill "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
        EMU_PID=
    fi
    if [ -n "$EMU_DIR" ]; then rm -rf "$EMU_DIR"; EMU_DIR=; fi
}

# Start the Graph emulator on an ephemeral loopback port and export its
# base URL as CR_EMULATOR_URL; it is stopped when the script exits.  Its
# clock is EMULATOR_CLOCK: fixed (the default here: the calls of
# 2026-11-01..20 that the tests and the benchmark expect, whatever the
# date) or moving (the demo: calls of the last 29 days).
start_emulator() {
    EMU_DIR=$(mktemp -d)
    "$PYTHON" "$ROOT/emulator/graph_emulator.py" --port 0 --port-file "$EMU_DIR/port" \
        --clock "${EMULATOR_CLOCK:-fixed}" "$@" &
    EMU_PID=$!
    trap stop_emulator EXIT
    local i
    for i in $(seq 1 100); do
        [ -s "$EMU_DIR/port" ] && break
        kill -0 "$EMU_PID" 2>/dev/null || { echo "Graph emulator exited" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$EMU_DIR/port" ] || { echo "Graph emulator did not start within 10 s" >&2; exit 1; }
    CR_EMULATOR_URL="http://127.0.0.1:$(cat "$EMU_DIR/port")"
    export CR_EMULATOR_URL
    echo "== Graph emulator listening at $CR_EMULATOR_URL"
}
