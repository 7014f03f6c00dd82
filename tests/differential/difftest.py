#!/usr/bin/python3
"""Differential query test of callrecords_fdw.

Runs the query shapes users and BI tools write against the foreign tables
(joins of 2 to 5 tables with USING and ON, LEFT JOIN, joins with a local
table, EXISTS / IN subqueries, CTEs, LATERAL, window functions, ORDER BY ...
LIMIT, scroll cursors fetched backwards, prepared statements in custom and
generic plans) with filters on call_record_id and on the time columns, each
under several planner settings, and compares the rows with

  * the same query under callrecords_fdw.enable_pushdown = off, and
  * where the query reads only key columns, the same query on schema o:
    local views over emulator_raw(id), the whole call record as JSON
    (oracle.sql).

Talks to PostgreSQL only through psql (the PG* environment picks the
cluster); needs CR_EMULATOR_URL.  A fixed list of must-have queries plus
DIFF_QUERIES (default 25) generated from DIFF_SEED (default 20261101).

A failure is an internal error (XX000), a lost connection, a timeout or a
row difference; an error that is the same with and without pushdown is
fine and listed.  Prints `differential: N passed, M failed` and exits 1
if M > 0.
"""
import os
import random
import re
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DB = os.environ.get('DIFF_DB', 'cr_differential')
SEED = int(os.environ.get('DIFF_SEED', '20261101'))
NGEN = int(os.environ.get('DIFF_QUERIES', '25'))
DEADLINE = float(os.environ.get('DIFF_DEADLINE', '120'))   # seconds for the query runs
EMU = os.environ['CR_EMULATOR_URL']
JOBS = int(os.environ.get('DIFF_JOBS', '8'))         # runs of one query at once
VERBOSE = os.environ.get('DIFF_VERBOSE', '') not in ('', '0')

DOCS = 'e523d2ed-2966-4b6b-925b-754a88034cc5'


def gid(k):
    return 'cafe0000-0000-4000-8000-%012d' % k


# record 3 (6,000 sessions) is left out of the oracle and of generated queries
ORACLE_IDS = [gid(k) for k in range(1, 51) if k != 3] + [DOCS]
GEN_IDS = [gid(k) for k in (1, 2, 4, 5) + tuple(range(6, 51))] + [DOCS, DOCS]

PREAMBLE = ("\\set VERBOSITY verbose\n\\set ON_ERROR_STOP 1\n"
            "SET statement_timeout = '20s';\nSET TimeZone = 'UTC';\n"
            "SET client_min_messages = warning;\n")
SETTINGS = [
    ('default', ''),
    ('enable_hashjoin=off', 'SET enable_hashjoin = off;\n'),
    ('enable_mergejoin=off', 'SET enable_mergejoin = off;\n'),
    ('enable_nestloop=off', 'SET enable_nestloop = off;\n'),
    ('enable_material=off', 'SET enable_material = off;\n'),
    ('enable_memoize=off', 'SET enable_memoize = off;\n'),
    ('jit=on,jit_above_cost=0', 'SET jit = on;\nSET jit_above_cost = 0;\n'),
    ('enable_join_pushdown=off', 'SET callrecords_fdw.enable_join_pushdown = off;\n'),
]
PUSHDOWN_OFF = 'SET callrecords_fdw.enable_pushdown = off;\n'

LOST = re.compile(r'server closed the connection unexpectedly|connection to server was lost|'
                  r'terminating connection because of crash|could not connect to server|'
                  r'no connection to the server')
ERR = re.compile(r'^(?:psql:[^\n]*?)?ERROR:  ([0-9A-Z]{5}): (.*)$', re.M)
GUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


class Result:
    def __init__(self, kind, rows=None, code=None, msg=None):
        self.kind, self.rows, self.code, self.msg = kind, rows, code, msg   # kind: ok error lost hang

    def describe(self):
        if self.kind == 'ok':
            return '%d rows' % len(self.rows)
        if self.kind == 'error':
            return 'ERROR %s: %s' % (self.code, self.msg)
        return self.kind + (': ' + self.msg if self.msg else '')


