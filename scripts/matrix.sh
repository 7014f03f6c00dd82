#!/usr/bin/env bash
# The PostgreSQL version matrix: build callrecords_fdw warning-free and run
# the test stages against
#   pg17     Debian trixie's PostgreSQL 17 (packages)
#   pg18     Debian sid's PostgreSQL 18 (packages)
#   cassert  PostgreSQL 18 built from Debian's source package with
#            --enable-cassert --enable-debug (gcc -Og)
#   asan     the same source built with clang and AddressSanitizer, as
#            PostgreSQL's own CI does (.cirrus.tasks.yml: -Og -ggdb
#            -fno-sanitize-recover=all -fsanitize=address, cassert, debug)
# PostgreSQL 15, Debian 12's, is scripts/test.sh's.
#
# Each runs in a chroot that debootstrap makes from the Debian mirror apt
# already uses here (read from /etc/apt at run time), kept with the source
# builds in the cache directory (default /var/cache/callrecords_fdw-matrix)
# and reused while present.  The clusters listen on the first free port
# from 5490 (5491, 5492, 5493 for the others) and reach a Graph emulator that runs on the host's loopback (a chroot shares
# the network).  Needs root (debootstrap, chroot, mount).
#
# Usage: scripts/matrix.sh [--only pg17,pg18,cassert,asan] [--cache DIR]
#                          [--rebuild]   (make the chroots and builds anew)
#                          [--stages installcheck,readme,secrets,fuzz_pages,
#                                    clients,differential,libfuzzer]
#                                        (instead of each part's own)
# Environment: FUZZ_SECONDS (libFuzzer, default 60), and those of the stages.
# Prints each run's stages with their durations and counts, and a summary;
# exits non-zero if any stage of any run failed.
. "$(dirname "$0")/common.sh"

PARTS="pg17 pg18 cassert asan"
CACHE=/var/cache/callrecords_fdw-matrix
REBUILD=no
STAGES=
while [ $# -gt 0 ]; do
    case $1 in
        --only) PARTS=${2//,/ }; shift 2 ;;
        --cache) CACHE=$2; shift 2 ;;
        --rebuild) REBUILD=yes; shift ;;
        --stages) STAGES=${2//,/ }; shift 2 ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
for p in $PARTS; do
    case $p in pg17|pg18|cassert|asan) ;; *) echo "unknown part: $p" >&2; exit 2 ;; esac
done
if [ "$(id -u)" -ne 0 ]; then
    exec sudo -E "$0" --only "${PARTS// /,}" --cache "$CACHE" $([ $REBUILD = yes ] && echo --rebuild) \
        $([ -n "$STAGES" ] && echo --stages "${STAGES// /,}")
fi
mkdir -p "$CACHE"
# the host side: debootstrap, the emulator's python3, git for the sources
PACKAGES="debootstrap python3 git" install_deps

# What each chroot gets: the build, the test stages' tools and clients.
BASE_PACKAGES="postgresql-common make gcc libcurl4-openssl-dev libjansson-dev libssl-dev python3
               python3-cryptography openssl curl
               ca-certificates clang libclang-rt-dev sqlsmith
               libpostgresql-jdbc-java default-jdk-headless odbc-postgresql unixodbc"
SRC_BUILD_PACKAGES="bison flex perl pkg-config zlib1g-dev dpkg-dev"
ASAN_OPTIONS_SERVER=print_stacktrace=1:disable_coredump=0:abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=0
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -y -q)

now() { date +%s; }
elapsed() { echo "$(( $(now) - $1 ))s"; }

# The Debian mirror apt uses on this machine.
mirror() {
    local m
    m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$m" ] || { echo "no Debian mirror found in /etc/apt" >&2; exit 1; }
    echo "$m"
}

MOUNTS=()
cleanup() {
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null || true; done
    MOUNTS=()
    stop_emulator
}
trap cleanup EXIT

mount_chroot() {   # /proc and a /dev/shm of its own
    local dir=$1
    mountpoint -q "$dir/proc" || { mount -t proc proc "$dir/proc"; MOUNTS+=("$dir/proc"); }
    mkdir -p "$dir/dev/shm"
    mountpoint -q "$dir/dev/shm" || { mount -t tmpfs -o size=1g shm "$dir/dev/shm"; MOUNTS+=("$dir/dev/shm"); }
}

