--
-- Errors: unknown ids, a missing id condition, HTTP and body faults, token
-- problems and cancellation.  Each is a clear error with a SQLSTATE, or
-- (for an unknown id) zero rows, never a partial answer.
--
\pset null '(null)'
SELECT emulator_reset();

-- an unknown call record id is zero rows (Graph answers 404)
SELECT count(*) FROM cr.streams WHERE call_record_id = '00000000-0000-0000-0000-000000000000';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- a statement that would make more requests than the server allows stops
-- with a clear error (here: every call record of a month, one by one)
ALTER SERVER graph OPTIONS (ADD max_requests '5');
SELECT emulator_reset();
SELECT * FROM expect_error('SELECT count(*) FROM cr.streams');
SELECT count(*) BETWEEN 1 AND 5 AS within_budget FROM emulator_log() l WHERE l NOT LIKE 'POST%';
ALTER SERVER graph OPTIONS (SET max_requests '0');
ALTER SERVER graph OPTIONS (DROP max_requests);

-- an HTTP 500 is retried; one that persists is an error with Graph's code,
-- request-id and the number of retries in DETAIL (one retry here)
ALTER SERVER graph OPTIONS (ADD max_retries '1');
SELECT emulator_fault('{"match": "callRecords/cafe0000-0000-4000-8000-000000000001", "status": 500, "times": -1}');
SELECT * FROM expect_error($$SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
\set VERBOSITY terse
SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
\set VERBOSITY default
SELECT string_agg(line, '') FROM emulator('DELETE', '/_emulator/faults');
-- the fault is gone: the same query works again
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';

-- a page in the middle of the chain that keeps failing fails the query
-- (no partial answer)
SELECT emulator_fault('{"match": "/sessions?", "status": 503, "times": -1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT string_agg(line, '') FROM emulator('DELETE', '/_emulator/faults');
ALTER SERVER graph OPTIONS (DROP max_retries);
-- a 404 on a next link is an error too, not an end of data
SELECT emulator_fault('{"match": "/sessions?", "status": 404, "times": 1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);

-- malformed bodies
SELECT emulator_fault('{"match": "000000000001", "status": 200, "body": "truncated-json", "times": 1}');
SELECT * FROM expect_error($$SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT emulator_fault('{"match": "000000000001", "status": 200, "body": "malformed-json", "times": 1}');
SELECT * FROM expect_error($$SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
-- pages are pruned before they are parsed, and a syntax error in a part no
-- column reads (here inside a media's calleeDevice) is still an error, at
-- its place in the text Graph sent
SELECT emulator_fault('{"match": "000000000001", "status": 200, "body": "malformed-unread", "times": 1}');
SELECT * FROM expect_error($$SELECT stream_id FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT emulator_fault('{"match": "/sessions?", "status": 200, "body": "not-array", "times": 1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);

-- a next link to another host is refused before any request is sent
SELECT emulator_reset();
SELECT emulator_fault('{"match": "000000000002?", "next_link": "http://127.0.0.2:9/v1.0/steal?token=1", "times": 1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- a 401 (token revoked early) gets a new token and one retry
SELECT emulator_reset();
SELECT emulator_fault('{"match": "000000000001", "status": 401, "times": 1}');
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM emulator_log();

-- a wrong secret: the token endpoint's error, never the secret
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'wrong-secret');
SELECT * FROM expect_error($$SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';

-- a very long id (Graph answers 414): the error's context quotes the URL
-- and the id cut short, not 100 kB of them
DO $$
DECLARE
  ctx text;
  msg text;
BEGIN
  PERFORM count(*) FROM cr.call_records WHERE id = repeat('a', 100000);
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT, msg = MESSAGE_TEXT;
  RAISE NOTICE '%: %', SQLSTATE, msg;
  RAISE NOTICE 'context of % bytes: %', octet_length(ctx), regexp_replace(ctx, 'a{20,}', 'aaa...', 'g');
END $$;

-- nothing listening: a connection error
CREATE SERVER dead FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'http://127.0.0.1:9', login_url 'http://127.0.0.1:9');
CREATE USER MAPPING FOR CURRENT_USER SERVER dead OPTIONS (client_id 'a', client_secret 'b');
CREATE FOREIGN TABLE dead_streams (call_record_id text) SERVER dead OPTIONS (resource 'streams');
-- a refused connection is a setting to fix, not retried: the error comes at once
SELECT code, message, detail LIKE '%retries%' AS retried
  FROM expect_error($$SELECT * FROM dead_streams WHERE call_record_id = 'x'$$);
DROP SERVER dead CASCADE;

-- statement_timeout stops a stalled request, and the backend stays usable
SELECT emulator_reset();
SELECT emulator_fault('{"match": "000000000001", "delay_ms": 5000, "times": 1}');
SET statement_timeout = '500ms';
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
RESET statement_timeout;
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
