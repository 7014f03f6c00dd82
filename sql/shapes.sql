--
-- Query shapes users and BI tools write: every common spelling of a time
-- range or of an id list narrows the Graph requests (the emulator's request
-- log shows exactly what was sent), infinite bounds are open ends, the log
-- functions never read a window Graph refuses nor silently a shorter one,
-- and joins of the child tables give the rows pushdown off gives in plans
-- that rescan a foreign scan.
--
\pset null '(null)'
SET TimeZone = 'UTC';
CREATE FUNCTION graph_requests() RETURNS SETOF text LANGUAGE sql
AS $$ SELECT l FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1 $$;
-- rows of a query with pushdown on, with pushdown off, and how many differ
CREATE FUNCTION on_off(q text, OUT rows_on bigint, OUT rows_off bigint, OUT differ bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'CREATE TEMP TABLE on_rows AS ' || q;
  PERFORM set_config('callrecords_fdw.enable_pushdown', 'off', true);
  EXECUTE 'CREATE TEMP TABLE off_rows AS ' || q;
  PERFORM set_config('callrecords_fdw.enable_pushdown', 'on', true);
  SELECT count(*) INTO rows_on FROM on_rows;
  SELECT count(*) INTO rows_off FROM off_rows;
  SELECT count(*) INTO differ FROM ((TABLE on_rows EXCEPT ALL TABLE off_rows)
                                    UNION ALL (TABLE off_rows EXCEPT ALL TABLE on_rows)) d;
  DROP TABLE on_rows, off_rows;
END $$;
-- rows of a query in the default plan, and in one that rescans foreign
-- scans (nested loops without Materialize), and how many differ
CREATE FUNCTION plans_agree(q text, OUT rows_default bigint, OUT rows_nested bigint, OUT differ bigint)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'CREATE TEMP TABLE on_rows AS ' || q;
  PERFORM set_config('enable_material', 'off', true), set_config('enable_hashjoin', 'off', true),
          set_config('enable_mergejoin', 'off', true), set_config('enable_memoize', 'off', true);
  EXECUTE 'CREATE TEMP TABLE off_rows AS ' || q;
  PERFORM set_config('enable_material', 'on', true), set_config('enable_hashjoin', 'on', true),
          set_config('enable_mergejoin', 'on', true), set_config('enable_memoize', 'on', true);
  SELECT count(*) INTO rows_default FROM on_rows;
  SELECT count(*) INTO rows_nested FROM off_rows;
  SELECT count(*) INTO differ FROM ((TABLE on_rows EXCEPT ALL TABLE off_rows)
                                    UNION ALL (TABLE off_rows EXCEPT ALL TABLE on_rows)) d;
  DROP TABLE on_rows, off_rows;
END $$;

-- timestamp (without time zone) and date operands, read in the session time zone
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-11-05 00:00'::timestamp AND start_date_time < '2026-11-06 00:00'::timestamp;
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= date '2026-11-05' AND start_date_time < date '2026-11-06';
SET TimeZone = 'Europe/Oslo';
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-11-05 00:00'::timestamp AND start_date_time < '2026-11-06 00:00'::timestamp;
RESET TimeZone;
SET TimeZone = 'UTC';
SELECT * FROM graph_requests();
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE start_date_time >= '2026-11-05 00:00'::timestamp AND start_date_time < date '2026-11-12'$$);
-- run-time spellings: current_date - 1, and timestamp parameters of a
-- prepared statement (JDBC LocalDateTime, Npgsql, psycopg2 naive datetimes)
-- in a generic plan, evaluated when the scan starts
SELECT emulator_reset();
SELECT count(*) >= 0 AS ran FROM cr.call_records WHERE start_date_time >= current_date - 1 AND start_date_time < current_date;
SELECT regexp_replace(l, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<t>', 'g') AS request FROM graph_requests() l;
PREPARE day_calls_ts(timestamp, timestamp) AS
  SELECT count(*) FROM cr.call_records WHERE start_date_time >= $1 AND start_date_time < $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE day_calls_ts('2026-11-05 00:00', '2026-11-06 00:00');
SELECT emulator_reset();
EXECUTE day_calls_ts('2026-11-05 00:00', '2026-11-06 00:00');
SELECT * FROM graph_requests();
RESET plan_cache_mode;

-- a day written as a cast of the column, or as date_trunc of it
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE CAST(start_date_time AS date) = '2026-11-05';
SELECT count(*) FROM cr.call_records WHERE start_date_time::date > '2026-11-17';
SELECT count(*) FROM cr.call_records WHERE date_trunc('day', start_date_time) = '2026-11-05 00:00+00';
SELECT count(*) FROM cr.call_records WHERE date_trunc('month', start_date_time) <= '2026-10-01 00:00+00';
SELECT * FROM graph_requests();
SELECT * FROM on_off($$SELECT id FROM cr.call_records WHERE start_date_time::date BETWEEN '2026-11-03' AND '2026-11-06'$$);

-- BETWEEN SYMMETRIC, NOT BETWEEN and an OR of ranges: one window each,
-- overlapping windows merged, no row twice
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records
 WHERE start_date_time BETWEEN SYMMETRIC '2026-11-06 00:00+00' AND '2026-11-05 00:00+00';
SELECT count(*) FROM cr.call_records
 WHERE start_date_time NOT BETWEEN '2026-11-02 00:00+00' AND '2026-11-18 00:00+00';
SELECT count(*) FROM cr.call_records
 WHERE (start_date_time >= '2026-11-05 00:00+00' AND start_date_time < '2026-11-07 00:00+00')
    OR (start_date_time >= '2026-11-06 00:00+00' AND start_date_time < '2026-11-08 00:00+00')
    OR start_date_time::date = '2026-11-17';
SELECT * FROM graph_requests();
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE start_date_time NOT BETWEEN '2026-11-02 00:00+00' AND '2026-11-18 00:00+00'$$);
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE (start_date_time >= '2026-11-05 00:00+00' AND start_date_time < '2026-11-07 00:00+00')
     OR (start_date_time >= '2026-11-06 00:00+00' AND start_date_time < '2026-11-08 00:00+00')$$);