in_chroot() {      # run a command in chroot $1 as root, with a clean environment
    local dir=$1; shift
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        ASAN_OPTIONS="$ASAN_OPTIONS_SERVER" "$@"
}

# Make (or reuse) the chroot of a suite with the given packages.
make_chroot() {
    local name=$1 suite=$2 packages=$3 dir="$CACHE/$1" t
    if [ -f "$dir/.ready" ] && [ $REBUILD = no ]; then
        mount_chroot "$dir"
        # a cached chroot gets the packages added to the lists since it was made
        if [ "$(cat "$dir/.ready")" != "$packages" ]; then
            echo "== $name: installing the packages added since the chroot was made"
            { in_chroot "$dir" apt-get "${APT_OPTS[@]}" update &&
              in_chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install $packages
            } > "$CACHE/$name-apt.log" 2>&1 || { tail -20 "$CACHE/$name-apt.log"; exit 1; }
            echo "$packages" > "$dir/.ready"
        fi
        return
    fi
    t=$(now)
    rm -rf "$dir" "$dir.tmp"
    echo "== $name: debootstrap $suite from $(mirror)"
    debootstrap --variant=minbase "$suite" "$dir.tmp" "$(mirror)" > "$CACHE/$name-debootstrap.log" 2>&1 ||
        { tail -20 "$CACHE/$name-debootstrap.log"; exit 1; }
    mv "$dir.tmp" "$dir"
    # no services started by packages, no default cluster
    printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
    chmod +x "$dir/usr/sbin/policy-rc.d"
    mkdir -p "$dir/etc/postgresql-common"
    echo 'create_main_cluster = false' > "$dir/etc/postgresql-common/createcluster.conf"
    printf 'deb %s %s main\ndeb-src %s %s main\n' "$(mirror)" "$suite" "$(mirror)" "$suite" \
        > "$dir/etc/apt/sources.list"
    mount_chroot "$dir"
    echo "== $name: installing packages"
    { in_chroot "$dir" apt-get "${APT_OPTS[@]}" update &&
      in_chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install $packages
    } > "$CACHE/$name-apt.log" 2>&1 || { tail -20 "$CACHE/$name-apt.log"; exit 1; }
    echo "$packages" > "$dir/.ready"
    echo "== $name: chroot ready in $(elapsed "$t")"
}

# Build PostgreSQL 18 from Debian's source package (upstream sources,
# without Debian's patches) in the sid chroot, into /build/pg18-$1.
build_pg18() {
    local kind=$1 dir="$CACHE/sid" t
    if [ -f "$dir/build/pg18-$kind/.ready" ] && [ $REBUILD = no ]; then return; fi
    t=$(now)
    echo "== $kind: building PostgreSQL 18 from source"
    mkdir -p "$dir/build"
    cat > "$dir/build/pg18-build.sh" <<'EOF'
set -e
kind=$1
mkdir -p /build/pgsrc && cd /build/pgsrc
if ! ls -d postgresql-18-*/ > /dev/null 2>&1; then
    apt-get -o Acquire::Check-Valid-Until=false -q source --download-only postgresql-18
    dpkg-source -x --skip-patches postgresql-18_*.dsc
fi
src=$(ls -d /build/pgsrc/postgresql-18-*/ | head -n 1)
rm -rf "build-$kind" "/build/pg18-$kind"
mkdir "build-$kind" && cd "build-$kind"
export ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0
common="--prefix=/build/pg18-$kind --enable-cassert --enable-debug --without-icu --without-readline"
case $kind in
    cassert) "$src/configure" -q $common CC=gcc CFLAGS="-Og -ggdb" ;;
    asan) "$src/configure" -q $common CC=clang \
              CFLAGS="-Og -ggdb -fno-omit-frame-pointer -fno-sanitize-recover=all -fsanitize=address" \
              LDFLAGS=-fsanitize=address ;;
esac
make -s -j"$(nproc)" > /dev/null
make -s install > /dev/null
touch "/build/pg18-$kind/.ready"
EOF
    in_chroot "$dir" bash /build/pg18-build.sh "$kind" > "$CACHE/build-$kind.log" 2>&1 ||
        { tail -30 "$CACHE/build-$kind.log"; exit 1; }
    echo "== $kind: PostgreSQL 18 ($kind) built in $(elapsed "$t")"
}

