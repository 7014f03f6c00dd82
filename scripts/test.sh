#!/usr/bin/env bash
# Install dependencies, check that calls and includes go down the layers of
# src/README.md, build and install callrecords_fdw, start the Graph
# emulator and a throwaway PostgreSQL 15 cluster (the library preloaded, so
# that sessions share Graph's rate windows and the token), and run against them: the
# emulator's self-test, the regression suite, the table reference and
# query-shapes checks of docs/, the docs test (every SQL block of README.md,
# against an emulator of its own with the moving clock), a
# grep of the server log for secrets, the mutation fuzzing of pages, the
# client tests (pgjdbc and psqlODBC, installed here if missing), the
# differential query test and a bounded sqlsmith run (sqlsmith installed
# here) and the libFuzzer target for FUZZ_SECONDS (default 60).
# Exits non-zero on any failure.
. "$(dirname "$0")/common.sh"

PACKAGES="$PACKAGES clang sqlsmith"
install_deps

echo "== layering check (src/README.md)"
"$PYTHON" "$ROOT/scripts/check_layers.py"

build_install

echo "== emulator self-test"
"$PYTHON" "$ROOT/emulator/selftest.py"

EMULATOR_CLOCK=fixed start_emulator
echo "== regression suite (pg_regress via make installcheck)"
rm -f "$ROOT/regression.diffs"
out="$EMU_DIR/installcheck.out"
status=0
pg_virtualenv -t -v 15 -o shared_preload_libraries=callrecords_fdw sh -c 'make -C "$1" -s installcheck && "$1/scripts/readme_tables.sh" --check &&
    /usr/bin/python3 "$1/scripts/readme_sql.py" &&
    "$1/scripts/check_log_secrets.sh" && /usr/bin/python3 "$1/tests/fuzz_pages.py" &&
    "$1/tests/clients/run.sh" && "$1/tests/differential/run.sh" && "$1/tests/libfuzzer/run.sh"' sh "$ROOT" 2>&1 \
    | tee "$out" || status=$?
if [ $status -ne 0 ] && [ -f "$ROOT/regression.diffs" ]; then
    cat "$ROOT/regression.diffs"
fi
passed=$(grep -cE '^(test |     |ok )?.*\.\.\. ok' "$out" || true)
failed=$(grep -cE '\.\.\. FAILED' "$out" || true)
echo "regression: $passed passed, $failed failed"
exit $status
