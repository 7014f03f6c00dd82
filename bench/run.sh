#!/usr/bin/env bash
# The benchmark of README "Benchmark": installs and builds like the test
# command, starts the emulator and a throwaway cluster, and prints medians
# and ratios measured side by side in this one run.
. "$(dirname "$0")/../scripts/common.sh"

install_deps
build_install
EMULATOR_CLOCK=fixed start_emulator
pg_virtualenv -t -v 15 -o shared_preload_libraries=callrecords_fdw "$PYTHON" "$ROOT/bench/bench.py"
