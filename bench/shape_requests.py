#!/usr/bin/env python3
"""Requests each query shape makes, and what it answers: the table of the
query-shapes work (shape -> requests -> outcome), for comparing two builds.

Run inside a cluster where the regression suite has run (database
contrib_regression, schema cr, server graph pointed at the emulator), with
PG* and CR_EMULATOR_URL set, e.g. after scripts/test.sh's installcheck:

    python3 bench/shape_requests.py

Each query runs with statement_timeout 60 s and max_requests 2000; the
emulator's request log, reset before each query, gives the GET count.
Prints a markdown table: shape | GET requests | what they asked for |
outcome (rows, or the SQLSTATE of the error).  Bounded: 25 queries, at most a minute each.
"""
import http.client
import os
import subprocess
import urllib.parse

EMU = urllib.parse.urlparse(os.environ["CR_EMULATOR_URL"])
D = "contrib_regression"
R1, R4 = "cafe0000-0000-4000-8000-000000000001", "cafe0000-0000-4000-8000-000000000004"
DOCS = "e523d2ed-2966-4b6b-925b-754a88034cc5"

SHAPES = [
    ("README example: sessions JOIN streams USING (...), media_label, ORDER BY",
     "SELECT s.session_index, st.average_jitter FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index) "
     "WHERE s.call_record_id = '%s' AND st.media_label = 'main-audio' ORDER BY st.average_jitter DESC NULLS LAST" % DOCS),
    ("4-way sessions/segments/media/streams of one record",
     "SELECT count(*) FROM cr.sessions s JOIN cr.segments g USING (call_record_id, session_index) "
     "JOIN cr.media m USING (call_record_id, session_index, segment_index) "
     "JOIN cr.streams t USING (call_record_id, session_index, segment_index, media_index) WHERE s.call_record_id = '%s'" % R4),
    ("streams LEFT JOIN sessions of one record",
     "SELECT count(*) FROM cr.streams t LEFT JOIN cr.sessions s ON s.call_record_id = t.call_record_id "
     "AND s.session_index = t.session_index WHERE t.call_record_id = '%s'" % R4),
    ("timestamp literals",
     "SELECT count(*) FROM cr.call_records WHERE start_date_time >= '2026-11-05 00:00'::timestamp AND start_date_time < '2026-11-06 00:00'::timestamp"),
    ("date literals",
     "SELECT count(*) FROM cr.call_records WHERE start_date_time >= date '2026-11-05' AND start_date_time < date '2026-11-06'"),
    ("CAST(col AS date) = d",
     "SELECT count(*) FROM cr.call_records WHERE CAST(start_date_time AS date) = '2026-11-05'"),
    ("date_trunc('day', col) = t",
     "SELECT count(*) FROM cr.call_records WHERE date_trunc('day', start_date_time) = '2026-11-05 00:00+00'"),
    ("BETWEEN SYMMETRIC",
     "SELECT count(*) FROM cr.call_records WHERE start_date_time BETWEEN SYMMETRIC '2026-11-06 00:00+00' AND '2026-11-05 00:00+00'"),
    ("NOT BETWEEN",
     "SELECT count(*) FROM cr.call_records WHERE start_date_time NOT BETWEEN '2026-11-02 00:00+00' AND '2026-11-18 00:00+00'"),
    ("two ranges joined by OR",
     "SELECT count(*) FROM cr.call_records WHERE (start_date_time >= '2026-11-05 00:00+00' AND start_date_time < '2026-11-06 00:00+00') "
     "OR (start_date_time >= '2026-11-17 00:00+00' AND start_date_time < '2026-11-18 00:00+00')"),
    ("(id = a) OR (id = b)",
     "SELECT count(*) FROM cr.call_records WHERE (id = '%s') OR (id = '%s')" % (R1, R4)),
    ("id LIKE without wildcards",
     "SELECT count(*) FROM cr.call_records WHERE id LIKE '%s'" % R1),
    ("call_start_date_time::date = d on sessions",
     "SELECT count(*) FROM cr.sessions WHERE call_start_date_time::date = '2026-11-05'"),
    ("infinite upper bound",
     "SELECT count(*) FROM cr.call_records WHERE start_date_time > '2026-11-18 00:00+00' AND start_date_time <= 'infinity'"),
    ("pstn_calls, infinite upper bound next to a finite one",
     "SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= '2026-11-28 00:00+00' AND start_date_time < 'infinity'"),
    ("pstn_calls, a day older than 90 days as dates",
     "SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= date '2026-03-01' AND start_date_time < date '2026-03-02'"),
    ("pstn_calls, CAST(col AS date) older than 90 days",
     "SELECT count(*) FROM cr.pstn_calls WHERE CAST(start_date_time AS date) = '2026-03-01'"),
    ("pstn_calls, only an upper bound",
     "SELECT count(*) FROM cr.pstn_calls WHERE start_date_time < '2026-11-01 00:00+00'"),
    ("direct_routing_calls, no condition",
     "SELECT count(*) FROM cr.direct_routing_calls"),
    ("dashboard: call_records (one day) JOIN sessions JOIN streams",
     "SELECT count(*) FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id "
     "JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index "
     "WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06'"),
    ("local table of 4 ids JOIN streams",
     "SELECT count(*) FROM (VALUES ('%s'), ('%s'), ('cafe0000-0000-4000-8000-000000000012'), ('%s')) m(id) "
     "JOIN cr.streams s ON s.call_record_id = m.id" % (R1, R4, R1)),
]


