#!/usr/bin/env bash
# Check (default) or rewrite (--update) the generated sections of the docs,
# so they cannot drift: the table reference of docs/tables.md (from the
# extension's catalogue) and the query shapes of docs/pushdown.md (the Graph
# requests EXPLAIN shows for each query of scripts/readme_shapes.txt, in the
# regression database).  Needs a running
# server with the extension installed, reached through the PG* environment,
# after the regression suite (scripts/test.sh runs it inside pg_virtualenv).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:---check}
status=0

tables() {
    psql -X -Atq -v ON_ERROR_STOP=1 -d postgres \
         -c 'CREATE EXTENSION IF NOT EXISTS callrecords_fdw' \
         -f "$ROOT/scripts/readme_tables.sql"
}

# One row per shape: its label, the query, and the requests EXPLAIN shows.
shapes() {
    echo '| Shape | Query | Graph requests (EXPLAIN) |'
    echo '|---|---|---|'
    grep -v '^#' "$ROOT/scripts/readme_shapes.txt" | while IFS=$'\t' read -r label query; do
        requests=$(psql -X -Atq -v ON_ERROR_STOP=1 -d contrib_regression \
                        -c "SET TimeZone = 'UTC'" -c "EXPLAIN (COSTS OFF) $query" |
                   sed -n 's/^ *Graph \(request\|window\): //p' | sed 's/.*/`&`/' |
                   paste -sd '#' - | sed 's/#/<br>/g')
        echo "| $label | \`$query\` | $requests |"
    done
}

# Check or rewrite the part of FILE between <!-- NAME:begin --> and <!-- NAME:end -->.
section() {
    local name=$1 README="$ROOT/$2" generated current
    generated=$(mktemp)
    current=$(mktemp)
    "$name" > "$generated"
    awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '$0==b{f=1; next} $0==e{f=0} f' "$README" > "$current"
    if [ "$mode" = "--update" ]; then
        awk -v gen="$generated" -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" '
            $0==b { print; while ((getline line < gen) > 0) print line; skip=1; next }
            $0==e { skip=0 }
            !skip { print }' "$README" > "$README.new"
        mv "$README.new" "$README"
        echo "$2 $name updated"
    elif diff -u "$current" "$generated" > /dev/null; then
        echo "$2 $name match what they are generated from"
    else
        diff -u "$current" "$generated" | head -40
        echo "$2 $name are out of date: run scripts/readme_tables.sh --update inside pg_virtualenv" >&2
        status=1
    fi
    rm -f "$generated" "$current"
}

section tables docs/tables.md
section shapes docs/pushdown.md
exit $status
