#!/usr/bin/env bash
# Build the libFuzzer target (harness.c plus the whole extension, compiled
# with clang, coverage instrumentation and UBSan) and run it for
# FUZZ_SECONDS (default 60) inside the running PostgreSQL cluster that the
# PG* variables point at (scripts/test.sh runs this under pg_virtualenv).
#
# Prints libFuzzer's final statistics, the outcomes by SQLSTATE and the
# backend's memory at doubling input counts, and fails on a finding: a
# crash, a UBSan report, an internal error (XX000), a query that hangs,
# libFuzzer's RSS limit, or backend memory still growing after input 512.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
# clang 19 and later print the per-target directory, where Debian's clang
# has no runtimes: they are in lib/linux, named by architecture
RT=$("$CLANG" -print-runtime-dir)
[ -e "$RT/libclang_rt.fuzzer_no_main-x86_64.a" ] || RT=$(dirname "$RT")/linux
# against a server built with AddressSanitizer (scripts/matrix.sh), the
# target is built with it too and uses the server's runtime, which has UBSan
SANITIZE=fuzzer-no-link,undefined
UBSAN_RT=("$RT/libclang_rt.ubsan_standalone-x86_64.so" -Wl,-rpath,"$RT")
if pg_config --cflags | grep -q -- '-fsanitize=address'; then
    SANITIZE=fuzzer-no-link,address,undefined
    UBSAN_RT=()
fi
WORK=$(mktemp -d /tmp/cr_libfuzzer.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/obj" "$WORK/corpus" "$WORK/seeds" "$WORK/artifacts"

echo "== libFuzzer: building the fuzz target with $CLANG (-fsanitize=$SANITIZE)"
CFLAGS=(-O1 -g -fPIC -fno-omit-frame-pointer
        -fsanitize=$SANITIZE -fno-sanitize-recover=undefined
        -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
        -I"$ROOT/src" -I"$(pg_config --includedir-server)" -I"$(pg_config --includedir)"
        -D_GNU_SOURCE -Wall -Wno-unused-command-line-argument -Wno-ignored-attributes)
objs=()
for src in "$ROOT/callrecords_fdw.c" "$ROOT"/src/*.c "$HERE/harness.c"; do
    obj="$WORK/obj/$(basename "$src" .c).o"
    "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
done
SO="$WORK/callrecords_fuzz.so"
# -Bsymbolic: the server loads libraries RTLD_GLOBAL, and where the library
# itself is preloaded, the target's calls would otherwise bind to its
# uninstrumented functions (and define its settings twice)
"$CLANG" -shared -Wl,-Bsymbolic -o "$SO" "${objs[@]}" \
    -Wl,--whole-archive "$RT/libclang_rt.fuzzer_no_main-x86_64.a" -Wl,--no-whole-archive \
    ${UBSAN_RT[@]+"${UBSAN_RT[@]}"} \
    -lstdc++ -lcurl -ljansson -lcrypto

echo "== libFuzzer: seeds from the Graph docs' example bodies"
/usr/bin/python3 "$HERE/seeds.py" "$ROOT/emulator/fixtures" "$WORK/seeds"
# the server reads the dictionary: from $WORK, as a checkout may lie in a
# directory its user cannot enter
cp "$HERE/dict" "$WORK/dict"
if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$WORK"; fi

db=cr_libfuzzer
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v so="$SO" <<'SQL'
CREATE FUNCTION fuzz_handler() RETURNS fdw_handler AS :'so', 'callrecords_fdw_handler' LANGUAGE C STRICT;
CREATE FUNCTION fuzz_validator(text[], oid) RETURNS void AS :'so', 'callrecords_fdw_validator' LANGUAGE C STRICT;
CREATE FUNCTION cr_fuzz_run(text, text[]) RETURNS void AS :'so', 'cr_fuzz_run' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER fuzz_fdw HANDLER fuzz_handler VALIDATOR fuzz_validator;
CREATE SERVER graph FOREIGN DATA WRAPPER fuzz_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'http://127.0.0.1:9', login_url 'http://127.0.0.1:9');
CREATE USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (client_id 'c', client_secret 's');
CREATE SCHEMA cr;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr;
SQL

echo "== libFuzzer: running for ${SECONDS_TO_RUN}s"
log="$WORK/fuzz.log"
args="ARRAY['-max_total_time=$SECONDS_TO_RUN', '-max_len=65536', '-timeout=0',
            '-handle_int=0', '-handle_term=0', '-rss_limit_mb=2048', '-print_final_stats=1',
            '-dict=$WORK/dict', '-artifact_prefix=$WORK/artifacts/',
            '$WORK/corpus', '$WORK/seeds']"
# libFuzzer ends the backend when it is done, so psql reports a lost
# connection; the verdict comes from the log.
timeout $((SECONDS_TO_RUN + 120)) psql -X -q -d "$db" \
    -c "SELECT cr_fuzz_run('$log', $args)" >/dev/null 2>&1 || true
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true

grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::|callrecords fuzz:)' "$log" || true
if grep -qE 'FINDING|ERROR: libFuzzer|runtime error:|==ERROR|deadly signal|out-of-memory' "$log" \
   || ! grep -q '^Done [0-9]* runs' "$log"; then
    echo "libFuzzer: FAILED, log and artifacts in $WORK"
    tail -60 "$log"
    ls -l "$WORK/artifacts"
    exit 1
fi
# backend memory must level off: caches fill during the first inputs, a
# leak per input keeps growing
early=$(sed -n 's/^callrecords fuzz: TopMemoryContext \([0-9]*\) kB after input 512$/\1/p' "$log")
final=$(sed -n 's/^callrecords fuzz: TopMemoryContext .* kB after the first input, \([0-9]*\) kB after input .*/\1/p' "$log")
if [ -n "$early" ] && [ -n "$final" ] && [ "$final" -gt $((early + 1024)) ]; then
    echo "libFuzzer: FAILED, backend memory grew from $early kB (input 512) to $final kB"
    exit 1
fi
echo "libFuzzer: passed (log in $WORK/fuzz.log)"
