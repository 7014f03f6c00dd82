--
-- Batched joins: local rows joined to a table fetched per call record hand
-- the outer ids to the foreign scan as one array (a CustomScan, batchjoin.c),
-- so each distinct id is fetched once and max_concurrency at a time.
--
-- the comparisons below fetch the same few records many times in a few
-- seconds: the wrapper's per-record pacing (40 per 20 s) would make them wait
ALTER SERVER graph OPTIONS (ADD record_rate_limit '0');
CREATE TABLE my_calls (id text, site text);
INSERT INTO my_calls VALUES
  ('cafe0000-0000-4000-8000-000000000001', 'Oslo'),
  ('cafe0000-0000-4000-8000-000000000004', 'Lima'),
  ('cafe0000-0000-4000-8000-000000000001', 'Pune'),   -- a duplicate id
  ('00000000-0000-0000-0000-000000000000', 'Nowhere'), -- 404: zero rows
  (NULL, 'Unknown'),
  ('cafe0000-0000-4000-8000-000000000002', 'Rome');
ANALYZE my_calls;

-- the plans: inner and LEFT joins to streams, sessions and call_records
EXPLAIN (COSTS OFF)
SELECT m.site, s.stream_direction FROM my_calls m JOIN cr.streams s ON s.call_record_id = m.id;
EXPLAIN (COSTS OFF)
SELECT m.site, s.session_index FROM my_calls m LEFT JOIN cr.sessions s ON s.call_record_id = m.id;
EXPLAIN (COSTS OFF)
SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id;
-- the switch: a parameterized nested loop again
SET callrecords_fdw.batch_joins = off;
EXPLAIN (COSTS OFF)
SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id;
RESET callrecords_fdw.batch_joins;

-- each distinct id once, NULL never, the unknown id answered 404
SELECT emulator_reset();
SELECT m.site, count(*), round(avg(extract(epoch FROM s.average_jitter) * 1000)::numeric, 3) AS avg_jitter_ms
  FROM my_calls m JOIN cr.streams s ON s.call_record_id = m.id GROUP BY 1 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT emulator_reset();
SELECT m.site, count(s.session_index) AS sessions
  FROM my_calls m LEFT JOIN cr.sessions s ON s.call_record_id = m.id GROUP BY 1 ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT emulator_reset();
SELECT m.site, c.type FROM my_calls m LEFT JOIN cr.call_records c ON c.id = m.id ORDER BY 1;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;

-- EXPLAIN ANALYZE: one batch, three distinct keys, three requests
SELECT * FROM explain_analyze($$
SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id$$);

-- the same rows as the nested loop (batch_joins off) and as no pushdown at
-- all, whichever join method the comparison gets: the differences both ways
-- (EXCEPT ALL) are counted, and the batched side must be a batched join.
-- Against the tables below a call record the comparison lists the call
-- records of one day (a fan-out where no nested loop is allowed), so the
-- ids are of that day; with pushdown off they would be read whole, every
-- record of the tenant (some 40 s), so that comparison is made on
-- call_records only.
CREATE TABLE day_calls (id text, site text);
INSERT INTO day_calls VALUES
  ('cafe0000-0000-4000-8000-000000000004', 'Lima'), ('cafe0000-0000-4000-8000-000000000006', 'Oslo'),
  ('cafe0000-0000-4000-8000-000000000007', 'Pune'), ('cafe0000-0000-4000-8000-000000000004', 'Rome'),
  ('00000000-0000-0000-0000-000000000000', 'Nowhere'), (NULL, 'Unknown');