def control(method, path):
    conn = http.client.HTTPConnection(EMU.hostname, EMU.port, timeout=60)
    conn.request(method, path)
    data = conn.getresponse().read().decode()
    conn.close()
    return data


def run(sql):
    script = ("SET statement_timeout = '60s';\n"
              "\\set VERBOSITY sqlstate\n%s;\n" % sql)
    p = subprocess.run(["psql", "-X", "-At", "-d", D, "-v", "ON_ERROR_STOP=1"], input=script,
                       capture_output=True, text=True)
    if p.returncode != 0:
        code = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "?"
        return "error " + code.replace("ERROR:", "").strip()
    lines = [l for l in p.stdout.splitlines() if l and l != "SET"]
    return "%s (%s)" % ("rows" if len(lines) != 1 else "count", lines[0] if len(lines) == 1 else len(lines))


def sent(log):
    """What the GETs asked for, in short: the call record list with its
    $filter (or whole), lookups by id, log function windows."""
    kinds = {}
    for line in log.splitlines():
        if not line.startswith("GET "):
            continue
        target = urllib.parse.unquote(line.split()[1])
        path, _, query = target.partition("?")
        if path.endswith("/callRecords"):
            q = urllib.parse.parse_qs(query)
            k = "list " + (q["$filter"][0].replace("startDateTime ", "") if "$filter" in q else "(whole)")
        elif "(fromDateTime" in path:
            k = "%s window" % path.rsplit("/", 1)[1].split("(")[0]
        elif "$skip" in query or "$skiptoken" in query:
            k = "next page"
        else:
            k = "by id"
        kinds[k] = kinds.get(k, 0) + 1
    return "; ".join("%s%s" % ("%d x " % n if n > 1 else "", k) for k, n in kinds.items()) or "-"


def main():
    subprocess.run(["psql", "-X", "-q", "-d", D, "-c", "ALTER SERVER graph OPTIONS (SET max_requests '2000')"],
                   capture_output=True)
    subprocess.run(["psql", "-X", "-q", "-d", D, "-c", "ALTER SERVER graph OPTIONS (ADD max_requests '2000')"],
                   capture_output=True)
    print("| shape | GET requests | sent | outcome |")
    print("|---|---|---|---|")
    for label, sql in SHAPES:
        control("POST", "/_emulator/reset")
        outcome = run(sql)
        log = control("GET", "/_emulator/log")
        gets = sum(1 for l in log.splitlines() if l.startswith("GET "))
        print("| %s | %d | %s | %s |" % (label, gets, sent(log), outcome))


if __name__ == "__main__":
    main()
