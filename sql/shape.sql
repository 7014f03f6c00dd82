--
-- The tenant's shape as scans saw it (shape.c): the planner estimates
-- rows and requests from the call records 30 days hold, the hours they
-- started in and the pages of sessions one holds, as the latest scan that
-- read them saw them, instead of its guesses (10,000 call records of 8
-- sessions).  The suite runs in PST8PDT: its days are not UTC's.  setup.sql turns
-- learning off for the rest of the suite; each step here replaces what
-- was known, so the estimates below do not depend on what ran before.
--
CREATE FUNCTION request_estimates(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN ' || query LOOP
    IF line ~ 'Graph requests \(estimate\)' THEN
      RETURN NEXT regexp_replace(ltrim(line), ', at least.*', '');
    END IF;
  END LOOP;
END $$;

-- the guesses: a week of 10,000 call records in 30 days
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);

SET callrecords_fdw.learn_tenant_shape = on;

-- two weeks of the call record list, read to its end: 39 call records,
-- so 84 in 30 days, 20 in a week; and each hour it listed: the week of
-- the 10th holds 18 of them (a list page and a page of sessions each,
-- guessed), the week of the 17th, which no scan listed, a mean week
SELECT count(*), count(*) FILTER (WHERE start_date_time >= '2026-11-10') AS week_of_10th
 FROM cr.call_records
 WHERE start_date_time >= '2026-11-03' AND start_date_time < '2026-11-17';
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-17' AND call_start_date_time < '2026-11-24'$$);

-- the sessions of the call records of a week, read to their end: pages
-- and sessions per call record, and of each hour of that week, so the
-- estimate of that week is what it took
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-03' AND call_start_date_time < '2026-11-10';
SELECT count(*) AS requests_made FROM emulator_log() l WHERE l LIKE 'GET %';
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-03' AND call_start_date_time < '2026-11-10'$$);
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);
-- call records read by id teach nothing of the others (a user may pick
-- the biggest meeting: record 2 has 150 sessions in 3 pages), nor do
-- scans that a LIMIT stopped, nor a list narrowed by something other
-- than time (here the participant)
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT count(*) FROM (SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-03' AND call_start_date_time < '2026-11-04' LIMIT 1) x;
SELECT count(*) FROM (SELECT * FROM cr.call_records
 WHERE start_date_time >= '2026-11-03' AND start_date_time < '2026-11-04' LIMIT 1) x;
SELECT count(*) FROM cr.participants WHERE id = 'nobody';
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);

-- what that week takes; the scan teaches what it saw in turn
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17';
SELECT count(*) AS requests_made FROM emulator_log() l WHERE l LIKE 'GET %';
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);

-- the whole 30 days listed: the days from the 21st on hold no call, so a
-- week of them costs the list's one page; half a day costs what its hours
-- hold.  (A list read for other columns than start_date_time does not
-- tell the hours.)
SELECT count(start_date_time) FROM cr.call_records;
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-22' AND call_start_date_time < '2026-11-29'$$);
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-11-10' AND start_date_time < '2026-11-11';
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-10 12:00'$$);

-- a reference time whose hours are not kept (before 2000, or past what
-- an int32 of hours counts): a scan notes no hour and an estimate takes
-- the mean hour; neither may write or read outside the hours
SET callrecords_fdw.reference_time = '1999-06-01';
SELECT count(start_date_time) FROM cr.call_records;
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '1999-05-20' AND call_start_date_time < '1999-05-21'$$);
SET callrecords_fdw.reference_time = '294276-12-30';
SELECT count(start_date_time) FROM cr.call_records;
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '294276-12-20' AND call_start_date_time < '294276-12-21'$$);
RESET callrecords_fdw.reference_time;

-- off: the guesses again
SET callrecords_fdw.learn_tenant_shape = off;
SELECT * FROM request_estimates($$SELECT * FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-10' AND call_start_date_time < '2026-11-17'$$);
RESET callrecords_fdw.learn_tenant_shape;
