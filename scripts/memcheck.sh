#!/usr/bin/env bash
# The regression suite against a PostgreSQL 15 server running under
# valgrind memcheck, so that every backend the suite starts (and every
# libcurl, jansson and callrecords_fdw call in it) is checked for invalid
# reads and writes, use of uninitialised values and bad frees.
#
# Debian's server is not an ASan build, and preloading the ASan runtime
# into it hangs at start-up, so valgrind is the memory checker that works
# with the packaged server.  palloc'd memory is only partly covered (the
# server is not built with USE_VALGRIND), malloc'd memory fully.
#
# Fails on any valgrind error or a backend killed by a signal.  Differences
# from the expected output are reported but do not fail the run: under
# valgrind the server is ~20x slower and the timing-sensitive tests (the
# 200 ms statement_timeout cases) may legitimately take another path.
. "$(dirname "$0")/common.sh"

PACKAGES="$PACKAGES valgrind"
install_deps
build_install
start_emulator

PGBIN=$(pg_config --bindir)
WORK=$(mktemp -d /tmp/cr_memcheck.XXXXXX)
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$WORK"
    RUNAS=(runuser -u postgres --)
fi
PORT=${MEMCHECK_PORT:-54329}

# A fast shutdown, waited for: valgrind writes its last reports as the
# server's processes exit.
stop_postgres() {
    if [ -f "$WORK/data/postmaster.pid" ]; then
        kill -INT "$(head -1 "$WORK/data/postmaster.pid")" 2>/dev/null || true
        for _ in $(seq 1 600); do
            [ -f "$WORK/data/postmaster.pid" ] || break
            sleep 0.1
        done
    fi
}
stop_all() {
    stop_postgres
    stop_emulator
}
trap stop_all EXIT

echo "== initdb"
"${RUNAS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres -A trust >"$WORK/initdb.log" 2>&1

echo "== starting postgres under valgrind"
"${RUNAS[@]}" valgrind --quiet --trace-children=no --error-limit=no \
    --suppressions="$ROOT/scripts/valgrind.supp" \
    --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
    --num-callers=30 --log-file="$WORK/valgrind.%p.log" \
    "$PGBIN/postgres" -D "$WORK/data" -p "$PORT" -k "$WORK" \
    -c listen_addresses= -c fsync=off -c max_connections=20 \
    -c shared_preload_libraries=callrecords_fdw \
    -c log_line_prefix='%m [%p] ' >"$WORK/server.log" 2>&1 &
for _ in $(seq 1 1200); do
    "$PGBIN/pg_isready" -q -h "$WORK" -p "$PORT" && break
    sleep 0.1
done
"$PGBIN/pg_isready" -q -h "$WORK" -p "$PORT" || { cat "$WORK/server.log"; exit 1; }

echo "== regression suite under valgrind"
export PGHOST="$WORK" PGPORT="$PORT" PGUSER=postgres
regress_status=0
tests=$(sed -n 's/^REGRESS = //p' "$ROOT/Makefile")
(cd "$ROOT" && "$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress" \
    --inputdir=. --bindir="$PGBIN" --outputdir="$WORK/out" \
    --dbname=contrib_regression $tests) >"$WORK/regress.log" 2>&1 || regress_status=$?
cat "$WORK/regress.log"
if ! kill -0 "$(head -1 "$WORK/data/postmaster.pid")" 2>/dev/null; then
    echo "memcheck: the server is no longer running"
    exit 1
fi
stop_postgres

processes=$(ls "$WORK"/valgrind.*.log | wc -l)
errors=$(cat "$WORK"/valgrind.*.log | grep -c 'VALGRINDERROR-BEGIN' || true)
signals=$(grep -c 'terminated by signal' "$WORK/server.log" || true)
echo "memcheck: $processes processes checked, $errors valgrind errors, $signals backends killed by a signal"
if [ "$regress_status" -ne 0 ]; then
    echo "memcheck: some tests differ from the expected output under valgrind (see $WORK/out/regression.diffs)"
fi
if [ "$errors" -ne 0 ]; then
    for f in "$WORK"/valgrind.*.log; do
        if grep -q 'VALGRINDERROR-BEGIN' "$f"; then echo "--- $f"; cat "$f"; fi
    done
fi
[ "$errors" -eq 0 ] && [ "$signals" -eq 0 ]