-- the same on call_start_date_time of a child table
SELECT emulator_reset();
SELECT call_record_id, count(*) FROM cr.sessions
 WHERE CAST(call_start_date_time AS date) = '2026-11-05' OR call_start_date_time::date = '2026-11-13'
 GROUP BY 1 ORDER BY 1;
SELECT * FROM graph_requests();
-- a list of days (IN, = ANY of a constant array), as Tableau and Metabase
-- write a choice of days: one window each, adjacent days merged
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions WHERE call_start_date_time::date IN ('2026-11-18', '2026-11-19');
SELECT count(*) FROM cr.call_records
 WHERE start_date_time::date = ANY (ARRAY['2026-11-03', '2026-11-10']::date[]);
SELECT * FROM graph_requests();
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE CAST(start_date_time AS date) IN ('2026-11-03', '2026-11-10', '2026-11-17')$$);

-- infinite bounds are open ends; an empty range sends nothing
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '-infinity' AND start_date_time < '2026-11-03 00:00+00';
SELECT count(*) FROM cr.call_records WHERE start_date_time > '2026-11-18 00:00+00' AND start_date_time <= 'infinity';
SELECT count(*) FROM cr.call_records WHERE start_date_time >= 'infinity';
SELECT count(*) FROM cr.call_records WHERE start_date_time < '-infinity'::timestamp;
SELECT * FROM graph_requests();
-- so are bounds past Graph's years 1 to 9999 (Graph refuses them with
-- 400); a date past a timestamp's years (5874897) is PostgreSQL's error
SELECT emulator_reset();
SELECT id FROM cr.call_records
 WHERE start_date_time::date IN ('294276-12-30', '2026-11-05', '0001-01-01 BC') ORDER BY 1;
