--
-- Throttling and transient failures: retried with Graph's Retry-After or
-- exponential backoff, counted in EXPLAIN ANALYZE, bounded by max_retries
-- and max_retry_wait, and interruptible.  The answer is the whole answer.
--
\pset null '(null)'
SELECT emulator_reset();

-- 429 with Retry-After on the first page: waited out, then the rows
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000001?", "status": 429, "retry_after": 1, "times": 2}');
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- 503 without Retry-After (backoff) and a 504 in the middle of a chain:
-- all 150 sessions, in order, no duplicates
SELECT emulator_reset();
SELECT emulator_fault('{"match": "$skiptoken=", "status": 503, "times": 1}');
SELECT emulator_fault('{"match": "$skiptoken=", "status": 504, "times": 1}');
SELECT count(*), count(DISTINCT session_index), min(session_index), max(session_index)
  FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- a dropped connection (half a body, then close) is retried
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000004?", "body": "disconnect", "times": 1}');
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';

-- a stalled response ends at request_timeout and is retried
ALTER SERVER graph OPTIONS (ADD request_timeout '1');
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000004?", "stall_ms": 4000, "times": 1}');
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';
-- with no retries left, the timeout is the error
ALTER SERVER graph OPTIONS (ADD max_retries '0');
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000004?", "stall_ms": 4000, "times": 1}');
SELECT code, message FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'$$);
ALTER SERVER graph OPTIONS (DROP request_timeout, DROP max_retries);

-- a Retry-After longer than max_retry_wait is not waited for: the error says so
ALTER SERVER graph OPTIONS (ADD max_retry_wait '2');
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000001?", "status": 429, "retry_after": 30, "times": 1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
-- one past long's range reads as a day, not as a saturated number
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000001?", "status": 503, "retry_after": 9999999999999999999, "times": 1}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
ALTER SERVER graph OPTIONS (DROP max_retry_wait);

-- statement_timeout ends a Retry-After wait at once, and the backend stays usable
SELECT emulator_reset();
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-000000000001?", "status": 429, "retry_after": 20, "times": 1}');
SET statement_timeout = '1s';
SELECT clock_timestamp() AS before \gset
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
RESET statement_timeout;
SELECT clock_timestamp() - :'before'::timestamptz < interval '5 s' AS ended_quickly;
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';

-- option values are checked
ALTER SERVER graph OPTIONS (ADD max_retries '-1');
ALTER SERVER graph OPTIONS (ADD request_timeout '0');
ALTER SERVER graph OPTIONS (ADD connect_timeout 'soon');
ALTER SERVER graph OPTIONS (ADD record_rate_limit '-1');
ALTER SERVER graph OPTIONS (ADD rate_window '0');

-- Graph's limits are kept up front, before any 429: with at most 2
-- requests per call record in 2 s, the third page of record 2 waits for
-- the window to free (a next link counts against its record too)
ALTER SERVER graph OPTIONS (ADD record_rate_limit '2', ADD rate_window '2');
SELECT emulator_reset();
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT count(*) AS requests, count(*) FILTER (WHERE l LIKE '% 429') AS throttled
  FROM emulator_log() l WHERE l NOT LIKE 'POST%';
-- a request held for the rate limits is interruptible like any other wait
ALTER SERVER graph OPTIONS (SET record_rate_limit '1', SET rate_window '60');
SET statement_timeout = '1s';
SELECT clock_timestamp() AS before \gset
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
RESET statement_timeout;
SELECT clock_timestamp() - :'before'::timestamptz < interval '5 s' AS ended_quickly;
ALTER SERVER graph OPTIONS (SET record_rate_limit '2', SET rate_window '2');
-- other call records have windows of their own: two records, two pages each at most
SELECT emulator_reset();
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.streams WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004')$$);
ALTER SERVER graph OPTIONS (DROP record_rate_limit, DROP rate_window);

-- a response over max_response_bytes is an error, not a truncated page
ALTER SERVER graph OPTIONS (ADD max_response_bytes '100000');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
ALTER SERVER graph OPTIONS (DROP max_response_bytes);
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';

-- a token is renewed before it expires (here after 2 s), without a 401
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"token_lifetime": 2}');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
SELECT pg_sleep(2.5);
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM emulator_log();
SELECT emulator_reset();