RESULTS=()
FAILED=0

# One stage of a run: its command's output goes to the run's log and the
# lines that count are shown, with the duration.
stage() {
    local name=$1 t rc; shift
    t=$(now)
    echo "-- $RUN: $name" >> "$RUN_LOG"
    rc=0
    "$@" >> "$RUN_LOG.stage" 2>&1 || rc=$?
    cat "$RUN_LOG.stage" >> "$RUN_LOG"
    grep -E '^(test |ok |not ok |     )?.*\.\.\. (ok|FAILED)|tests passed|tests failed|^ok |^FAILED|passed|failed|SKIPPED|queries|Done [0-9]+ runs|AddressSanitizer|warning:|error:' \
        "$RUN_LOG.stage" | grep -vE '^(test |ok +[0-9]+ +- ) *[a-z_]+ +\.\.\. ok' | sed 's/^/   /' | tail -15 || true
    rm -f "$RUN_LOG.stage"
    if [ $rc -eq 0 ]; then
        echo "   $RUN: $name ok ($(elapsed "$t"))"
    else
        echo "   $RUN: $name FAILED ($(elapsed "$t"), log $RUN_LOG)"
        STATUS=1
    fi
    return 0
}

# The first port from $1 on which nothing listens on the loopback (another
# cluster of the machine may hold the one asked for).
free_port() {
    local p=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
        p=$((p + 10))
    done
    echo "$p"
}

