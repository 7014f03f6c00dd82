"""Issue 23's benchmark cases: the memory budget against fat pages, and a soak.

Run from bench/bench.py (BENCH_CASES "f" and "s"), which passes itself as
`me` for its helpers (psql, control, record, peak_memory_kb, median).

  f. 105 call records whose one page is padded to about 10.4 MB (a member
     no column reads: the emulator's "pad" fault), at 200 ms a request:
     the default (memory_budget 256 MB, max_concurrency unset) against
     max_concurrency 10, in wall time and in peak backend memory (VmHWM,
     and the scan's own peak as EXPLAIN ANALYZE shows it) against the
     budget.  An untimed run first (the emulator builds and caches each
     page once), then each setting first in every other round.
  s. a soak, not in the default cases (BENCH_CASES=s): SOAK_SESSIONS
     sessions (default 8) for SOAK_SECONDS (default 600) running a mix of
     queries against the emulator with faults (500s, 503s, dropped
     connections, a restart that refuses connections now and then) and
     Graph's throttling on (scaled down).  Prints each backend's peak
     memory, the 429s Graph sent, the errors by SQLSTATE, and whether a
     backend's private memory grew from a mark (a fifth of the run gone,
     minute 2 of 10, and every query run once) to its end, and whether
     its memory contexts did: private memory (RssAnon) also counts what
     malloc keeps after it was freed, which memory contexts do not.
"""
import json
import os
import re
import subprocess
import threading
import time

FAT_IDS = ["fa700000-0000-4000-8000-%012d" % i for i in range(1, 106)]
FAT_PAD = 10400000


def fat_query():
    return ("SELECT count(*) FROM bench.streams WHERE call_record_id IN (%s)"
            % ",".join("'%s'" % i for i in FAT_IDS))


