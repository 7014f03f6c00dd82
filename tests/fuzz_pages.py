#!/usr/bin/env python3
"""Mutation fuzzing of the JSON-page-to-rows conversion, end to end.

Takes a real call record of the emulator, mutates it at random places
(wrong types, nulls, huge numbers, malformed durations and times, deep
nesting, long strings, missing keys), uploads each mutant to the emulator
and reads it through every table of callrecords_fdw.  Every query must end
in rows or in a clear error: a crashed backend or an internal error
(SQLSTATE XX000) fails the run.  Deterministic (seeded) and bounded.

Runs inside pg_virtualenv with CR_EMULATOR_URL set (scripts/test.sh).
Its server has no per-record rate limit: the 900 requests all read one
call record, which Graph's 40 per 20 s (the default, shared by the
cluster's sessions) would spread over seven minutes.
Prints the executions, the errors by SQLSTATE and the crashes found.
"""
import http.client
import json
import os
import random
import re
import subprocess
import sys
import urllib.parse

EMU = urllib.parse.urlparse(os.environ["CR_EMULATOR_URL"])
CASES = int(os.environ.get("FUZZ_CASES", "150"))
SEED = int(os.environ.get("FUZZ_SEED", "20261127"))
BASE_ID = "cafe0000-0000-4000-8000-000000000004"
FUZZ_ID = "f0220000-0000-4000-8000-000000000001"
DB = "crfuzz"
TABLES = ("call_records", "participants", "sessions", "segments", "media", "streams")

ODD_VALUES = [
    None, True, False, 0, -1, 2 ** 31, 2 ** 63 - 1, -2 ** 63, 1e308, -1e-308, 0.1,
    "", "x", "-PT0.5S", "PT", "P1Y2M", "PT99999999999999999999S", "-P", "2026-13-45T25:61:61Z",
    "0001-01-01T00:00:00Z", "2026-11-01T00:00:00.123456789Z", "\u00e9\u4e2d\U0001F600", "x" * 100000,
    [], {}, [1, "a", None], {"@odata.type": "#microsoft.graph.callRecords.unknownType"},
]


def control(method, path, body=None):
    conn = http.client.HTTPConnection(EMU.hostname, EMU.port, timeout=60)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def psql(sql, db=DB, check=True):
    return subprocess.run(["psql", "-X", "-At", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=check, capture_output=True, text=True)


def nodes(doc, path=()):
    """Every (container, key) place in the tree."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield doc, k
            yield from nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield doc, i
            yield from nodes(v, path + (i,))


def nested(depth):
    v = []
    for _ in range(depth):
        v = [v]
    return v


def mutate(doc, rng):
    places = [p for p in nodes(doc) if not (isinstance(p[0], dict) and p[1] == "id" and p[0] is doc)]
    for _ in range(1 + int(rng.random() * 4)):
        container, key = places[int(rng.random() * len(places))]
        r = rng.random()
        if r < 0.15 and isinstance(container, dict):
            del container[key]
            places = [p for p in nodes(doc) if not (isinstance(p[0], dict) and p[1] == "id" and p[0] is doc)]
        elif r < 0.2:
            container[key] = nested(int(rng.random() * 300))
        else:
            container[key] = ODD_VALUES[int(rng.random() * len(ODD_VALUES))]
    return doc


def main():
    rng = random.Random(SEED)
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres")
    psql("CREATE DATABASE %s" % DB, db="postgres")
    url = "http://%s:%d" % (EMU.hostname, EMU.port)
    for sql in ("CREATE EXTENSION callrecords_fdw",
                "CREATE SERVER graph FOREIGN DATA WRAPPER callrecords_fdw OPTIONS "
                "(tenant_id 'contoso', graph_url '%s', login_url '%s', max_retries '0', "
                "record_rate_limit '0')" % (url, url),
                "CREATE USER MAPPING FOR CURRENT_USER SERVER graph "
                "OPTIONS (client_id 'test-client', client_secret 'test-secret')",
                "IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO public"):
        psql(sql)
    status, raw = control("GET", "/_emulator/raw/" + BASE_ID)
    base = json.loads(raw)
    base["id"] = FUZZ_ID

    queries = 0
    refused = 0
    errors = {}
    crashes = []
    for case in range(CASES):
        doc = mutate(json.loads(json.dumps(base)), rng)
        try:
            status, body = control("PUT", "/_emulator/records/" + FUZZ_ID, json.dumps(doc))
        except (OSError, http.client.HTTPException):
            status = 0
        if status != 200:
            refused += 1        # the emulator could not store the mutant
            continue
        script = "\\set VERBOSITY sqlstate\n" + "".join(
            "SELECT count(*), md5(string_agg(t::text, '')) FROM %s t WHERE %s = '%s';\n"
            % (t, "id" if t == "call_records" else "call_record_id", FUZZ_ID) for t in TABLES)
        out = subprocess.run(["psql", "-X", "-At", "-d", DB], input=script,
                             capture_output=True, text=True)
        queries += len(TABLES)
        if "server closed the connection" in out.stderr or "terminated" in out.stderr:
            crashes.append(case)
            json.dump(doc, open("/tmp/crfuzz-crash-%d.json" % case, "w"))
        for code in re.findall(r"ERROR:\s+([0-9A-Z]{5})", out.stderr):
            errors[code] = errors.get(code, 0) + 1
    control("POST", "/_emulator/reset")
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres")

    summary = ", ".join("%s: %d" % kv for kv in sorted(errors.items())) or "none"
    print("fuzz: %d mutated call records (%d not storable by the emulator), %d queries, "
          "errors by SQLSTATE: %s; crashes: %d" % (CASES, refused, queries, summary, len(crashes)))
    if crashes or "XX000" in errors:
        print("fuzz: FAILED (crashes in cases %s; mutants saved in /tmp/crfuzz-crash-*.json)" % crashes)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
