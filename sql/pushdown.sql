--
-- Pushdown: which conditions narrow the Graph requests, the requests they
-- give (EXPLAIN and the emulator's log), and results identical to what
-- the same filter gives over everything.
--
\pset null '(null)'
SELECT emulator_reset();

-- IN and = ANY: one request chain per distinct id
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cr.sessions
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004',
                          'cafe0000-0000-4000-8000-000000000001');
SELECT call_record_id, count(*) FROM cr.sessions
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004',
                          'cafe0000-0000-4000-8000-000000000001')
 GROUP BY 1 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT emulator_reset();
PREPARE by_ids(text[]) AS SELECT count(*) FROM cr.streams WHERE call_record_id = ANY($1);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_ids(ARRAY['cafe0000-0000-4000-8000-000000000001']);
EXECUTE by_ids(ARRAY['cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004', NULL]);
RESET plan_cache_mode;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- an id from a stable expression is computed once, at execution
SELECT count(*) FROM cr.sessions WHERE call_record_id = lower('CAFE0000-0000-4000-8000-000000000004');

-- without an id, the tables below a call record list the call records
-- (with call_start_date_time as $filter) and fetch each one
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-05 00:00:00+00' AND call_start_date_time < '2026-11-06 00:00:00+00';
SELECT emulator_reset();
SELECT call_record_id, count(*) FROM cr.sessions
 WHERE call_start_date_time >= '2026-11-05 00:00:00+00' AND call_start_date_time < '2026-11-06 00:00:00+00'
 GROUP BY 1 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- the same rows as asking for those records by id
SELECT call_record_id, count(*) FROM cr.sessions
 WHERE call_record_id IN (SELECT id FROM cr.call_records
                           WHERE start_date_time >= '2026-11-05 00:00:00+00' AND start_date_time < '2026-11-06 00:00:00+00')
   AND call_record_id IN ('cafe0000-0000-4000-8000-000000000012', 'cafe0000-0000-4000-8000-000000000013')
 GROUP BY 1 ORDER BY 1;

-- conditions Graph cannot evaluate are applied locally only
EXPLAIN (COSTS OFF)
SELECT id FROM cr.call_records WHERE type = 'peerToPeer' AND end_date_time > '2026-11-18 00:00:00+00';
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE type = 'peerToPeer' AND end_date_time > '2026-11-18 00:00:00+00';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT count(*) FROM emulator_raw_list() r
 WHERE r->>'type' = 'peerToPeer' AND (r->>'endDateTime')::timestamptz > '2026-11-18 00:00:00+00';

-- a NULL bound matches no row and sends no request
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE start_date_time >= NULL::timestamptz;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- joins with local tables: a nested loop fetches only the call records
-- the outer rows name (a parameterized scan), each once
CREATE TABLE site_calls (call_record_id text, site text);
INSERT INTO site_calls VALUES ('cafe0000-0000-4000-8000-000000000001', 'Oslo'),
  ('cafe0000-0000-4000-8000-000000000004', 'Lima'), ('cafe0000-0000-4000-8000-000000000001', 'Pune'),
  ('00000000-0000-0000-0000-000000000000', 'Nowhere');
ANALYZE site_calls;
EXPLAIN (COSTS OFF)
SELECT l.site, count(*) FROM site_calls l JOIN cr.streams s ON s.call_record_id = l.call_record_id GROUP BY 1;
SELECT emulator_reset();
SELECT l.site, count(*), round(avg(extract(epoch FROM s.average_jitter) * 1000)::numeric, 3) AS avg_jitter_ms
  FROM site_calls l JOIN cr.streams s ON s.call_record_id = l.call_record_id GROUP BY 1 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- the outer rows as one batch: an array of the local ids (an initplan) is
-- pushed down like an IN list, each distinct id fetched once, concurrently
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cr.streams s WHERE s.call_record_id = ANY (ARRAY(SELECT call_record_id FROM site_calls));
SELECT emulator_reset();
SELECT count(*) FROM cr.streams s WHERE s.call_record_id = ANY (ARRAY(SELECT call_record_id FROM site_calls));
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- a correlated subquery is pushed down too: one request per outer row
SELECT emulator_reset();
SELECT l.site, (SELECT count(*) FROM cr.streams s WHERE s.call_record_id = l.call_record_id) AS streams
  FROM site_calls l ORDER BY 1;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';
