#!/usr/bin/env bash
# Install dependencies, build and install callrecords_fdw, then run a few
# example queries against the bundled Graph emulator in a throwaway
# PostgreSQL 15 cluster.  Everything is removed again on exit.  The
# emulator's calls move with the clock (the last 29 days), so the queries
# use relative dates as they would against a tenant.
. "$(dirname "$0")/common.sh"

install_deps
build_install
EMULATOR_CLOCK=moving start_emulator
echo "== demo queries (scripts/demo.sql)"
pg_virtualenv -t -v 15 psql -X -v ON_ERROR_STOP=1 -f "$ROOT/scripts/demo.sql"