ANALYZE day_calls;
CREATE FUNCTION batch_diff(q text, planner_off text, compare text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  batched bool := false;
  line text;
  n bigint;
  diffs bigint;
BEGIN
  PERFORM set_config(planner_off, 'off', false);
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    batched := batched OR line LIKE '%CallRecords Batched Join%';
  END LOOP;
  EXECUTE 'CREATE TEMP TABLE bd_a AS ' || q;
  PERFORM set_config(compare, 'off', false);
  EXECUTE 'CREATE TEMP TABLE bd_b AS ' || q;
  PERFORM set_config(compare, 'on', false);
  PERFORM set_config(planner_off, 'on', false);
  SELECT count(*) INTO n FROM bd_a;
  SELECT count(*) INTO diffs FROM ((TABLE bd_a EXCEPT ALL TABLE bd_b) UNION ALL
                                   (TABLE bd_b EXCEPT ALL TABLE bd_a)) d;
  DROP TABLE bd_a, bd_b;
  RETURN format('batched=%s rows=%s differences=%s', batched, n, diffs);
END $$;
CREATE TABLE batch_queries (n int, q text, pushdown_off_too bool);
INSERT INTO batch_queries VALUES
  (1, $$SELECT m.site, s.call_record_id, s.session_index, s.segment_index, s.media_index, s.stream_index,
               s.stream_direction, s.average_jitter
          FROM day_calls m JOIN cr.streams s ON s.call_record_id = m.id
         WHERE s.call_start_date_time >= '2026-11-03 00:00:00+00' AND s.call_start_date_time < '2026-11-04 00:00:00+00'$$, false),
  (2, $$SELECT m.site, m.id, s.session_index, s.id AS session_id
          FROM day_calls m LEFT JOIN cr.sessions s ON s.call_record_id = m.id
           AND s.call_start_date_time >= '2026-11-03 00:00:00+00' AND s.call_start_date_time < '2026-11-04 00:00:00+00'$$, false),
  (3, $$SELECT m.site, s.session_index, s.stream_index
          FROM day_calls m LEFT JOIN cr.streams s
            ON s.call_record_id = m.id AND s.stream_direction = 'callerToCallee'
           AND s.call_start_date_time >= '2026-11-03 00:00:00+00' AND s.call_start_date_time < '2026-11-04 00:00:00+00'
         WHERE m.site <> 'Pune' AND (s.session_index IS NULL OR s.session_index < 3)$$, false),
  (4, $$SELECT m.site, m.id, c.id AS cid, c.type, c.start_date_time
          FROM my_calls m LEFT JOIN cr.call_records c ON c.id = m.id$$, true),
  (5, $$SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id AND c.type <> m.site$$, true);
-- one statement each, so that each stays within max_requests
SELECT format('SELECT %s AS query, %L AS planner_off, %L AS compare_with, batch_diff(%L, %L, %L)',
              n, p, c, q, p, c)
  FROM batch_queries,
       (VALUES ('enable_hashjoin'), ('enable_mergejoin'), ('enable_nestloop')) pl(p),
       (VALUES ('callrecords_fdw.batch_joins'), ('callrecords_fdw.enable_pushdown')) cm(c)
 WHERE pushdown_off_too OR c = 'callrecords_fdw.batch_joins'
 ORDER BY n, p, c \gexec

-- the outer side a foreign table too, under a parent that projects for it
-- (the planner passes the join no target list, and then gives it one);
-- with join pushdown on, this join is one scan (joins test)
SET callrecords_fdw.enable_join_pushdown = off;
SELECT batch_diff($$SELECT s.call_record_id, s.session_index, m.media_index, s.start_date_time, m.label
  FROM cr.sessions s JOIN cr.media m ON m.call_record_id = s.call_record_id AND m.session_index = s.session_index
 WHERE s.call_record_id = ANY (ARRAY['cafe0000-0000-4000-8000-000000000025', 'cafe0000-0000-4000-8000-000000000004'])$$,
                  'enable_hashjoin', 'callrecords_fdw.batch_joins');
RESET callrecords_fdw.enable_join_pushdown;

-- rescans: as the inner side of a nested loop the one batch is replayed
-- (each id still fetched once); in a correlated subquery each outer row's
-- rescan reads its own batch
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT v.n, count(c.id) FROM (VALUES (1), (2), (3)) v(n)
  LEFT JOIN (my_calls m JOIN cr.call_records c ON c.id = m.id) ON v.n > 0 GROUP BY 1;
SELECT emulator_reset();
SELECT v.n, count(c.id) FROM (VALUES (1), (2), (3)) v(n)
  LEFT JOIN (my_calls m JOIN cr.call_records c ON c.id = m.id) ON v.n > 0 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material;
SELECT emulator_reset();
SELECT m2.site, (SELECT count(*) FROM my_calls m JOIN cr.sessions s ON s.call_record_id = m.id
                  WHERE m.site = m2.site) AS sessions
  FROM my_calls m2 ORDER BY 1;
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';

-- a scroll cursor gets a Material above the join (no backward scan here)
BEGIN;
DECLARE cur SCROLL CURSOR FOR
  SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id ORDER BY m.site;
FETCH 2 FROM cur;
FETCH BACKWARD 1 FROM cur;
FETCH ALL FROM cur;
COMMIT;

-- errors inside the inner scan are the inner scan's errors
SELECT emulator_reset();
SELECT emulator_fault('{"match": "callRecords/cafe0000-0000-4000-8000-000000000004", "status": 500, "times": -1}');
ALTER SERVER graph OPTIONS (ADD max_retries '0');
SELECT * FROM expect_error($$SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id$$);
ALTER SERVER graph OPTIONS (DROP max_retries);
SELECT emulator_reset();
-- a cancel (statement_timeout) while the batch is in flight
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 2000}');
SET statement_timeout = '300ms';
SELECT * FROM expect_error($$SELECT m.site, c.type FROM my_calls m JOIN cr.call_records c ON c.id = m.id$$);
RESET statement_timeout;
SELECT emulator_reset();
SELECT count(*) FROM my_calls m JOIN cr.call_records c ON c.id = m.id;