-- call_records filtered by time, joined to their sessions: list once, then one GET per record
EXPLAIN (COSTS OFF)
SELECT c.id, count(*) FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-05 00:00:00+00' AND c.start_date_time < '2026-11-06 00:00:00+00' GROUP BY 1;
SELECT emulator_reset();
SELECT c.id, c.type, count(*) FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-05 00:00:00+00' AND c.start_date_time < '2026-11-06 00:00:00+00'
 GROUP BY 1, 2 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- sessions, segments, media and streams of one call record in one query make
-- as many requests as streams alone: scans of a statement share responses
SELECT emulator_reset();
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT count(*) AS streams_alone FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT emulator_reset();
SELECT count(*)
  FROM cr.sessions s
  JOIN cr.segments g USING (call_record_id, session_index)
  JOIN cr.media m USING (call_record_id, session_index, segment_index)
  JOIN cr.streams t USING (call_record_id, session_index, segment_index, media_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT count(*) AS four_tables FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions s JOIN cr.streams t USING (call_record_id, session_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);

-- with pushdown off every condition is local and the rows are the same
CREATE TEMP TABLE pushed AS
SELECT call_record_id, participant_index, id FROM cr.participants
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000004', 'cafe0000-0000-4000-8000-000000000012')
   AND identity_user_display_name < 'M';
SET callrecords_fdw.enable_pushdown = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cr.participants WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';
SELECT emulator_reset();
CREATE TEMP TABLE local_only AS
SELECT call_record_id, participant_index, id FROM cr.participants
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000004', 'cafe0000-0000-4000-8000-000000000012')
   AND identity_user_display_name < 'M';
SELECT count(*) AS requests_without_pushdown FROM emulator_log() l WHERE l NOT LIKE 'POST%';
CREATE TEMP TABLE records_local AS
SELECT id FROM cr.call_records WHERE start_date_time >= '2026-11-10 00:00:00+00' AND start_date_time < '2026-11-12 00:00:00+00';
RESET callrecords_fdw.enable_pushdown;
SELECT (SELECT count(*) FROM pushed) AS pushed_rows, (SELECT count(*) FROM local_only) AS local_rows,
       (SELECT count(*) FROM (SELECT * FROM pushed EXCEPT ALL SELECT * FROM local_only) d) AS only_pushed,
       (SELECT count(*) FROM (SELECT * FROM local_only EXCEPT ALL SELECT * FROM pushed) d) AS only_local;
SELECT (SELECT count(*) FROM records_local) AS local_rows,
       (SELECT count(*) FROM (SELECT id FROM cr.call_records WHERE start_date_time >= '2026-11-10 00:00:00+00' AND start_date_time < '2026-11-12 00:00:00+00'
                              EXCEPT ALL SELECT id FROM records_local) d) AS only_pushed;
SELECT count(*) FROM (
  SELECT id FROM cr.call_records WHERE start_date_time >= '2026-11-10 00:00:00+00'
  EXCEPT ALL
  SELECT id FROM cr.call_records WHERE start_date_time + interval '0' >= '2026-11-10 00:00:00+00') d;

-- call_records asks only for the properties the query reads ($select)
SELECT emulator_reset();
SELECT id, type FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT raw->>'type' AS type_from_raw FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- a participant id narrows the list of call records the participants
-- table goes through (participants_v2/any), as an OData string literal
EXPLAIN (COSTS OFF)
SELECT call_record_id FROM cr.participants WHERE id = '821809f5-0000-0000-0000-3b5136c0e777';
SELECT emulator_reset();
CREATE TEMP TABLE abbie_pushed AS
SELECT call_record_id, participant_index FROM cr.participants WHERE id = '821809f5-0000-0000-0000-3b5136c0e777';
SELECT call_record_id, participant_index FROM abbie_pushed ORDER BY 1, 2;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SET callrecords_fdw.enable_pushdown = off;
SELECT count(*) AS mismatches FROM (
  (SELECT call_record_id, participant_index FROM cr.participants WHERE id = '821809f5-0000-0000-0000-3b5136c0e777'
   EXCEPT ALL SELECT * FROM abbie_pushed)
  UNION ALL
  (SELECT * FROM abbie_pushed
   EXCEPT ALL SELECT call_record_id, participant_index FROM cr.participants WHERE id = '821809f5-0000-0000-0000-3b5136c0e777')) d;
RESET callrecords_fdw.enable_pushdown;
-- quotes in the literal are doubled and percent-encoded
EXPLAIN (COSTS OFF) SELECT count(*) FROM cr.participants WHERE id = 'o''brien & co';
SELECT emulator_reset();
SELECT count(*) FROM cr.participants WHERE id = 'o''brien & co';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- sessions alone ask for the sessions without their segments; a scan of the
-- same statement that already holds them with segments serves them
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';
SELECT (SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001') AS streams,
       (SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001') AS sessions;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- LIMIT is a page-size hint, never a cap, and only when every condition
-- was pushed down and nothing needs all rows first
CREATE FUNCTION graph_stat(query text, stat text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || query INTO plan;
  RETURN (SELECT sum(v::text::bigint) FROM jsonb_path_query(plan, ('strict $.**."' || stat || '"')::jsonpath) v);
END $$;
EXPLAIN (COSTS OFF) SELECT id FROM cr.call_records LIMIT 5;
SELECT count(*) FROM (SELECT id FROM cr.call_records LIMIT 5) d;
SELECT graph_stat('SELECT id FROM cr.call_records LIMIT 5', 'Graph bytes') * 5
       < graph_stat('SELECT id FROM cr.call_records', 'Graph bytes') AS smaller_pages;
-- a local condition could need rows beyond the first page: no hint, still 5 rows
EXPLAIN (COSTS OFF) SELECT id FROM cr.call_records WHERE type = 'groupCall' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM cr.call_records WHERE type = 'groupCall' LIMIT 5) d;
-- ORDER BY needs every row: no hint
EXPLAIN (COSTS OFF) SELECT id FROM cr.call_records ORDER BY start_date_time DESC LIMIT 5;
SELECT id FROM cr.call_records ORDER BY start_date_time DESC LIMIT 3;
SELECT id, start_date_time FROM (SELECT r->>'id' AS id, (r->>'startDateTime')::timestamptz AS start_date_time FROM emulator_raw_list() r) o
 ORDER BY start_date_time DESC LIMIT 3;
-- a log function takes the hint too; the rows are the first ones in any case
EXPLAIN (COSTS OFF)
SELECT id FROM cr.pstn_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-11-08 00:00:00+00' LIMIT 10;
SELECT emulator_reset();
SELECT count(*) FROM (SELECT id FROM cr.pstn_calls
  WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-11-08 00:00:00+00' LIMIT 10) d;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- run-time values: now() - interval is computed when the scan starts
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE start_date_time >= now() - interval '100 years';
SELECT regexp_replace(l, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<now - 100 years - 1 us>') AS request
  FROM emulator_log() l WHERE l NOT LIKE 'POST%';
-- a time range from parameters of a prepared statement (generic plan)
PREPARE day_calls(timestamptz, timestamptz) AS
  SELECT count(*) FROM cr.call_records WHERE start_date_time >= $1 AND start_date_time < $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE day_calls('2026-11-05 00:00:00+00', '2026-11-06 00:00:00+00');
SELECT emulator_reset();
EXECUTE day_calls('2026-11-05 00:00:00+00', '2026-11-06 00:00:00+00');
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
RESET plan_cache_mode;
-- a log function without a range covers the API's 90-day window and says so
EXPLAIN (COSTS OFF) SELECT count(*) FROM cr.pstn_calls;

-- concurrency: a scan over several call records keeps requests in flight
-- (the emulator counts the most it saw at once); max_concurrency 1 is serial
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*) FROM cr.sessions
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000006', 'cafe0000-0000-4000-8000-000000000007',
                          'cafe0000-0000-4000-8000-000000000008', 'cafe0000-0000-4000-8000-000000000009',
                          'cafe0000-0000-4000-8000-000000000010', 'cafe0000-0000-4000-8000-000000000011');
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int > 1 AS concurrent
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (ADD max_concurrency '1');
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*) FROM cr.sessions
 WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000006', 'cafe0000-0000-4000-8000-000000000007',
                          'cafe0000-0000-4000-8000-000000000008', 'cafe0000-0000-4000-8000-000000000009',
                          'cafe0000-0000-4000-8000-000000000010', 'cafe0000-0000-4000-8000-000000000011');
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int AS most_at_once
  FROM emulator('GET', '/_emulator/stats');
ALTER SERVER graph OPTIONS (DROP max_concurrency);
SELECT emulator_reset();
