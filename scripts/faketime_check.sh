#!/usr/bin/env bash
# Run the regression suite with the PostgreSQL server's clock moved (default
# a year ahead), to check that no test depends on today's date: the tests'
# calls are fixed (emulator --clock fixed) and the planner counts Graph's 30
# days back from callrecords_fdw.reference_time, which sql/setup.sql fixes.
#
#   scripts/faketime_check.sh [FAKETIME] [TESTS]     e.g. "+365d" "setup shapes"
#
# The postmaster of a pg_virtualenv cluster is restarted under libfaketime
# (Debian's libfaketime: LD_PRELOAD and FAKETIME in the cluster's
# environment file, which pg_ctlcluster reads); psql, pg_regress, the
# emulator and the programs the server runs (curl, for the tests' control
# requests) keep the real clock.  Not part of scripts/test.sh (about 3
# minutes for the whole suite); see CONTRIBUTING.md.
. "$(dirname "$0")/common.sh"

OFFSET=${1:-+365d}
TESTS=${2:-$(sed -n 's/^REGRESS = //p' "$ROOT/Makefile")}
LIBFAKETIME=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

PACKAGES="$PACKAGES faketime libfaketime"
install_deps
build_install
EMULATOR_CLOCK=fixed start_emulator
# the cluster's environment file has postgresql.conf's syntax
ENV_LINES="LD_PRELOAD = '$LIBFAKETIME'
FAKETIME = '$OFFSET'
FAKETIME_ONLY_CMDS = 'postgres'"
rm -f "$ROOT/regression.diffs"
pg_virtualenv -t -v 15 -o shared_preload_libraries=callrecords_fdw sh -c '
    set -e
    env_file="${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}/15/regress/environment"
    printf "%s\n" "$1" >> "$env_file"
    pg_ctlcluster 15 regress restart
    echo "== server clock: $(psql -XAtc "SELECT now()")  (real: $(date -u "+%F %T"))"
    make -C "$2" -s installcheck REGRESS="$3"' sh "$ENV_LINES" "$ROOT" "$TESTS"