SELECT count(*) FROM cr.call_records WHERE start_date_time >= '0001-01-01' AND start_date_time < '2026-11-03';
SELECT count(*) FROM cr.call_records WHERE start_date_time > '2026-11-18' AND start_date_time < '12000-01-01';
SELECT * FROM graph_requests();
SELECT * FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE start_date_time >= date '5874897-12-31'$$);
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE date_trunc('day', start_date_time) IN ('2026-11-05', '294276-12-30', '4713-01-01 BC')$$);
PREPARE open_range(timestamptz, timestamptz) AS
  SELECT count(*) FROM cr.call_records WHERE start_date_time >= $1 AND start_date_time < $2;
SET plan_cache_mode = force_generic_plan;
SELECT emulator_reset();
EXECUTE open_range('2026-11-18 00:00+00', 'infinity');
EXECUTE open_range('-infinity', '2026-11-03 00:00+00');
SELECT * FROM graph_requests();
RESET plan_cache_mode;

-- an id list written as ORs, and LIKE / ILIKE without wildcards, are lookups by id
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records
 WHERE (id = 'cafe0000-0000-4000-8000-000000000001') OR (id = 'cafe0000-0000-4000-8000-000000000002')
    OR id IN ('cafe0000-0000-4000-8000-000000000002', 'cafe0000-0000-4000-8000-000000000004');
SELECT count(*) FROM cr.streams WHERE call_record_id LIKE 'cafe0000-0000-4000-8000-000000000001';
SELECT count(*) FROM cr.call_records WHERE id ILIKE 'CAFE0000-0000-4000-8000-000000000004';
SELECT * FROM graph_requests();
-- IS NOT DISTINCT FROM (ORMs' equality) is a lookup by id too
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions WHERE call_record_id IS NOT DISTINCT FROM 'cafe0000-0000-4000-8000-000000000004';
SELECT count(*) FROM cr.call_records
 WHERE id IS NOT DISTINCT FROM 'cafe0000-0000-4000-8000-000000000007'
    OR id IS NOT DISTINCT FROM 'cafe0000-0000-4000-8000-000000000008';
PREPARE by_id_orm(text) AS SELECT count(*) FROM cr.call_records WHERE id IS NOT DISTINCT FROM $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE by_id_orm('cafe0000-0000-4000-8000-000000000009');
RESET plan_cache_mode;
SELECT * FROM graph_requests();
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE id IS NOT DISTINCT FROM 'cafe0000-0000-4000-8000-000000000004'
     OR id IS NOT DISTINCT FROM 'CAFE0000-0000-4000-8000-000000000005'$$);
-- a pattern with a wildcard is checked locally (the list is read)
EXPLAIN (COSTS OFF) SELECT count(*) FROM cr.call_records WHERE id LIKE 'cafe0000-0000-4000-8000-00000000000_';
SELECT * FROM on_off($$SELECT id FROM cr.call_records
  WHERE id = 'cafe0000-0000-4000-8000-000000000001' OR id LIKE 'cafe0000-0000-4000-8000-000000000002'
     OR id ILIKE 'CAFE0000-0000-4000-8000-000000000003'$$);

-- log functions: every spelling is pushed, ranges older than 90 days included
SELECT emulator_reset();
SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= date '2026-03-01' AND start_date_time < date '2026-03-02';
SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= '2026-03-01 00:00+00' AND start_date_time < '2026-03-02 00:00+00';
SELECT count(*) FROM cr.pstn_calls WHERE CAST(start_date_time AS date) = '2026-03-01';
SELECT regexp_replace(l, 'toDateTime=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', 'toDateTime=<now>') AS request
  FROM graph_requests() l;
-- an infinite upper bound next to a finite lower one: one window up to now
-- (the lower bound near now, and one row read, so that the windows and
-- pages do not depend on the date)
SELECT emulator_reset();
SELECT start_date_time IS NOT NULL AS rows_read FROM cr.pstn_calls
 WHERE start_date_time >= now() - interval '3 days' AND start_date_time < 'infinity' LIMIT 1;
