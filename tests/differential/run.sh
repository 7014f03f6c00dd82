#!/usr/bin/env bash
# The differential query test (difftest.py) and a bounded sqlsmith run,
# inside the running PostgreSQL cluster that the PG* variables point at
# (scripts/test.sh runs this under pg_virtualenv, after the client tests);
# needs CR_EMULATOR_URL.
#
# Environment: DIFF_SEED, DIFF_QUERIES (generated queries, default 25),
# DIFF_DEADLINE (seconds for the differential queries, default 120),
# SQLSMITH_QUERIES (default 2000), SQLSMITH_SECONDS (wall clock, default 30),
# SQLSMITH_SEED (default 1).
# Fails on a failed differential query, or on a crash (lost connection) or
# internal error (XX000) under sqlsmith; skips sqlsmith, saying so, only if
# it cannot be installed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
status=0

echo "== differential query test"
/usr/bin/python3 "$HERE/difftest.py" || status=1

echo "== sqlsmith"
if ! command -v sqlsmith > /dev/null; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends sqlsmith > /dev/null 2>&1 ||
        { $SUDO apt-get update -q > /dev/null 2>&1 &&
          $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends sqlsmith > /dev/null 2>&1; }
fi
if ! command -v sqlsmith > /dev/null; then
    echo "sqlsmith: SKIPPED: the sqlsmith package could not be installed"
    exit $status
fi

target_db=cr_sqlsmith
log_db=cr_sqlsmith_log
work=$(mktemp -d /tmp/cr_sqlsmith.XXXXXX)
for db in $target_db $log_db; do
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || exit 1
done
psql -X -q -v ON_ERROR_STOP=1 -d $target_db -f "$HERE/sqlsmith_target.sql" > /dev/null || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d $log_db -f "$HERE/sqlsmith_log.sql" > /dev/null || exit 1

conn() {   # libpq connection string for database $1 as role $2
    local s="dbname=$1 user=$2"
    [ -n "${PGHOST:-}" ] && s="$s host=$PGHOST"
    [ -n "${PGPORT:-}" ] && s="$s port=$PGPORT"
    [ "$2" = cr_smith ] && s="$s password=cr_smith"
    [ "$2" != cr_smith ] && [ -n "${PGPASSWORD:-}" ] && s="$s password=$PGPASSWORD"
    echo "$s"
}
queries=${SQLSMITH_QUERIES:-2000}
seconds=${SQLSMITH_SECONDS:-30}
start_pid=$(psql -X -Atq -d postgres -c "SELECT pg_postmaster_start_time()")
timeout -s INT "$seconds" sqlsmith --target="$(conn $target_db cr_smith)" \
    --log-to="$(conn $log_db "${PGUSER:-postgres}")" --seed="${SQLSMITH_SEED:-1}" \
    --max-queries="$queries" --exclude-catalog --verbose > "$work/stdout" 2> "$work/stderr"
rc=$?
# the server must still be up and never have restarted
alive=$(psql -X -Atq -d postgres -c "SELECT pg_postmaster_start_time()" 2>/dev/null || echo down)

# --verbose prints one character per query: . ok, e error, t timeout, S syntax error, C broken connection
progress=$(grep -E '^[.etSC]+$' "$work/stderr" | tr -d '\n')
generated=${#progress}
lost=$(printf '%s' "$progress" | tr -cd 'C' | wc -c)
crashes=$(psql -X -Atq -d $log_db -c "SELECT count(*) FROM error WHERE sqlstate LIKE '08%'
    OR msg ~ 'server closed the connection|terminating connection because of crash|connection to server was lost'")
internal=$(psql -X -Atq -d $log_db -c "SELECT count(*) FROM error WHERE sqlstate = 'XX000'")
[ "$lost" -gt "$crashes" ] && crashes=$lost
[ "$alive" != "$start_pid" ] && crashes=$((crashes + 1))
echo "sqlsmith: errors by SQLSTATE (54000 request budget and 57014 statement timeout are expected):"
psql -X -q -d $log_db -c "SELECT sqlstate, count(*), left(min(split_part(msg, E'\n', 1)), 110) AS sample
                            FROM error GROUP BY 1 ORDER BY 2 DESC"
if [ "$internal" -gt 0 ] || [ "$crashes" -gt 0 ]; then
    psql -X -q -d $log_db -c "SELECT sqlstate, split_part(msg, E'\n', 1) AS error, query FROM error
        WHERE sqlstate = 'XX000' OR sqlstate LIKE '08%' ORDER BY errid LIMIT 5"
fi
echo "sqlsmith: $generated queries, $crashes crashes, $internal internal errors (exit $rc, output in $work)"
if [ "$generated" -eq 0 ]; then
    echo "sqlsmith: FAILED: no queries ran"; tail -20 "$work/stderr"; status=1
elif [ "$internal" -gt 0 ] || [ "$crashes" -gt 0 ]; then
    echo "sqlsmith: FAILED"; status=1
fi
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $target_db" -c "DROP DATABASE IF EXISTS $log_db" > /dev/null 2>&1
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS cr_differential" > /dev/null 2>&1
exit $status