-- concurrency: the outer ids of one batch are in flight together
CREATE TABLE six_calls AS
  SELECT 'cafe0000-0000-4000-8000-0000000000' || lpad(i::text, 2, '0') AS id FROM generate_series(6, 11) i;
ANALYZE six_calls;
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 200}');
SELECT count(*) FROM six_calls m JOIN cr.sessions s ON s.call_record_id = m.id;
SELECT (string_agg(line, '')::jsonb->>'max_in_flight')::int > 1 AS concurrent
  FROM emulator('GET', '/_emulator/stats');
SELECT emulator_reset();

-- a key repeated in a later batch is not fetched again: 20,000 outer rows
-- naming 49 records and one unknown id are two batches, 50 keys sent and
-- 50 requests (each batch sent its 50 before); an outer side that ends
-- with a full batch adds no empty one
CREATE TABLE many_rows AS
  SELECT g, CASE WHEN g % 50 = 3 THEN 'cafe0000-0000-4000-8000-000000000099'
                 ELSE 'cafe0000-0000-4000-8000-0000000000' || lpad((1 + g % 50)::text, 2, '0') END AS id
    FROM generate_series(1, 20000) g;
ANALYZE many_rows;
SELECT emulator_reset();
SELECT trim(p) AS line FROM explain_analyze($$SELECT count(*) FROM many_rows m LEFT JOIN cr.call_records c ON c.id = m.id$$) p
 WHERE p ~ 'Batches|Keys sent|Graph requests:|Batched Join';
SELECT count(*) AS requests FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT trim(p) AS line FROM explain_analyze($$SELECT count(*) FROM many_rows m JOIN cr.call_records c ON c.id = m.id
                                              WHERE m.g <= 10000$$) p
 WHERE p ~ 'Batches|Keys sent';
SELECT count(*) AS joined, count(c.id) AS matched FROM many_rows m LEFT JOIN cr.call_records c ON c.id = m.id;
SET callrecords_fdw.batch_joins = off;
SELECT count(*) AS joined, count(c.id) AS matched FROM many_rows m LEFT JOIN cr.call_records c ON c.id = m.id;
RESET callrecords_fdw.batch_joins;

ALTER SERVER graph OPTIONS (DROP record_rate_limit);
DROP TABLE my_calls, day_calls, six_calls, batch_queries, many_rows;
DROP FUNCTION batch_diff(text, text, text);