SELECT regexp_replace(l, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<t>', 'g') AS request FROM graph_requests() l;
-- a log function with no condition on its time column reads its implicit
-- window (the 90 days up to now), which Graph accepts for each function
SELECT emulator_reset();
SELECT start_date_time IS NOT NULL AS rows_read FROM cr.direct_routing_calls LIMIT 1;
SELECT start_date_time IS NOT NULL AS rows_read FROM cr.pstn_calls LIMIT 1;
SELECT regexp_replace(l, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<t>', 'g') AS request FROM graph_requests() l;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cr.direct_routing_calls;
-- a condition on the time column that gives no lower bound is an error
-- that says what to write, never a silently shorter window
SELECT * FROM expect_error($$SELECT count(*) FROM cr.pstn_calls WHERE start_date_time < '2026-11-01 00:00+00'$$);
SELECT * FROM expect_error($$SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= '-infinity' AND start_date_time < '2026-11-01 00:00+00'$$);
SELECT * FROM expect_error($$SELECT count(*) FROM cr.pstn_calls WHERE start_date_time + interval '1 hour' >= '2026-11-01 00:00+00'$$);
SELECT * FROM expect_error($$SELECT count(*) FROM cr.pstn_calls WHERE extract(year FROM start_date_time) = 2025$$);
SELECT * FROM expect_error($$SELECT count(*) FROM cr.pstn_calls WHERE start_date_time <> '2026-11-01 00:00+00'$$);
-- an empty range makes no request
SELECT emulator_reset();
SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= 'infinity';
SELECT count(*) AS requests FROM graph_requests();

-- joins of the child tables in plans that rescan a foreign scan without a
-- Materialize above it (rows replayed on an unchanged rescan), the README's
-- first example among them
SET enable_material = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT s.session_index, st.stream_direction, st.average_jitter
  FROM cr.sessions s
  JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'
   AND st.media_label = 'main-audio'
 ORDER BY st.average_jitter DESC NULLS LAST, 2;
SELECT * FROM plans_agree($$SELECT s.session_index, g.segment_index, m.media_index, t.stream_index, t.average_jitter
  FROM cr.sessions s
  JOIN cr.segments g USING (call_record_id, session_index)
  JOIN cr.media m USING (call_record_id, session_index, segment_index)
  JOIN cr.streams t USING (call_record_id, session_index, segment_index, media_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT * FROM plans_agree($$SELECT t.session_index, t.stream_index, s.id
  FROM cr.streams t LEFT JOIN cr.sessions s
    ON s.call_record_id = t.call_record_id AND s.session_index = t.session_index AND s.session_index < 3
 WHERE t.call_record_id = 'cafe0000-0000-4000-8000-000000000004'$$);
RESET enable_material;
RESET enable_hashjoin;
RESET enable_mergejoin;
-- the streams of record 1 joined down from sessions, against the emulator's raw JSON
SELECT count(*) AS raw_streams FROM emulator_raw('cafe0000-0000-4000-8000-000000000001') r,
  jsonb_array_elements(r->'sessions') s, jsonb_array_elements(s->'segments') g,
  jsonb_array_elements(g->'media') m, jsonb_array_elements(m->'streams') t;

-- the dashboard join: the date filter only on call_records; one list
-- request, then one request chain per listed record, shared by both tables
EXPLAIN (COSTS OFF)
SELECT c.id, count(*) FROM cr.call_records c
  JOIN cr.sessions s ON s.call_record_id = c.id
  JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06' GROUP BY 1;
SELECT emulator_reset();
SELECT c.id, count(*) FROM cr.call_records c
  JOIN cr.sessions s ON s.call_record_id = c.id
  JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06' GROUP BY 1 ORDER BY 1;
SELECT * FROM graph_requests();