# Run the stages against one server: chroot dir, its pg_config, port,
# and the stages wanted.
run() {
    local dir=$1 pg_config=$2 port stages=${STAGES:-$4} t bindir data env_as_pg
    port=$(free_port "$3")
    RUN=$5 STATUS=0 RUN_LOG="$CACHE/$5.log"
    t=$(now)
    : > "$RUN_LOG"
    echo "== $RUN: $(in_chroot "$dir" "$pg_config" --version)"
    bindir=$(in_chroot "$dir" "$pg_config" --bindir)

    # the sources as they are in this checkout, committed or not
    rm -rf "$dir/build/src" && mkdir -p "$dir/build/src"
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) | tar -xf - -C "$dir/build/src"

    # the emulator afresh, the cluster afresh
    stop_emulator; start_emulator --file-root "$dir" > /dev/null
    trap cleanup EXIT
    data=/build/run-$RUN/data
    if [ -f "$dir$data/postmaster.pid" ]; then   # left running by an interrupted run
        chroot --userspec=postgres:postgres "$dir" "$bindir/pg_ctl" -D "$data" -w -m immediate stop > /dev/null 2>&1 || true
    fi
    rm -rf "$dir/build/run-$RUN"
    in_chroot "$dir" install -d -o postgres "/build/run-$RUN" "$data"
    in_chroot "$dir" chown -R postgres /build/src
    # over TCP with a password, as pg_virtualenv does (JDBC needs a host)
    env_as_pg=(PATH="$bindir:/usr/bin:/bin" HOME=/tmp LANG=C.UTF-8 PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
               PGPASSWORD="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
               PGDATABASE=postgres CR_EMULATOR_URL="$CR_EMULATOR_URL" CR_SERVER_LOG="$data.log"
               ASAN_OPTIONS="$ASAN_OPTIONS_SERVER" FUZZ_SECONDS="${FUZZ_SECONDS:-60}")
    as_pg() { chroot --userspec=postgres:postgres "$dir" /usr/bin/env -i "${env_as_pg[@]}" "$@"; }

    build() {
        local out
        out=$(in_chroot "$dir" make -C /build/src -s PG_CONFIG="$pg_config" clean all install 2>&1) ||
            { echo "$out"; return 1; }
        echo "$out"
        if echo "$out" | grep -q 'warning:'; then echo "build: FAILED: warnings"; return 1; fi
        echo "build: passed, no warnings ($(in_chroot "$dir" "$pg_config" --cc | head -c 40))"
    }
    stage build build
    as_pg sh -c 'echo "$PGPASSWORD" > /tmp/pw.$PGPORT'
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile=/tmp/pw.$port --locale=C.UTF-8 -E UTF8 > /dev/null
    rm -f "$dir/tmp/pw.$port"
    as_pg "$bindir/pg_ctl" -D "$data" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -l "$data.log" -w start > /dev/null ||
        { echo "   $RUN: the server did not start:"; tail -5 "$dir$data.log"; FAILED=1
          RESULTS+=("$(printf '%-8s %-7s %6s  %s' "$RUN" FAILED "$(elapsed "$t")" "the server did not start")"); return 0; }

    installcheck() {
        as_pg make -C /build/src -s PG_CONFIG="$pg_config" installcheck
        local rc=$?
        [ $rc -eq 0 ] || cat "$dir/build/src/regression.diffs" 2>/dev/null | head -100
        return $rc
    }
    local s
    for s in $stages; do
        case $s in
            installcheck) stage installcheck installcheck ;;
            readme) stage "README tables" as_pg /build/src/scripts/readme_tables.sh --check ;;
            secrets) stage "log secrets" as_pg /build/src/scripts/check_log_secrets.sh ;;
            fuzz_pages) stage "page mutation fuzzing" as_pg /usr/bin/python3 /build/src/tests/fuzz_pages.py ;;
            clients) stage "clients (pgjdbc, psqlODBC)" as_pg /build/src/tests/clients/run.sh ;;
            differential) stage "differential + sqlsmith" as_pg /build/src/tests/differential/run.sh ;;
            libfuzzer) stage "libFuzzer ${FUZZ_SECONDS:-60}s" as_pg /build/src/tests/libfuzzer/run.sh ;;
        esac
    done
    as_pg "$bindir/pg_ctl" -D "$data" -w -m fast stop > /dev/null || true
    # no sanitizer or assertion report, no crash, anywhere in the server log
    local reports
    reports=$(grep -cE 'ERROR: AddressSanitizer|runtime error:|TRAP: failed Assert|was terminated by signal' "$dir$data.log" || true)
    echo "   $RUN: server log: $reports sanitizer, assertion or crash reports"
    if [ "$reports" -ne 0 ]; then
        grep -E -A30 'ERROR: AddressSanitizer|runtime error:|TRAP: failed Assert|was terminated by signal' "$dir$data.log" | head -60
        STATUS=1
    fi
    [ $STATUS -eq 0 ] || FAILED=1
    RESULTS+=("$(printf '%-8s %-7s %6s  %s' "$RUN" "$([ $STATUS -eq 0 ] && echo passed || echo FAILED)" "$(elapsed "$t")" "$stages")")
    echo "== $RUN: $([ $STATUS -eq 0 ] && echo passed || echo FAILED) in $(elapsed "$t")"
}

ALL="installcheck readme secrets fuzz_pages clients differential libfuzzer"
T0=$(now)
for p in $PARTS; do
    case $p in
        pg17)
            make_chroot trixie trixie "$BASE_PACKAGES postgresql-17 postgresql-server-dev-17"
            run "$CACHE/trixie" /usr/lib/postgresql/17/bin/pg_config 5490 "$ALL" pg17 ;;
        pg18)
            make_chroot sid sid "$BASE_PACKAGES $SRC_BUILD_PACKAGES postgresql-18 postgresql-server-dev-18"
            run "$CACHE/sid" /usr/lib/postgresql/18/bin/pg_config 5491 "$ALL" pg18 ;;
        cassert)
            make_chroot sid sid "$BASE_PACKAGES $SRC_BUILD_PACKAGES postgresql-18 postgresql-server-dev-18"
            build_pg18 cassert
            run "$CACHE/sid" /build/pg18-cassert/bin/pg_config 5492 "installcheck readme secrets fuzz_pages differential" cassert ;;
        asan)
            make_chroot sid sid "$BASE_PACKAGES $SRC_BUILD_PACKAGES postgresql-18 postgresql-server-dev-18"
            build_pg18 asan
            run "$CACHE/sid" /build/pg18-asan/bin/pg_config 5493 "installcheck readme fuzz_pages libfuzzer" asan ;;
    esac
done
echo "== matrix summary ($(elapsed "$T0") in all)"
printf '   %s\n' "${RESULTS[@]}"
exit $FAILED
