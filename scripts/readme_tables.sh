#!/usr/bin/env bash
# Check (default) or rewrite (--update) the table reference in README.md,
# which is generated from the extension's catalogue so it cannot drift.
# Needs a running server with the extension installed, reached through the
# PG* environment (scripts/test.sh runs it inside pg_virtualenv).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
README="$ROOT/README.md"
mode=${1:---check}

generated=$(mktemp)
current=$(mktemp)
trap 'rm -f "$generated" "$current"' EXIT

psql -X -Atq -v ON_ERROR_STOP=1 -d postgres \
     -c 'CREATE EXTENSION IF NOT EXISTS callrecords_fdw' \
     -f "$ROOT/scripts/readme_tables.sql" > "$generated"
awk '/<!-- tables:begin -->/{f=1; next} /<!-- tables:end -->/{f=0} f' "$README" > "$current"

if [ "$mode" = "--update" ]; then
    awk -v gen="$generated" '
        /<!-- tables:begin -->/ { print; while ((getline line < gen) > 0) print line; skip=1; next }
        /<!-- tables:end -->/ { skip=0 }
        !skip { print }' "$README" > "$README.new"
    mv "$README.new" "$README"
    echo "README.md table reference updated"
elif diff -u "$current" "$generated" > /dev/null; then
    echo "README.md table reference matches the catalogue"
else
    diff -u "$current" "$generated" | head -40
    echo "README.md table reference is out of date: run scripts/readme_tables.sh --update inside pg_virtualenv" >&2
    exit 1
fi