def psql(script, db=DB, timeout=60):
    args = ['psql', '-X', '-q', '-A', '-t', '-F', '|', '-P', 'null=<NULL>', '-d', db]
    try:
        p = subprocess.run(args, input=script, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result('hang', msg='psql did not finish within %d s' % timeout)
    if LOST.search(p.stderr) or p.returncode == 2:
        return Result('lost', msg=p.stderr.strip().splitlines()[-1] if p.stderr.strip() else 'rc 2')
    m = ERR.search(p.stderr)
    if m:
        return Result('error', code=m.group(1), msg=GUID.sub('<guid>', m.group(2)))
    if p.returncode != 0:
        return Result('error', code='?????', msg=p.stderr.strip()[:300])
    return Result('ok', rows=[l for l in p.stdout.split('\n') if l != ''])


def wait_for_server():
    for _ in range(60):
        if subprocess.run(['pg_isready', '-q', '-d', 'postgres'], capture_output=True).returncode == 0 \
           and psql('SELECT 1;', db='postgres', timeout=10).kind == 'ok':
            return
        time.sleep(0.5)


def emulator(method, path, body=None):
    req = urllib.request.Request(EMU + path, data=body, method=method)
    if body is not None:
        req.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


# ---------------------------------------------------------------- setup

def setup():
    r = psql('DROP DATABASE IF EXISTS %s;\nCREATE DATABASE %s;\n' % (DB, DB), db='postgres')
    if r.kind != 'ok':
        sys.exit('differential: cannot create database %s: %s' % (DB, r.describe()))
    # the docs record is served by id but not listed; a listed copy of it
    # lets the pushdown-off run (which lists every call record) find it too
    raw = emulator('GET', '/_emulator/raw/' + DOCS).decode()
    emulator('PUT', '/_emulator/records/' + DOCS,
             ('{"listed": true, ' + raw.lstrip()[1:]).encode())
    with open(os.path.join(ROOT, 'sql', 'setup.sql')) as f:
        setup_sql = f.read()
    setup_sql = setup_sql.split('SELECT emulator_reset();')[0]   # keep the custom record
    with open(os.path.join(HERE, 'oracle.sql')) as f:
        oracle_sql = f.read()
    script = ('\\set ON_ERROR_STOP 1\n' + setup_sql + """
CREATE SCHEMA cr;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr;
-- a bounded statement; no rate-limit waits: the pushdown-off runs fetch every record
ALTER SERVER graph OPTIONS (ADD max_requests '400', ADD record_rate_limit '0',
                            ADD tenant_rate_limit '0');
CREATE TABLE local_calls (call_id text PRIMARY KEY, site text NOT NULL);
INSERT INTO local_calls VALUES
  ('%s', 'Oslo'), ('%s', 'Oslo'), ('%s', 'Lyon'), ('%s', 'Lyon'),
  ('%s', 'Lyon'), ('%s', 'Quito'), ('%s', 'Quito');
ANALYZE local_calls;
""" % (gid(1), gid(4), gid(7), gid(12), DOCS, gid(20), gid(33)) + oracle_sql +
        "INSERT INTO o.raw SELECT id, emulator_raw(id) FROM unnest(ARRAY[%s]) id;\nANALYZE o.raw;\n"
        % ', '.join("'%s'" % i for i in ORACLE_IDS))
    r = psql(script, timeout=120)
    if r.kind != 'ok':
        sys.exit('differential: setup failed: %s' % r.describe())


def cleanup():
    try:
        emulator('DELETE', '/_emulator/records/' + DOCS)
    except Exception:
        pass


# ---------------------------------------------------------------- queries

class Case:
    def __init__(self, name, sql, ordered=False, oracle=True):
        self.name, self.sql, self.ordered, self.oracle = name, sql.strip() + '\n', ordered, oracle


README_EXAMPLE = """SELECT s.session_index, st.stream_direction, st.average_jitter
  FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' AND st.media_label = 'main-audio'
 ORDER BY st.average_jitter DESC NULLS LAST;"""

J4 = """FROM cr.sessions s
  JOIN cr.segments sg USING (call_record_id, session_index)
  JOIN cr.media m USING (call_record_id, session_index, segment_index)
  JOIN cr.streams st USING (call_record_id, session_index, segment_index, media_index)"""
K4 = "s.call_record_id, s.session_index, sg.segment_index, m.media_index, st.stream_index"


def must_have():
    c = []
    # README's first example; the ORDER BY is not total (equal jitters), so compare sorted
    c.append(Case('readme-example', README_EXAMPLE))
    c.append(Case('readme-example-total-order', README_EXAMPLE.replace(
        'DESC NULLS LAST;', 'DESC NULLS LAST, s.session_index, st.stream_direction, st.stream_index;')
        .replace('s.session_index, st.stream_direction, st.average_jitter',
                 's.session_index, st.stream_index, st.stream_direction, st.average_jitter'), ordered=True))
    for k in (1, 4, 2):
        c.append(Case('4-way-using-record-%d' % k, "SELECT %s, m.label, st.stream_direction %s WHERE s.call_record_id = '%s'"
                      % (K4, J4, gid(k))))
    c.append(Case('4-way-using-docs', "SELECT %s, st.average_jitter %s WHERE call_record_id = '%s' ORDER BY %s"
                  % (K4, J4, DOCS, K4), ordered=True))
    c.append(Case('4-way-on-in-list', """SELECT count(*), count(DISTINCT st.stream_id), min(st.average_jitter), max(st.average_jitter)
  FROM cr.sessions s
  JOIN cr.segments sg ON sg.call_record_id = s.call_record_id AND sg.session_index = s.session_index
  JOIN cr.media m ON m.call_record_id = sg.call_record_id AND m.session_index = sg.session_index AND m.segment_index = sg.segment_index
  JOIN cr.streams st ON st.call_record_id = m.call_record_id AND st.session_index = m.session_index
                    AND st.segment_index = m.segment_index AND st.media_index = m.media_index AND st.media_label = m.label
 WHERE s.call_record_id IN ('%s', '%s', '%s')""" % (gid(4), gid(7), DOCS)))
    c.append(Case('record-3-streams-count', "SELECT count(*), count(DISTINCT session_index) FROM cr.streams WHERE call_record_id = '%s'"
                  % gid(3), oracle=False))
    c.append(Case('call-records-join-sessions-day', """SELECT c.id, c.type, count(*) AS sessions
  FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-07' GROUP BY 1, 2"""))
    c.append(Case('streams-day-date-cast', "SELECT call_record_id, count(*) FROM cr.streams WHERE CAST(call_start_date_time AS date) = date '2026-11-09' GROUP BY 1"))
    c.append(Case('segments-date-trunc', "SELECT call_record_id, session_index, segment_index FROM cr.segments WHERE date_trunc('day', call_start_date_time) = timestamptz '2026-11-12 00:00+00'"))
    c.append(Case('sessions-is-not-distinct', "SELECT call_record_id, session_index FROM cr.sessions WHERE call_record_id IS NOT DISTINCT FROM 'cafe0000-0000-4000-8000-000000000004'"))
    c.append(Case('call-records-date-in', "SELECT id, type FROM cr.call_records WHERE start_date_time::date IN ('2026-11-03', '2026-11-04', '2026-11-10')"))
    c.append(Case('call-records-between-symmetric', "SELECT id, type FROM cr.call_records WHERE start_date_time BETWEEN SYMMETRIC '2026-11-11' AND '2026-11-10'"))
    c.append(Case('call-records-two-ranges', "SELECT id FROM cr.call_records WHERE (start_date_time >= '2026-11-06' AND start_date_time < '2026-11-07') OR (start_date_time >= date '2026-11-15' AND start_date_time < date '2026-11-16')"))
    c.append(Case('local-table-nestloop', """SELECT lc.site, st.call_record_id, count(*)
  FROM local_calls lc JOIN cr.streams st ON st.call_record_id = lc.call_id
 WHERE lc.site = 'Lyon' AND st.media_label = 'main-audio' GROUP BY 1, 2"""))
    c.append(Case('local-table-any-array', """SELECT call_record_id, session_index, id FROM cr.sessions
 WHERE call_record_id = ANY (ARRAY(SELECT call_id FROM local_calls WHERE site = 'Oslo'))"""))
    c.append(Case('correlated-subquery', """SELECT lc.call_id, (SELECT count(*) FROM cr.streams st WHERE st.call_record_id = lc.call_id) AS n
  FROM local_calls lc WHERE lc.site IN ('Oslo', 'Quito')"""))
    c.append(Case('scroll-cursor-backward', """BEGIN;
DECLARE cur SCROLL CURSOR FOR SELECT %s, st.stream_direction %s WHERE s.call_record_id IN ('%s', '%s') ORDER BY %s;
FETCH 5 FROM cur;
FETCH BACKWARD 3 FROM cur;
FETCH LAST FROM cur;
FETCH BACKWARD ALL FROM cur;
FETCH ABSOLUTE 4 FROM cur;
FETCH FORWARD ALL FROM cur;
COMMIT;""" % (K4, J4, gid(4), gid(12), K4), ordered=True))
    for mode in ('force_custom_plan', 'force_generic_plan'):
        c.append(Case('prepared-' + mode, """SET plan_cache_mode = %s;
PREPARE q(text, text) AS SELECT s.call_record_id, s.session_index, st.stream_index, st.media_label
  FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = $1 AND st.media_label = $2 ORDER BY 1, 2, 3, 4;
EXECUTE q('%s', 'main-audio');
EXECUTE q('%s', 'main-video');
EXECUTE q('%s', 'main-audio');
PREPARE r(timestamptz, timestamptz) AS SELECT id, type FROM cr.call_records
 WHERE start_date_time >= $1 AND start_date_time < $2 ORDER BY id;
EXECUTE r('2026-11-08', '2026-11-09');
EXECUTE r('2026-11-16', '2026-11-18');""" % (mode, gid(4), gid(2), DOCS), ordered=True))
    c.append(Case('participants-left-join-sessions', """SELECT p.call_record_id, p.participant_index, p.id, count(s.session_index)
  FROM cr.participants p LEFT JOIN cr.sessions s ON s.call_record_id = p.call_record_id AND s.id = p.id
 WHERE p.call_record_id IN ('%s', '%s') GROUP BY 1, 2, 3""" % (gid(4), gid(1))))
    # pushed left joins from call_records (a call without rows of the
    # nullable side gets one null-extended row at the end of its chain)
    c.append(Case('records-left-join-participants', """SELECT c.id, c.type, p.participant_index, p.id
  FROM cr.call_records c LEFT JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-08' AND c.start_date_time < '2026-11-10'"""))
    c.append(Case('records-left-join-streams', """SELECT c.id, st.session_index, st.stream_index, st.average_jitter
  FROM cr.call_records c LEFT JOIN cr.streams st ON st.call_record_id = c.id
 WHERE c.id IN ('%s', '%s', '%s')""" % (gid(1), gid(2), gid(25))))
    # a chain of two left joins, one id: PostgreSQL 16 and later leave the
    # ON clauses of keys the WHERE fixes as the constant true
    c.append(Case('records-left-join-sessions-left-join-streams', """SELECT c.id, s.session_index, st.segment_index, st.stream_index
  FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
  LEFT JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.id = '%s'""" % gid(2)))
    c.append(Case('records-left-join-sessions-one-id', """SELECT c.id, c.type, s.session_index, s.id
  FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
 WHERE c.id = '%s'""" % gid(4)))
    return c


TABLES = {   # alias, key columns, value columns, time column
    'call_records': ('c', ['id'], ['type', 'start_date_time'], 'start_date_time'),
    'participants': ('p', ['call_record_id', 'participant_index'], ['id'], 'call_start_date_time'),
    'sessions': ('s', ['call_record_id', 'session_index'], ['id', 'start_date_time'], 'call_start_date_time'),
    'segments': ('sg', ['call_record_id', 'session_index', 'segment_index'], ['id', 'session_id'], 'call_start_date_time'),
    'media': ('m', ['call_record_id', 'session_index', 'segment_index', 'media_index'], ['label', 'segment_id'], 'call_start_date_time'),
    'streams': ('st', ['call_record_id', 'session_index', 'segment_index', 'media_index', 'stream_index'],
                ['stream_direction', 'average_jitter', 'media_label', 'stream_id'], 'call_start_date_time'),
}
CHAINS = [
    ['sessions', 'segments'], ['segments', 'media'], ['media', 'streams'], ['sessions', 'streams'],
    ['sessions', 'media'], ['call_records', 'sessions'], ['call_records', 'streams'], ['call_records', 'participants'],
    ['sessions', 'segments', 'media'], ['segments', 'media', 'streams'], ['sessions', 'media', 'streams'],
    ['call_records', 'sessions', 'streams'], ['call_records', 'segments', 'media'],
    ['sessions', 'segments', 'media', 'streams'], ['call_records', 'sessions', 'segments', 'streams'],
    ['call_records', 'segments', 'media', 'streams'], ['call_records', 'sessions', 'segments', 'media', 'streams'],
]


def keys_of(t):
    a, ks, _, _ = TABLES[t]
    return ['%s.%s' % (a, k) for k in ks]


def shared(a, b):
    ka, kb = TABLES[a][1], TABLES[b][1]
    return [k for k in ka if k in kb]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def ids(self):
        return self.r.sample(GEN_IDS, self.r.choice((1, 1, 2, 3)))

    def id_filter(self, col, ids):
        r = self.r
        q = ["'%s'" % i for i in ids]
        if len(ids) == 1:
            return r.choice(['%s = %s' % (col, q[0]), '%s LIKE %s' % (col, q[0]), '%s IN (%s)' % (col, q[0]),
                             '%s = ANY (ARRAY[%s])' % (col, q[0]), '%s IS NOT DISTINCT FROM %s' % (col, q[0])])
        return r.choice(['%s IN (%s)' % (col, ', '.join(q)), '%s = ANY (ARRAY[%s])' % (col, ', '.join(q)),
                         '(%s)' % ' OR '.join('%s = %s' % (col, x) for x in q),
                         "%s = ANY ('{%s}'::text[])" % (col, ','.join(ids))])

    def time_filter(self, col):
        r = self.r
        d = r.randint(4, 17)
        n = r.choice((1, 1, 2))
        d0, d1 = '2026-11-%02d' % d, '2026-11-%02d' % (d + n)
        return r.choice([
            "%s >= '%s' AND %s < '%s'" % (col, d0, col, d1),
            "%s >= timestamptz '%s 00:00:00+00' AND %s < timestamptz '%s 00:00:00+00'" % (col, d0, col, d1),
            "%s >= timestamp '%s' AND %s < timestamp '%s'" % (col, d0, col, d1),
            "%s >= date '%s' AND %s < date '%s'" % (col, d0, col, d1),
            "%s BETWEEN '%s' AND '%s'" % (col, d0, d1),
            "%s BETWEEN SYMMETRIC '%s' AND '%s'" % (col, d1, d0),
            "%s > '%s' AND %s <= '%s' AND %s NOT BETWEEN '%s 06:00' AND '%s 12:00'" % (col, d0, col, d1, col, d0, d0),
            "((%s >= '%s' AND %s < '%s') OR (%s >= '2026-11-%02d' AND %s < '2026-11-%02d'))"
            % (col, d0, col, '2026-11-%02d' % (d + 1), col, d + 2, col, d + 3),
            "CAST(%s AS date) = date '%s'" % (col, d0),
            "date_trunc('day', %s) = timestamptz '%s 00:00+00'" % (col, d0),
            "CAST(%s AS date) IN ('%s', '2026-11-%02d')" % (col, d0, d + 2),
            "%s::date = ANY (ARRAY['%s', '%s']::date[])" % (col, d0, d1),
        ])

    def extra_filter(self, chain):
        r = self.r
        opts = []
        if 'streams' in chain:
            opts += ["st.media_label = 'main-audio'", "st.media_label IN ('main-video', 'applicationsharing-video')",
                     "st.stream_direction = 'callerToCallee'", "st.average_jitter > interval '20 ms'",
                     "st.average_jitter IS NULL", "st.media_label <> 'main-audio'"]
        if 'media' in chain:
            opts += ["m.label = 'main-audio'", "m.label LIKE 'main%'"]
        if 'sessions' in chain:
            opts += ['s.session_index <= 3']
        if 'call_records' in chain:
            opts += ["c.type = 'groupCall'"]
        if not opts or r.random() < 0.4:
            return []
        return [r.choice(opts)]

    def from_clause(self, chain, using, left):
        parts = []
        a0 = TABLES[chain[0]][0]
        parts.append('cr.%s %s' % (chain[0], a0))
        on_extra = {}
        for i in range(1, len(chain)):
            t = chain[i]
            a = TABLES[t][0]
            prev = chain[i - 1]
            jt = 'LEFT JOIN' if (left and i == len(chain) - 1) else 'JOIN'
            if prev == 'call_records':
                cond = '%s.call_record_id = c.id' % a
                parts.append('%s cr.%s %s ON %s' % (jt, t, a, cond))
                continue
            ks = shared(prev, t)
            pa = TABLES[prev][0]
            if using and not (chain[0] == 'call_records' and i == 1):
                parts.append('%s cr.%s %s USING (%s)' % (jt, t, a, ', '.join(ks)))
            else:
                cond = ' AND '.join('%s.%s = %s.%s' % (a, k, pa, k) for k in ks)
                if prev == 'media' and t == 'streams' and self.r.random() < 0.5:
                    cond += ' AND st.media_label = m.label'
                parts.append('%s cr.%s %s ON %s' % (jt, t, a, cond))
        return '\n  '.join(parts)

    def base(self):
        """(from, where-list, select keys, value columns, chain, oracle-ok)"""
        r = self.r
        chain = r.choice(CHAINS)
        using = r.random() < 0.5
        left = r.random() < 0.25
        frm = self.from_clause(chain, using, left)
        first = chain[0]
        a0 = TABLES[first][0]
        idcol = 'c.id' if first == 'call_records' else '%s.call_record_id' % a0
        where = []
        if r.random() < 0.7:
            ids = self.ids()
            where.append(self.id_filter(idcol, ids))
            if r.random() < 0.3 and len(chain) > 1 and chain[1] != 'participants':
                a1 = TABLES[chain[1]][0]
                where.append(self.id_filter('%s.call_record_id' % a1, ids))
        else:
            where.append(self.time_filter('%s.%s' % (a0, TABLES[first][3])))
        extra = self.extra_filter(chain)
        if left and extra and extra[0].startswith(TABLES[chain[-1]][0] + '.') \
           and ' ON ' in frm.rsplit('\n', 1)[-1]:
            frm += ' AND ' + extra[0]     # a condition on the nullable side, in its ON clause
            extra = []
        where += extra
        keys = []
        for t in chain:
            keys += keys_of(t)
        vals = []
        for t in chain:
            a, _, vs, _ = TABLES[t]
            vals.append('%s.%s' % (a, r.choice(vs)))
        return frm, where, keys, vals, chain

    def case(self, i):
        r = self.r
        shape = r.choice(['rows', 'rows', 'ordered', 'limit', 'agg', 'window', 'exists', 'in', 'cte',
                          'lateral', 'local', 'cursor', 'prepared'])
        frm, where, keys, vals, chain = self.base()
        w = '\n WHERE ' + '\n   AND '.join(where)
        sel = ', '.join(keys + vals)
        name = 'gen-%03d-%s-%dway' % (i, shape, len(chain))
        a0 = TABLES[chain[0]][0]
        idcol = 'c.id' if chain[0] == 'call_records' else '%s.call_record_id' % a0
        okeys = ', '.join('%s NULLS FIRST' % k for k in keys)
        if shape == 'rows':
            return Case(name, 'SELECT %s\n  FROM %s%s' % (sel, frm, w))
        if shape == 'ordered':
            return Case(name, 'SELECT %s\n  FROM %s%s\n ORDER BY %s' % (sel, frm, w, okeys), ordered=True)
        if shape == 'limit':
            return Case(name, 'SELECT %s\n  FROM %s%s\n ORDER BY %s\n LIMIT %d' % (
                sel, frm, w, ', '.join('%s DESC NULLS LAST' % k for k in keys), r.randint(1, 12)), ordered=True)
        if shape == 'agg':
            v = vals[-1]
            agg = 'count(*), count(%s), count(DISTINCT %s), min(%s), max(%s)' % (v, v, v, v)
            return Case(name, 'SELECT %s, %s\n  FROM %s%s\n GROUP BY 1' % (idcol, agg, frm, w))
        if shape == 'window':
            return Case(name, ('SELECT %s, row_number() OVER (PARTITION BY %s ORDER BY %s),\n'
                               '       count(*) OVER (PARTITION BY %s), lag(%s) OVER (PARTITION BY %s ORDER BY %s)\n'
                               '  FROM %s%s') % (', '.join(keys), idcol, okeys, idcol, keys[-1], idcol, okeys, frm, w))
        if shape == 'cursor':
            return Case(name, ('BEGIN;\nDECLARE cur SCROLL CURSOR FOR SELECT %s\n  FROM %s%s\n ORDER BY %s;\n'
                               'FETCH %d FROM cur;\nFETCH BACKWARD %d FROM cur;\nFETCH LAST FROM cur;\n'
                               'FETCH BACKWARD ALL FROM cur;\nFETCH RELATIVE 2 FROM cur;\nFETCH ALL FROM cur;\nCOMMIT;')
                        % (sel, frm, w, okeys, r.randint(1, 6), r.randint(1, 4)), ordered=True)
        if shape == 'prepared':
            ids = self.ids()
            mode = r.choice(['force_custom_plan', 'force_generic_plan', 'auto'])
            pw = [x for x in where[1:]] + ['%s = ANY ($1)' % idcol]
            execs = '\n'.join('EXECUTE q(ARRAY[%s]);' % ', '.join("'%s'" % x for x in self.ids()) for _ in range(3 if mode != 'auto' else 6))
            return Case(name + '-' + mode, ('SET plan_cache_mode = %s;\nPREPARE q(text[]) AS SELECT %s\n  FROM %s\n WHERE %s\n ORDER BY %s;\n%s')
                        % (mode, sel, frm, '\n   AND '.join(pw), okeys, execs), ordered=True)
        # shapes built from two tables of the chain
        t1 = chain[0] if chain[0] != 'call_records' else chain[1]
        t2 = chain[-1] if chain[-1] != t1 else 'streams'
        if t2 == t1 or t1 == 'participants':
            t1, t2 = 'sessions', 'streams'
        a1, a2 = TABLES[t1][0], TABLES[t2][0]
        ks = shared(t1, t2)
        ids = self.ids()
        f1 = self.id_filter('%s.call_record_id' % a1, ids) if r.random() < 0.7 else \
            self.time_filter('%s.call_start_date_time' % a1)
        corr = ' AND '.join('%s.%s = %s.%s' % (a2, k, a1, k) for k in ks)
        x2 = [f for f in self.extra_filter([t2]) if f.startswith(a2 + '.')]
        k1 = ', '.join(keys_of(t1))
        if shape in ('exists', 'in'):
            neg = 'NOT ' if r.random() < 0.3 else ''
            if shape == 'exists':
                sub = '%sEXISTS (SELECT 1 FROM cr.%s %s WHERE %s)' % (neg, t2, a2, ' AND '.join([corr] + x2))
            else:
                sub = '(%s) %sIN (SELECT %s FROM cr.%s %s WHERE %s)' % (
                    ', '.join('%s.%s' % (a1, k) for k in ks), neg, ', '.join('%s.%s' % (a2, k) for k in ks), t2, a2,
                    ' AND '.join([self.id_filter('%s.call_record_id' % a2, ids) if r.random() < 0.5 else 'true'] + x2))
            return Case(name, 'SELECT %s FROM cr.%s %s\n WHERE %s\n   AND %s' % (k1, t1, a1, f1, sub))
        if shape == 'cte':
            mat = r.choice(['', 'MATERIALIZED ', 'NOT MATERIALIZED '])
            return Case(name, ('WITH x AS %s(SELECT * FROM cr.%s %s WHERE %s)\n'
                               'SELECT %s, %s FROM x JOIN cr.%s %s USING (%s)%s')
                        % (mat, t1, a1, f1, ', '.join('x.' + k for k in TABLES[t1][1]), ', '.join(keys_of(t2)),
                           t2, a2, ', '.join(ks), (' WHERE ' + x2[0]) if x2 else ''))
        if shape == 'lateral':
            if r.random() < 0.5:
                return Case(name, ('SELECT %s, l.n, l.mx FROM cr.%s %s\n CROSS JOIN LATERAL (SELECT count(*) AS n, max(%s.%s) AS mx '
                                   'FROM cr.%s %s WHERE %s) l\n WHERE %s') % (
                    k1, t1, a1, a2, TABLES[t2][1][-1], t2, a2, ' AND '.join([corr] + x2), f1))
            return Case(name, ('SELECT %s, l.* FROM cr.%s %s\n LEFT JOIN LATERAL (SELECT %s FROM cr.%s %s WHERE %s ORDER BY %s LIMIT %d) l ON true\n WHERE %s')
                        % (k1, t1, a1, ', '.join(keys_of(t2)), t2, a2, ' AND '.join([corr] + x2),
                           ', '.join(k + ' DESC' for k in keys_of(t2)), r.randint(1, 3), f1))
        # local table of call ids and sites
        site = r.choice(['Oslo', 'Lyon', 'Quito'])
        how = r.random()
        if how < 0.5:
            return Case(name, ('SELECT lc.site, %s, %s FROM local_calls lc\n JOIN cr.%s %s ON %s.call_record_id = lc.call_id\n'
                               ' JOIN cr.%s %s ON %s\n WHERE lc.site = \'%s\'%s') % (
                k1, ', '.join(keys_of(t2)), t1, a1, a1, t2, a2, corr, site, (' AND ' + x2[0]) if x2 else ''))
        return Case(name, ('SELECT %s, count(%s.%s) FROM cr.%s %s LEFT JOIN cr.%s %s ON %s\n'
                           ' WHERE %s.call_record_id IN (SELECT call_id FROM local_calls WHERE site = \'%s\')\n GROUP BY %s')
                    % (k1, a2, TABLES[t2][1][-1], t1, a1, t2, a2, ' AND '.join([corr] + x2), a1, site, k1))


# ---------------------------------------------------------------- running

def rows_of(res, ordered):
    return res.rows if ordered else sorted(res.rows)


def diff_text(a, b, limit=6):
    sa, sb = set(a), set(b)
    only_a = [x for x in a if x not in sb][:limit]
    only_b = [x for x in b if x not in sa][:limit]
    out = []
    if only_a:
        out.append('only in this run: ' + ' ; '.join(only_a))
    if only_b:
        out.append('only in the reference: ' + ' ; '.join(only_b))
    if not out:
        out.append('same rows, other order or multiplicity')
    return '\n      '.join(out)


def main():
    start = time.monotonic()
    setup()
    try:
        cases = must_have()
        g = Gen(SEED)
        cases += [g.case(i) for i in range(1, NGEN + 1)]
        passed, failed, skipped = 0, [], 0
        same_errors = []
        over_budget = []
        crashes = 0
        t_run = time.monotonic()
        for n, case in enumerate(cases):
            t_case = time.monotonic()
            if time.monotonic() - t_run > DEADLINE:
                skipped = len(cases) - n
                print('differential: deadline of %ds reached, %d queries not run' % (DEADLINE, skipped))
                break
            problems = []
            scripts = [PREAMBLE + PUSHDOWN_OFF + case.sql]
            if case.oracle:
                scripts.append(PREAMBLE + re.sub(r'\bcr\.', 'o.', case.sql))
            scripts += [PREAMBLE + sset + case.sql for _, sset in SETTINGS]
            with ThreadPoolExecutor(max_workers=JOBS) as pool:
                results = list(pool.map(psql, scripts))
            ref = results.pop(0)
            oracle = results.pop(0) if case.oracle else None
            if oracle is not None and oracle.kind != 'ok':
                oracle = None    # a shape the oracle cannot run
            if any(x.kind == 'lost' for x in results + [ref]):
                crashes += 1
                wait_for_server()
            if ref.kind in ('lost', 'hang') or (ref.kind == 'error' and ref.code == 'XX000'):
                problems.append(('pushdown off', ref.describe()))
            if ref.kind == 'error' and ref.code in ('54000', '57014'):
                # pushdown off needs more requests than the budget, or more time (a rescan
                # replays every listed record): no reference, the oracle still applies
                over_budget.append((case.name, ref.describe()))
            for (sname, _), res in zip(SETTINGS, results):
                if res.kind in ('lost', 'hang') or (res.kind == 'error' and res.code in ('XX000', '57014')):
                    problems.append((sname, res.describe()))
                    continue
                if ref.kind == 'ok' and res.kind == 'ok':
                    a, b = rows_of(res, case.ordered), rows_of(ref, case.ordered)
                    if a != b:
                        problems.append((sname, 'rows differ from pushdown off (%d vs %d rows)\n      %s'
                                         % (len(a), len(b), diff_text(a, b))))
                elif ref.kind == 'error' and res.kind == 'error' and (ref.code, ref.msg) == (res.code, res.msg):
                    if sname == 'default':
                        same_errors.append((case.name, res.describe()))
                elif ref.kind == 'error' and ref.code in ('54000', '57014') and res.kind == 'ok':
                    pass   # the pushdown-off run needs more requests than the budget: no reference
                elif ref.kind in ('ok', 'error'):
                    problems.append((sname, '%s, but with pushdown off: %s' % (res.describe(), ref.describe())))
                if oracle is not None and res.kind == 'ok':
                    a, b = rows_of(res, case.ordered), rows_of(oracle, case.ordered)
                    if a != b:
                        problems.append((sname, 'rows differ from the emulator_raw oracle (%d vs %d rows)\n      %s'
                                         % (len(a), len(b), diff_text(a, b))))
            if problems:
                failed.append((case, problems))
                print('FAILED %s (%.1f s)' % (case.name, time.monotonic() - t_case))
            else:
                passed += 1
                if VERBOSE:
                    print('ok     %s (%s%s, %.1f s)' % (case.name, ref.describe(), ', oracle' if oracle else '',
                                                     time.monotonic() - t_case))
            sys.stdout.flush()
        print()
        for case, problems in failed:
            print('--- FAILED %s' % case.name)
            print('    ' + case.sql.strip().replace('\n', '\n    '))
            for sname, what in problems:
                print('  [%s] %s' % (sname, what))
        for name, what in same_errors:
            print('note: %s: the same error with and without pushdown: %s' % (name, what))
        for name, what in over_budget:
            print('note: %s: with pushdown off %s: compared with the oracle only' % (name, what))
        print('differential: seed %d, %d queries x %d settings, %d crashes, %.0f s'
              % (SEED, len(cases) - skipped, len(SETTINGS), crashes, time.monotonic() - start))
        print('differential: %d passed, %d failed' % (passed, len(failed)))
        return 1 if failed else 0
    finally:
        cleanup()


if __name__ == '__main__':
    sys.exit(main())
