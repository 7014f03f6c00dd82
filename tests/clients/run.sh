#!/usr/bin/env bash
# The client tests: pgjdbc (Java) and psqlODBC (isql) against the regression
# database that the suite set up.  Runs inside pg_virtualenv after
# installcheck; skips a client, saying so, only if it cannot be installed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
status=0

want() {   # install Debian packages if missing; false if that fails
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        > /dev/null 2>&1 || { $SUDO apt-get update -q > /dev/null 2>&1 &&
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null 2>&1; }
}

# --- pgjdbc
if want libpostgresql-jdbc-java default-jdk-headless && command -v javac > /dev/null; then
    work=$(mktemp -d)
    javac -d "$work" -cp /usr/share/java/postgresql.jar "$HERE/ClientTest.java" || status=1
    java -cp "$work:/usr/share/java/postgresql.jar" ClientTest || status=1
    rm -rf "$work"
else
    echo "jdbc: SKIPPED: pgjdbc or a JDK could not be installed"
fi

# --- psqlODBC through unixODBC's isql
if want odbc-postgresql unixodbc; then
    work=$(mktemp -d)
    driver=$(find /usr/lib -name psqlodbcw.so | head -n 1)
    printf '[callrecords]\nDriver=%s\nServername=%s\nPort=%s\nDatabase=contrib_regression\nUserName=%s\nPassword=%s\n' \
        "$driver" "$PGHOST" "$PGPORT" "$PGUSER" "${PGPASSWORD:-}" > "$work/odbc.ini"
    export ODBCINI="$work/odbc.ini" ODBCSYSINI="$work"
    : > "$work/odbcinst.ini"
    tables=$(echo "help" | isql -b callrecords 2>&1)
    join=$(echo "SELECT count(*) FROM cr.sessions s JOIN cr.streams t USING (call_record_id, session_index) WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000004' AND t.call_record_id = 'cafe0000-0000-4000-8000-000000000004'" \
           | isql -b -d, -x0x09 callrecords 2>&1)
    odbc_passed=0; odbc_failed=0
    if echo "$tables" | grep -q "| *streams *|" && echo "$tables" | grep -q "FOREIGN TABLE"; then
        echo "ok     odbc: SQLTables lists cr.streams as a FOREIGN TABLE"; odbc_passed=$((odbc_passed+1))
    else
        echo "FAILED odbc: SQLTables did not list cr.streams:"; echo "$tables" | head -20; odbc_failed=$((odbc_failed+1))
    fi
    if echo "$join" | grep -qx "28"; then
        echo "ok     odbc: a join of sessions and streams returns 28 rows"; odbc_passed=$((odbc_passed+1))
    else
        echo "FAILED odbc: join gave:"; echo "$join" | head -20; odbc_failed=$((odbc_failed+1))
    fi
    echo "odbc: $odbc_passed passed, $odbc_failed failed"
    [ $odbc_failed -eq 0 ] || status=1
    rm -rf "$work"
else
    echo "odbc: SKIPPED: psqlODBC or unixODBC could not be installed"
fi
exit $status
