#!/usr/bin/env bash
# Install dependencies, build and install callrecords_fdw, then run a few
# example queries against the bundled Graph emulator in a throwaway
# PostgreSQL 15 cluster.  Everything is removed again on exit.
. "$(dirname "$0")/common.sh"

install_deps
build_install
start_emulator
echo "== demo queries (scripts/demo.sql)"
pg_virtualenv -v 15 psql -X -v ON_ERROR_STOP=1 -f "$ROOT/scripts/demo.sql"
