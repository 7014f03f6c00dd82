"""Archive case of the benchmark (issue 20), run by bench.py.

  v. the archive of 2,000 listed call records (one session each) at
     200 ms a request, with the emulator enforcing Graph's tenant limit
     scaled down in time as case r does (150 requests per 2 s per app and
     tenant, 40 per call record) and the server's rate options set to the
     same: the archive as it was (bench/archive_before.sql: one
     INSERT ... SELECT per child table, each fetching every record again)
     against callrecords_fdw_archive(); requests and time of each, the
     new one's time against the time the limit imposes on its requests,
     and the 429s.  Then a run terminated half-way and run again: every
     record archived once, and none of those committed before the kill
     fetched again.
"""
import json
import os
import subprocess
import time

RECORDS = 2000
LIMIT = 150
WINDOW = 2
LATENCY = 200
TABLES = "call_records, participants, sessions, segments, media, streams"
WINDOW_SQL = "'2026-11-27 00:00:00+00', '2026-11-28 00:00:00+00'"


def load(b):
    """The 2,000 records, the emulator's latency and its enforcement."""
    b.control("POST", "/_emulator/reset")
    for i in range(RECORDS):
        rid = "a4c40000-0000-4000-8000-%012d" % (i + 1)
        rec = b.record(rid, 1, "2026-11-27T%02d:%02d:%02dZ" % (i // 3600, i // 60 % 60, i % 60))
        rec["listed"] = True
        b.control("PUT", "/_emulator/records/" + rid, json.dumps(rec))
    b.control("POST", "/_emulator/config", json.dumps(
        {"latency_ms": LATENCY, "throttle": {"window_s": WINDOW, "tenant_limit": LIMIT, "record_limit": 40}}))
    time.sleep(WINDOW + 0.1)


def log_lines(b):
    return [line for line in b.control("GET", "/_emulator/log").decode().splitlines() if line.startswith("GET ")]


def timed_call(b, sql):
    """(milliseconds, Graph requests, 429s) of one CALL in a session that
    already holds its token (the warm-up query is not counted)."""
    before = len(log_lines(b))
    stats0 = json.loads(b.control("GET", "/_emulator/stats"))
    ms, _ = b.timed_psql_output(sql, warm=True)
    lines = log_lines(b)[before:]
    stats = json.loads(b.control("GET", "/_emulator/stats"))
    return ms, lines[1:], stats["throttled"] - stats0["throttled"]


def fresh_target(b, name):
    b.psql("DROP SCHEMA IF EXISTS %s CASCADE" % name)
    b.psql("CREATE SCHEMA %s" % name)


def record_ids(lines, kind):
    """The call records whose first page of kind ('sessions' or
    'participants_v2') the request lines ask for."""
    out = []
    for line in lines:
        path = line.split()[1]
        if "?$expand=" + kind in path:
            out.append(path.split("/callRecords/")[1].split("?")[0])
    return out


def kill_and_resume(b):
    """Terminate a run once about half its records are committed, run
    again; (committed before the kill, fetched again of them, records
    archived, distinct ids, requests of the second run)."""
    fresh_target(b, "arch_v")
    proc = subprocess.Popen(["psql", "-X", "-q", "-c",
                             "CALL callrecords_fdw_archive('src_v', 'arch_v', %s, batch_size => 100)" % WINDOW_SQL],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = False
    while proc.poll() is None:
        time.sleep(0.2)
        done = b.psql("SELECT coalesce(max(records_done), 0) FROM callrecords_fdw_archive_progress('arch_v')")
        if done and int(done) >= RECORDS // 2:
            b.psql("SELECT pg_terminate_backend(pid) FROM arch_v.archive_runs WHERE state = 'running'")
            killed = True
            break
    proc.wait()
    committed = set(b.psql("SELECT id FROM arch_v.call_records").split())
    before = len(log_lines(b))
    b.psql("CALL callrecords_fdw_archive('src_v', 'arch_v', %s, batch_size => 100)" % WINDOW_SQL)
    lines = log_lines(b)[before:]
    again = set(record_ids(lines, "sessions")) | set(record_ids(lines, "participants_v2"))
    total, distinct = b.psql("SELECT count(*), count(DISTINCT id) FROM arch_v.call_records").split("|")
    return killed, len(committed), len(again & committed), int(total), int(distinct), len(lines)


def archive_case(b):
    """Case v."""
    here = os.path.dirname(os.path.abspath(__file__))
    b.psql("DROP SCHEMA IF EXISTS src_v CASCADE")
    b.psql("CREATE SCHEMA src_v")
    b.psql("IMPORT FOREIGN SCHEMA callrecords LIMIT TO (%s) FROM SERVER bench INTO src_v" % TABLES)
    with open(os.path.join(here, "archive_before.sql")) as f:
        b.psql(f.read())
    b.psql("ALTER SERVER bench OPTIONS (ADD rate_window '%d', ADD tenant_rate_limit '%d', "
           "SET record_rate_limit '40', SET max_requests '20000')" % (WINDOW, LIMIT))
    try:
        load(b)
        fresh_target(b, "arch_before")
        old_ms, old_lines, old_429 = timed_call(
            b, "CALL bench_archive_before('src_v', 'arch_before', '2026-11-27 00:00:00+00')")
        time.sleep(WINDOW + 0.1)
        fresh_target(b, "arch_v")
        new_ms, new_lines, new_429 = timed_call(
            b, "CALL callrecords_fdw_archive('src_v', 'arch_v', %s, batch_size => 500)" % WINDOW_SQL)
        rows = b.psql("SELECT (SELECT count(*) FROM arch_v.call_records), (SELECT count(*) FROM arch_v.sessions), "
                      "(SELECT count(*) FROM arch_v.streams)")
        old_rows = b.psql("SELECT (SELECT count(*) FROM arch_before.call_records), "
                          "(SELECT count(*) FROM arch_before.sessions), (SELECT count(*) FROM arch_before.streams)")
        assert rows == old_rows, "case v: archived rows differ: %s vs %s" % (rows, old_rows)
        list_pages = sum(1 for line in new_lines if line.split()[1].split("?")[0].endswith("/callRecords"))
        sessions = len(record_ids(new_lines, "sessions"))
        participants = len(record_ids(new_lines, "participants_v2"))
        bound = (len(new_lines) // LIMIT) * WINDOW * 1000.0 + LATENCY
        chain = list_pages * LATENCY
        is_list = [line.split()[1].split("?")[0].endswith("/callRecords") for line in new_lines]
        first_record = is_list.index(False) if False in is_list else len(is_list)
        overlapped = sum(is_list[first_record:])
        time.sleep(WINDOW + 0.1)
        killed, committed, again, total, distinct, resume_reqs = kill_and_resume(b)
    finally:
        b.control("POST", "/_emulator/config", json.dumps({"throttle": None, "latency_ms": 0}))
        b.psql("ALTER SERVER bench OPTIONS (DROP rate_window, DROP tenant_rate_limit, "
               "SET record_rate_limit '0', SET max_requests '10000')")
    return ("v. archive of %d listed call records (1 session each), %d ms latency, emulator enforcing %d requests "
            "per %d s per app and tenant and 40 per call record, server options the same" %
            (RECORDS, LATENCY, LIMIT, WINDOW),
            "before (one INSERT ... SELECT per child table): %d requests, %.0f ms, %d throttled (429)"
            % (len(old_lines), old_ms, old_429),
            "after (callrecords_fdw_archive, batch_size 500): %d requests = %d list pages + %d sessions first "
            "pages + %d participants first pages + %d other; %.0f ms, %d throttled (429) (target 0)"
            % (len(new_lines), list_pages, sessions, participants,
               len(new_lines) - list_pages - sessions - participants, new_ms, new_429),
            "%.3fx of the limit's time %.0f ms for its %d requests (target <= 1.1x); the list's %d pages, "
            "each next link known only from the page before, take %.0f ms at %d ms a page; %d of them "
            "asked for after the first record's request (read while the first batch is fetched)"
            % (new_ms / bound, bound, len(new_lines), list_pages, chain, LATENCY, overlapped),
            "rows archived (call records, sessions, streams): %s, the same as before" % rows,
            "killed half-way (%s): %d records committed before the kill; the next run fetched %d of them again, "
            "made %d requests; %d call records archived, %d distinct"
            % ("terminated" if killed else "NOT terminated: the run ended first", committed, again,
               resume_reqs, total, distinct))
