--
-- Cost before running: plain EXPLAIN (with COSTS) states the Graph
-- requests the planner estimated for each scan, and the least time
-- Graph's tenant limit allows for them; per outer row for a
-- parameterized scan.  The numbers are estimate.c's, the ones the costs
-- come from.
--
CREATE FUNCTION estimate_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    IF line ~ 'Graph requests \(estimate\)|Foreign Scan|Relations' THEN
      RETURN NEXT regexp_replace(ltrim(regexp_replace(line, '\(cost=.*\)', '')), '^->  ', '');
    END IF;
  END LOOP;
END $$;

-- three ids: a first page each, and the sessions' next pages at the
-- estimated 8 sessions of 60 a page
SELECT * FROM estimate_lines($$SELECT * FROM cr.sessions
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000002',
                          'cafe0000-0000-4000-8000-000000000004')$$);
-- a week of call records listed and read (the tenant's estimated 10,000
-- records in 30 days): the limit's time dominates
SELECT * FROM estimate_lines($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-24' AND call_start_date_time < '2026-12-01'$$);
-- a log function's window
SELECT * FROM estimate_lines($$SELECT * FROM cr.pstn_calls
 WHERE start_date_time >= '2026-11-01' AND start_date_time < '2026-11-02'$$);
-- a correlated subquery: each run of it
SELECT * FROM estimate_lines($$SELECT (SELECT count(*) FROM cr.sessions s WHERE s.call_record_id = i.id)
  FROM (VALUES ('cafe0000-0000-4000-8000-000000000001'), ('cafe0000-0000-4000-8000-000000000002')) i(id)$$);
-- EXPLAIN ANALYZE shows it next to the requests made
SELECT emulator_reset();
SELECT line FROM (SELECT ltrim(l) AS line FROM (
  SELECT * FROM estimate_lines('(ANALYZE, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM cr.sessions WHERE call_record_id = ''cafe0000-0000-4000-8000-000000000002''')) e(l)) x
 WHERE line ~ 'estimate';
-- without a tenant rate limit, the count alone
ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '0');
SELECT * FROM estimate_lines($$SELECT * FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
ALTER SERVER graph OPTIONS (DROP tenant_rate_limit);
