--
-- One memory budget per scan (fetch.c, pacing.c, http.c): the answers in
-- flight and waiting and the page parsed stay within memory_budget (a
-- server option in MB, which the session's callrecords_fdw.memory_budget
-- may lower, never raise); with big pages fewer requests are in flight.
-- Forty call records whose one page the emulator pads with 1 MB, at
-- 50 ms a request.
--
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD memory_budget '0')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD memory_budget '64GB')$$);
ALTER SERVER graph OPTIONS (ADD record_rate_limit '0');
-- the EXPLAIN ANALYZE lines of the wrapper, and the peak it shows (with
-- TIMING: it varies from run to run) against the budget
CREATE FUNCTION memory_lines(query text) RETURNS SETOF text LANGUAGE sql
AS $$ SELECT l FROM explain_analyze(query) l WHERE l ~ 'Graph (memory|in flight)' $$;
CREATE FUNCTION memory_peak_kb(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY OFF) ' || query LOOP
    IF line ~ 'Graph memory: at most' THEN
      RETURN substring(line from 'at most ([0-9]+) kB')::bigint;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
\set q 'SELECT count(*) FROM cr.call_records WHERE id = ANY(ARRAY(SELECT format(''cafe0000-0000-4000-8000-%s'', lpad(i::text, 12, ''0'')) FROM generate_series(1, 40) i))'
SELECT emulator_fault('{"match": "cafe0000-0000-4000-8000-0000000000", "body": "pad",
                        "pad_bytes": 1000000, "times": -1}');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 50}');

-- 1. the default: 256 MB, ten in flight (no tenant rate limit here),
-- some 20 MB at peak
ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '0');
SELECT * FROM memory_lines(:'q');
SELECT memory_peak_kb(:'q') > 8 * 1024 AS above_8_mb;

-- 2. a budget of 8 MB: fewer in flight, the peak within it, the same rows
ALTER SERVER graph OPTIONS (ADD memory_budget '8');
SELECT * FROM memory_lines(:'q');
SELECT memory_peak_kb(:'q') <= 8 * 1024 AS within_budget;
:q;

-- 3. the session may lower it (6 MB: one at a time)...
SET callrecords_fdw.memory_budget = '6MB';
SELECT * FROM memory_lines(:'q');
SELECT memory_peak_kb(:'q') <= 6 * 1024 AS within_budget;
-- ...but not raise it above the server's
SET callrecords_fdw.memory_budget = '1GB';
SELECT * FROM memory_lines(:'q');
RESET callrecords_fdw.memory_budget;

-- 4. the first wave: pacing unset would send all 40 at once (the tenant
-- window has room for them), and most would pause past the budget.
-- Until an answer's length is known (its Content-Length) the scan starts
-- at most 10, then no more than the budget lets finish: the emulator
-- never sees more than 10 at once, and the count ends at 3
ALTER SERVER graph OPTIONS (DROP tenant_rate_limit);
CREATE FUNCTION fat_pages() RETURNS text LANGUAGE sql AS $$
  SELECT emulator_reset() || emulator_fault('{"match": "cafe0000-0000-4000-8000-0000000000",
    "body": "pad", "pad_bytes": 1000000, "times": -1}')
    || (SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 50}')) $$;
CREATE FUNCTION most_at_once() RETURNS int LANGUAGE sql AS $$
  SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int FROM emulator('GET', '/_emulator/stats') $$;
SELECT fat_pages();
:q;
SELECT most_at_once() <= 10 AS first_wave_within_10;
SELECT fat_pages();
SELECT * FROM memory_lines(:'q');
SELECT most_at_once() <= 10 AS first_wave_within_10;
-- max_concurrency set is the first wave itself (the DBA's count goes at
-- once: more than 10), the budget still bounds the memory (what does not
-- fit pauses) and, once a size is known, the count
ALTER SERVER graph OPTIONS (ADD max_concurrency '40');
SELECT fat_pages();
:q;
SELECT most_at_once() > 10 AS dba_count_at_once;
SELECT fat_pages();
SELECT * FROM memory_lines(:'q');
SELECT memory_peak_kb(:'q') <= 8 * 1024 AS within_budget;
ALTER SERVER graph OPTIONS (DROP max_concurrency);

-- 5. the budget is a ceiling, not a target: with a budget of 48 MB, the
-- scan that chooses its count keeps half of what the budget has room for
-- in flight (but not below 10), while max_concurrency 100 gets all of it
ALTER SERVER graph OPTIONS (SET memory_budget '48');
CREATE TEMP TABLE in_flight (how text, n int);
SELECT fat_pages();
INSERT INTO in_flight SELECT 'chosen', substring(l from 'in flight: ([0-9]+)')::int
  FROM memory_lines(:'q') l WHERE l ~ 'Graph in flight: ';
ALTER SERVER graph OPTIONS (ADD max_concurrency '100');
SELECT fat_pages();
INSERT INTO in_flight SELECT 'max_concurrency 100', substring(l from 'in flight: ([0-9]+)')::int
  FROM memory_lines(:'q') l WHERE l ~ 'Graph in flight: ';
SELECT c.n >= 10 AS chosen_at_least_10, s.n > 20 AS set_bounded_by_budget_only,
       c.n IN (s.n / 2, (s.n + 1) / 2) AS chosen_half
  FROM in_flight c, in_flight s WHERE c.how = 'chosen' AND s.how = 'max_concurrency 100';
ALTER SERVER graph OPTIONS (DROP max_concurrency, SET memory_budget '8');
DROP TABLE in_flight;
DROP FUNCTION fat_pages();
DROP FUNCTION most_at_once();

SELECT emulator_reset();
ALTER SERVER graph OPTIONS (DROP memory_budget, DROP record_rate_limit);
DROP FUNCTION memory_lines(text);
DROP FUNCTION memory_peak_kb(text);