def explain_memory_kb(me, sql):
    """The scan's peak memory and budget, from its EXPLAIN ANALYZE line."""
    out = me.psql("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
    m = re.search(r"Graph memory: at most (\d+) kB of memory_budget (\d+) MB", out)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def fat_page_case(me):
    """Case f: fat pages, the memory budget against max_concurrency 10."""
    me.control("POST", "/_emulator/reset")
    for i, rid in enumerate(FAT_IDS):
        me.control("PUT", "/_emulator/records/" + rid,
                   json.dumps(me.record(rid, 5, "2026-11-%02dT10:00:00Z" % (i % 20 + 1))))
    me.control("POST", "/_emulator/faults",
               json.dumps({"match": "fa700000-", "body": "pad", "pad_bytes": FAT_PAD, "times": -1}))
    me.control("POST", "/_emulator/config", json.dumps({"latency_ms": 200}))
    q = fat_query()
    runs = max(1, me.RUNS)
    times = {False: [], True: []}
    # an untimed run first: the emulator builds each record's page once
    # (and caches it), which the first timed run would pay alone
    me.timed_psql(q, warm=True)
    for r in range(runs):
        # each setting first in every other round: neither always follows
        # the other's leftovers (the emulator's threads, the page cache)
        for mc10 in ((False, True) if r % 2 == 0 else (True, False)):
            if mc10:
                me.psql("ALTER SERVER bench OPTIONS (ADD max_concurrency '10')")
            times[mc10].append(me.timed_psql(q, warm=True))
            if mc10:
                me.psql("ALTER SERVER bench OPTIONS (DROP max_concurrency)")
    t_default, t_mc10 = times[False], times[True]
    hwm_default = me.median([me.peak_memory_kb(q) for _ in range(max(1, runs // 2))])
    scan_default, budget = explain_memory_kb(me, q)
    me.psql("ALTER SERVER bench OPTIONS (ADD max_concurrency '10')")
    hwm_mc10 = me.median([me.peak_memory_kb(q) for _ in range(max(1, runs // 2))])
    scan_mc10, _ = explain_memory_kb(me, q)
    me.psql("ALTER SERVER bench OPTIONS (DROP max_concurrency)")
    base = me.median([me.peak_memory_kb("SELECT 1") for _ in range(3)])
    me.control("POST", "/_emulator/reset")
    d, c = me.median(t_default), me.median(t_mc10)
    return ("f. 105 call records of one %.1f MB page each at 200 ms: memory_budget (default) vs max_concurrency 10"
            % (FAT_PAD / 1e6),
            "default %.0f ms, max_concurrency 10 %.0f ms: %.2fx (target <= 1.0x)" % (d, c, d / c),
            "peak backend memory (VmHWM) default %.0f MB, max_concurrency 10 %.0f MB (backend at rest %.0f MB)"
            % (hwm_default / 1024.0, hwm_mc10 / 1024.0, base / 1024.0),
            "the scan's peak (EXPLAIN ANALYZE) default %s MB, max_concurrency 10 %s MB, of memory_budget %s MB"
            % ("%.0f" % (scan_default / 1024.0) if scan_default else "?",
               "%.0f" % (scan_mc10 / 1024.0) if scan_mc10 else "?", budget))


# The soak's queries: ids, a long meeting, a day's list, a log window, a
# batched join, a LIMIT; each bounded by max_requests and statement_timeout.
SOAK_QUERIES = [
    "SELECT count(*) FROM soak.call_records WHERE id IN (%s)"
    % ",".join("'cafe0000-0000-4000-8000-%012d'" % i for i in range(1, 13)),
    "SELECT count(*), avg(extract(epoch FROM average_jitter)) FROM soak.streams "
    "WHERE call_record_id = ANY(ARRAY['cafe0000-0000-4000-8000-000000000004', "
    "'cafe0000-0000-4000-8000-000000000007', 'cafe0000-0000-4000-8000-000000000009'])",
    "SELECT count(*) FROM soak.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000003'",
    "SELECT count(*) FROM soak.sessions WHERE call_start_date_time >= '2026-11-05' "
    "AND call_start_date_time < '2026-11-07'",
    "SELECT count(*) FROM soak.pstn_calls WHERE start_date_time >= '2026-11-01' "
    "AND start_date_time < '2026-11-08'",
    "SELECT count(*) FROM soak_ids m JOIN soak.streams s ON s.call_record_id = m.id",
    "SELECT id FROM soak.call_records WHERE start_date_time >= '2026-11-10' "
    "AND start_date_time < '2026-11-12' ORDER BY id LIMIT 3",
    "SELECT count(*) FROM soak.call_records WHERE id = ANY(ARRAY(SELECT format("
    "'cafe0000-0000-4000-8000-%s', lpad(i::text, 12, '0')) FROM generate_series(1, 200) i))",
]

SOAK_FAULTS = [
    {"match": "/v1.0/", "status": 503, "every": 37, "times": -1},
    {"match": "/v1.0/", "status": 500, "every": 53, "times": -1},
    {"match": "/sessions", "body": "disconnect", "every": 71, "times": -1},
    {"match": "/v1.0/", "body": "refuse", "refuse_ms": 300, "every": 997, "times": -1},
]


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))


class SoakSession(threading.Thread):
    """One session: its backend runs the queries in turn until the end, the
    SQLSTATE of each statement counted; its memory is sampled meanwhile."""

    def __init__(self, n, end, mark):
        super().__init__(daemon=True)
        self.n, self.end, self.mark = n, end, mark
        self.codes = {}
        self.statements = 0
        self.at_mark = None
        self.mark_at = None
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(["psql", "-X", "-At", "-q"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.pid = int(self.ask("SELECT pg_backend_pid()")[0])
        self.ask("SET statement_timeout = '120s'")

    def ask(self, sql, count=True):
        self.p.stdin.write(sql + ";\n\\echo __done :SQLSTATE\n")
        self.p.stdin.flush()
        lines = []
        for line in self.p.stdout:
            if line.startswith("__done "):
                code = line.split()[1]
                if count:
                    self.codes[code] = self.codes.get(code, 0) + 1
                return lines
            lines.append(line.strip())
        raise RuntimeError("psql ended")

    def contexts_kb(self):
        """What the backend's memory contexts hold (PostgreSQL's and the
        wrapper's, not malloc's own: libcurl, jansson outside the arena),
        asked in the session itself, not counted as a statement."""
        return int(self.ask("SELECT (sum(total_bytes) / 1024)::bigint FROM pg_backend_memory_contexts",
                            count=False)[0])

    def run(self):
        i = self.n
        while time.monotonic() < self.end:
            # the mark: a fifth of the run gone, and every query run once
            # (the caches a first run of each fills are no growth)
            if (self.at_mark is None and time.monotonic() >= self.mark and
                    self.statements >= len(SOAK_QUERIES)):
                self.at_mark = (status_kb(self.pid, "RssAnon"), status_kb(self.pid, "VmHWM"),
                                self.contexts_kb())
                self.mark_at = time.monotonic() - self.t0
            self.ask(SOAK_QUERIES[i % len(SOAK_QUERIES)])
            self.statements += 1
            i += 1

    def finish(self):
        last = (status_kb(self.pid, "RssAnon"), status_kb(self.pid, "VmHWM"), self.contexts_kb())
        self.p.stdin.close()
        self.p.wait()
        return last


def soak_case(me):
    """Case s: SOAK_SESSIONS sessions for SOAK_SECONDS of mixed queries with
    faults and Graph's throttling on (scaled down: 150 requests per 2 s per
    application and tenant, 40 per call record), the wrapper pacing itself
    to the same windows."""
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    sessions = int(os.environ.get("SOAK_SESSIONS", "8"))
    me.psql("DROP SCHEMA IF EXISTS soak CASCADE")
    me.psql("CREATE SCHEMA soak")
    me.psql("DROP SERVER IF EXISTS soak CASCADE")
    me.psql("CREATE SERVER soak FOREIGN DATA WRAPPER callrecords_fdw OPTIONS "
            "(tenant_id 'contoso', graph_url '%s', login_url '%s', max_requests '400', "
            "rate_window '2', tenant_rate_limit '150', record_rate_limit '40', max_retry_wait '30')"
            % (me.EMU, me.EMU))
    me.psql("CREATE USER MAPPING FOR CURRENT_USER SERVER soak "
            "OPTIONS (client_id 'test-client', client_secret 'test-secret')")
    me.psql("IMPORT FOREIGN SCHEMA callrecords LIMIT TO (call_records, sessions, streams, pstn_calls) "
            "FROM SERVER soak INTO soak")
    me.psql("DROP TABLE IF EXISTS soak_ids")
    me.psql("CREATE TABLE soak_ids AS SELECT format('cafe0000-0000-4000-8000-%s', lpad(i::text, 12, '0')) AS id "
            "FROM generate_series(20, 31) i")
    me.control("POST", "/_emulator/reset")
    me.control("POST", "/_emulator/config", json.dumps({"latency_ms": 50}))
    me.control("POST", "/_emulator/config",
               json.dumps({"throttle": {"window_s": 2, "tenant_limit": 150, "record_limit": 40}}))
    me.control("POST", "/_emulator/faults", json.dumps(SOAK_FAULTS))
    start = time.monotonic()
    threads = [SoakSession(n, start + seconds, start + seconds / 5) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = json.loads(me.control("GET", "/_emulator/stats"))
    gets = me.request_count()
    me.control("POST", "/_emulator/reset")
    codes, lines, grew, ctx_grew = {}, [], [], []
    for t in threads:
        rss, hwm, ctx = t.finish()
        for k, v in t.codes.items():
            codes[k] = codes.get(k, 0) + v
        if t.at_mark is None:
            lines.append("backend %d: %d statements, peak %.1f MB, private %.1f MB at the end "
                         "(never ran every query past a fifth of the run: no mark)"
                         % (t.n + 1, t.statements, hwm / 1024.0, rss / 1024.0))
            continue
        m_rss, m_hwm, m_ctx = t.at_mark
        lines.append("backend %d: %d statements, peak %.1f MB (%.1f MB at the mark), private %.1f MB at the mark "
                     "(%.0f s), %.1f MB at the end; memory contexts %.1f MB at the mark, %.1f MB at the end"
                     % (t.n + 1, t.statements, hwm / 1024.0, m_hwm / 1024.0, m_rss / 1024.0, t.mark_at,
                        rss / 1024.0, m_ctx / 1024.0, ctx / 1024.0))
        if rss > m_rss * 1.1 + 1024:
            grew.append(t.n + 1)
        if ctx > m_ctx + 256:
            ctx_grew.append(t.n + 1)
    me.psql("DROP SCHEMA soak CASCADE")
    me.psql("DROP SERVER soak CASCADE")
    me.psql("DROP TABLE soak_ids")
    return ("s. soak: %d sessions x %.0f s of mixed queries, faults and Graph's throttling on"
            % (sessions, seconds),
            *lines,
            "%d Graph GETs, %d throttled (429) responses" % (gets, stats.get("throttled", 0)),
            "statements by SQLSTATE: %s" % ", ".join("%s %d" % kv for kv in sorted(codes.items())),
            "memory grew (private memory more than 10%% + 1 MB) from the mark (a fifth of the run gone and "
            "every query run once) to the end: %s"
            % (", ".join("backend %d" % b for b in grew) if grew else "no backend"),
            "memory contexts grew (more than 256 kB) from the mark to the end: %s"
            % (", ".join("backend %d" % b for b in ctx_grew) if ctx_grew else "no backend"))
