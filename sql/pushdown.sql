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
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT emulator_reset();
PREPARE by_ids(text[]) AS SELECT count(*) FROM cr.streams WHERE call_record_id = ANY($1);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_ids(ARRAY['cafe0000-0000-4000-8000-000000000001']);
EXECUTE by_ids(ARRAY['cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004', NULL]);
RESET plan_cache_mode;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';

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
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';
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
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT count(*) FROM emulator_raw_list() r
 WHERE r->>'type' = 'peerToPeer' AND (r->>'endDateTime')::timestamptz > '2026-11-18 00:00:00+00';

-- a NULL bound matches no row and sends no request
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE start_date_time >= NULL::timestamptz;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';
