--
-- Graph's limits of the log functions (PSTN call records): 50 requests
-- per 60 s per function, 200 per application and tenant, 1,000 per
-- tenant, counted apart from the call records' windows; options with
-- those defaults, shown in EXPLAIN ANALYZE.
--
SELECT emulator_reset();
-- the options and their bounds
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD log_function_rate_limit '-1')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD log_rate_window '0')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD log_app_rate_limit 'many')$$);

-- the defaults, in EXPLAIN ANALYZE and in the estimate (COSTS)
CREATE FUNCTION estimate_line(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    IF line ~ 'Graph requests \(estimate\)' THEN
      RETURN NEXT ltrim(line);
    END IF;
  END LOOP;
END $$;
SELECT * FROM explain_analyze($$SELECT count(*) FROM cr.pstn_calls
  WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-02 00:00+00'$$)
 WHERE "QUERY PLAN" ~ 'Graph (log rate limits|requests:)';
SELECT * FROM estimate_line($$SELECT * FROM cr.direct_routing_calls
  WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-02 00:00+00'$$);
-- the call records keep theirs
SELECT * FROM estimate_line($$SELECT * FROM cr.call_records
  WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-02 00:00+00'$$);

-- the log requests of the window, for the checks below
SELECT emulator_reset();
SELECT count(*) FROM cr.pstn_calls
 WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-21 00:00+00';
SELECT count(*) AS log_requests FROM emulator_log() l WHERE l ~ 'getPstnCalls';

-- log requests are not counted in the call records' windows: with those
-- at one request a minute and the log limits off, nothing is held
ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '1', ADD rate_window '60',
  ADD log_function_rate_limit '0', ADD log_app_rate_limit '0', ADD log_tenant_rate_limit '0');
SELECT * FROM explain_analyze($$SELECT count(*) FROM cr.pstn_calls
  WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-21 00:00+00'$$)
 WHERE "QUERY PLAN" ~ 'Graph (log rate limits|requests)';
ALTER SERVER graph OPTIONS (DROP tenant_rate_limit, DROP rate_window,
  DROP log_app_rate_limit, DROP log_tenant_rate_limit);

-- a function's limit holds its requests back (one per 2 s here), and the
-- emulator enforcing the same limit throttles none
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  '{"throttle": {"window_s": 20, "log_window_s": 2, "log_function_limit": 1}}');
ALTER SERVER graph OPTIONS (SET log_function_rate_limit '1', ADD log_rate_window '2');
CREATE TEMP TABLE plan_lines AS SELECT * FROM explain_analyze($$SELECT count(*) FROM cr.pstn_calls
  WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-21 00:00+00'$$);
SELECT "QUERY PLAN" FROM plan_lines WHERE "QUERY PLAN" ~ 'Graph (log rate limits|requests:)';
SELECT substring("QUERY PLAN" FROM '[0-9]+')::int > 0 AS held
  FROM plan_lines WHERE "QUERY PLAN" ~ 'held for rate limits';
DROP TABLE plan_lines;
SELECT (string_agg(line, '')::jsonb->>'throttled')::int AS throttled
  FROM emulator('GET', '/_emulator/stats');
-- without the wrapper's limit, the emulator's enforcement shows (429s, retried)
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  '{"throttle": {"window_s": 20, "log_window_s": 2, "log_function_limit": 1}}');
ALTER SERVER graph OPTIONS (SET log_function_rate_limit '0');
SELECT count(*) FROM cr.pstn_calls
 WHERE start_date_time >= '2026-11-01 00:00+00' AND start_date_time < '2026-11-21 00:00+00';
SELECT (string_agg(line, '')::jsonb->>'throttled')::int > 0 AS throttled
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (DROP log_function_rate_limit, DROP log_rate_window);
SELECT emulator_reset();
DROP FUNCTION estimate_line(text);
