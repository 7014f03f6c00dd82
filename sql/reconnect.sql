--
-- A refused connection to a host that answered earlier in the statement
-- is a restart on the way (Graph's, a proxy's), retried like a dropped
-- connection (http.c, failure.c); one to a host that has not answered in
-- the statement still fails at once, as a wrong graph_url must.  The
-- emulator's "refuse" fault resets the connection of one request and
-- refuses new ones for refuse_ms.
--
-- one request at a time: the restart meets the scan's only connection
ALTER SERVER graph OPTIONS (ADD max_concurrency '1', ADD record_rate_limit '0');
-- a token first (the token request would be a first contact of its own)
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';

-- 1. a meeting of 100 pages, the 33rd request reset and the host
-- refusing connections for a second: every session is read, the page
-- that was reset asked for again (the refused attempts never reach the
-- emulator, so its log has the reset one and the 100 answers)
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000003", "every": 33,
                        "body": "refuse", "refuse_ms": 1000}');
SELECT count(*) AS sessions FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000003';
SELECT count(*) FILTER (WHERE l LIKE 'GET % 0') AS reset,
       count(*) FILTER (WHERE l LIKE 'GET % 200') AS answered
  FROM emulator_log() l;

-- 2. the first request of a statement reset, its retry refused: the host
-- has not answered in this statement, so the error comes at once
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000002", "body": "refuse", "refuse_ms": 2000}');
SELECT code, message FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000002'$$);
-- (the emulator listens again after its 2 s)
SELECT pg_sleep(2.5);
SELECT count(*) FILTER (WHERE l LIKE 'GET % 0') AS reset,
       count(*) FILTER (WHERE l LIKE 'GET % 200') AS answered
  FROM emulator_log() l;
ALTER SERVER graph OPTIONS (DROP max_concurrency, DROP record_rate_limit);
