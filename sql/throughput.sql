--
-- Throughput: how many requests a scan keeps in flight (EXPLAIN ANALYZE
-- says, the emulator counts), requests held back by Graph's limits sent
-- as soon as they fit, a call record list of several pages read ahead,
-- and the JIT decision without the cost of Graph's requests.
--
SELECT emulator_reset();

-- 61 listed records of one session each, one a minute from 10:01 on
-- 2026-11-27 (after each reset, which drops them)
CREATE FUNCTION put_listed() RETURNS text LANGUAGE sql
AS $$ SELECT emulator_put_listed('7a7e0000-0000-4000-8000', 61, '2026-11-27 10:00', '1 minute') $$;

-- a fan-out over a call record list of two pages: every record once,
-- each list page once (the second asked for ahead)
SELECT put_listed();
SELECT count(*), count(DISTINCT call_record_id) FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-27' AND call_start_date_time < '2026-11-28';
SELECT count(*) FILTER (WHERE l ~ 'callRecords\?') AS list_pages,
       count(DISTINCT l) FILTER (WHERE l ~ 'callRecords\?') AS distinct_list_pages,
       count(*) FILTER (WHERE l ~ 'callRecords/7a7e') AS records,
       count(DISTINCT l) FILTER (WHERE l ~ 'callRecords/7a7e') AS distinct_records
  FROM emulator_log() l WHERE l LIKE 'GET %';

-- max_concurrency set: that many in flight, no more (the emulator saw
-- them at once, with 200 ms a request), once a request an earlier test
-- left behind (a delay its statement_timeout gave up on) has ended
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN (SELECT (string_agg(line, '')::jsonb->>'in_flight')::int
                 FROM emulator('GET', '/_emulator/stats')) = 0;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
ALTER SERVER graph OPTIONS (ADD max_concurrency '4');
SELECT emulator_reset(), put_listed();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions WHERE call_start_date_time >= '2026-11-27 10:01+00' AND call_start_date_time < '2026-11-27 10:13+00'$$)
 WHERE "QUERY PLAN" ~ 'Graph requests:|Graph in flight|actual rows';
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int AS most_at_once
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (DROP max_concurrency);

-- unset: what the window has room for, up to 100 (the 60 records of
-- the first list page go at once: more than the old default of 10) ...
SELECT emulator_reset(), put_listed();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*) FROM cr.sessions WHERE call_start_date_time >= '2026-11-27' AND call_start_date_time < '2026-11-28';
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int > 10 AS more_than_10
  FROM emulator('GET', '/_emulator/stats');

-- near the end of the statement's budget (63 requests of 70) requests
-- still go ahead: a request started ahead leaves at most 10 of it
ALTER SERVER graph OPTIONS (ADD max_requests '70');
SELECT emulator_reset(), put_listed();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*) FROM cr.sessions WHERE call_start_date_time >= '2026-11-27' AND call_start_date_time < '2026-11-28';
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int > 10 AS more_than_10
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (DROP max_requests);

-- ... and once the window is full, the tenant rate times the latency
-- seen (a quarter more): 40 requests per second at 200 ms a request
-- need 8 in flight, so 11 or more
SELECT emulator_reset(), put_listed();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '40', ADD rate_window '1');
CREATE TEMP TABLE plan_lines AS SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions WHERE call_start_date_time >= '2026-11-27' AND call_start_date_time < '2026-11-28'$$);
SELECT regexp_replace("QUERY PLAN", '[0-9]+ chosen', 'N chosen') AS in_flight,
       substring("QUERY PLAN" from '([0-9]+) chosen')::int BETWEEN 11 AND 99 AS from_the_latency
  FROM plan_lines WHERE "QUERY PLAN" ~ 'Graph in flight';
DROP TABLE plan_lines;

-- requests Graph's limits hold back are sent as soon as they fit, while
-- the scan waits for others: 5 requests per second, 12 call records (and
-- the list), none throttled by the emulator enforcing the same limit
SELECT emulator_reset(), put_listed();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  '{"throttle": {"window_s": 1, "tenant_limit": 5}}');
ALTER SERVER graph OPTIONS (SET tenant_rate_limit '5');
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions WHERE call_start_date_time >= '2026-11-27 10:01+00' AND call_start_date_time < '2026-11-27 10:13+00'$$)
 WHERE "QUERY PLAN" ~ 'Graph requests:|Graph in flight|actual rows';
SELECT (string_agg(line, '')::jsonb->>'throttled')::int AS throttled
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (DROP tenant_rate_limit, DROP rate_window);
SELECT emulator_reset();
DROP FUNCTION put_listed();

-- JIT: a plan priced high for its requests is not compiled (the plan's
-- cost without its Graph scans decides), unless jit_above_cost lets
-- anything be; EXPLAIN shows a JIT section only where JIT is available
CREATE FUNCTION plan_jit(query text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    IF line ~ '^JIT:' THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END $$;
SET jit = on;
SET jit_above_cost = 100000;
-- (a psql variable: the query again after the new session below)
SELECT $$SELECT count(*) FROM cr.streams WHERE call_record_id IN
  ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000002',
   'cafe0000-0000-4000-8000-000000000004', 'cafe0000-0000-4000-8000-000000000006',
   'cafe0000-0000-4000-8000-000000000007', 'cafe0000-0000-4000-8000-000000000008',
   'cafe0000-0000-4000-8000-000000000009', 'cafe0000-0000-4000-8000-000000000010',
   'cafe0000-0000-4000-8000-000000000011', 'cafe0000-0000-4000-8000-000000000012',
   'cafe0000-0000-4000-8000-000000000013', 'cafe0000-0000-4000-8000-000000000014')$$ AS twelve_ids \gset
SELECT plan_jit(:'twelve_ids') AS compiled;
-- nor one whose scans run once per row of a local table: a correlated
-- subquery, a nested loop (counted once each, these were still compiled)
CREATE TEMP TABLE jit_calls AS
  SELECT 'cafe0000-0000-4000-8000-0000000000' || lpad(i::text, 2, '0') AS id FROM generate_series(1, 49) i;
ANALYZE jit_calls;
SELECT plan_jit($$SELECT m.id, (SELECT count(*) FROM cr.sessions s WHERE s.call_record_id = m.id)
                    FROM jit_calls m$$) AS compiled;
SET callrecords_fdw.batch_joins = off;
SELECT plan_jit($$SELECT count(*) FROM cr.call_records c JOIN jit_calls m ON m.id = c.id$$) AS compiled;
RESET callrecords_fdw.batch_joins;
-- nor the first statement of a session, which loads the library while it
-- is planned (decided again at executor start, where the hook exists)
\c
SET jit = on;
SET jit_above_cost = 100000;
SELECT plan_jit(:'twelve_ids') AS compiled;
SET jit_above_cost = 0;
SELECT plan_jit($$SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$)
       = pg_jit_available() AS compiled_when_anything_is;
RESET jit_above_cost;
RESET jit;
DROP FUNCTION plan_jit(text);
