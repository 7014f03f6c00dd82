--
-- Join pushdown: a join of the server's tree tables on their keys is one
-- foreign scan that walks each record's pages once.  Asserted here: what
-- the wrapper decides (its Relations line, the requests in the emulator's
-- log) and that the rows are those of the same query with the join
-- pushdown off (each table scanned apart, joined locally).  The
-- differential test (tests/differential) compares joins with pushdown off
-- altogether, which lists the whole tenant.
--
SET TimeZone = 'UTC';

-- The rows of a query with join pushdown on and off, and whether it was
-- pushed: 'pushed=t rows=N nulls=K differences=0' (nulls: rows whose
-- last column is NULL, the null-extended ones of a left join).
CREATE FUNCTION join_diff(q text, compare text DEFAULT 'callrecords_fdw.enable_join_pushdown')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  pushed bool := false;
  line text;
  n bigint;
  nulls bigint;
  diffs bigint;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    pushed := pushed OR line LIKE '%Relations: %JOIN%';
  END LOOP;
  EXECUTE 'CREATE TEMP TABLE jd_a AS ' || q;
  PERFORM set_config(compare, 'off', false);
  EXECUTE 'CREATE TEMP TABLE jd_b AS ' || q;
  PERFORM set_config(compare, 'on', false);
  SELECT count(*) INTO n FROM jd_a;
  EXECUTE 'SELECT count(*) FROM jd_a j WHERE (to_jsonb(j) -> (SELECT attname FROM pg_attribute
             WHERE attrelid = ''jd_a''::regclass AND attnum > 0 ORDER BY attnum DESC LIMIT 1)) = ''null''::jsonb'
    INTO nulls;
  SELECT count(*) INTO diffs FROM ((TABLE jd_a EXCEPT ALL TABLE jd_b) UNION ALL
                                   (TABLE jd_b EXCEPT ALL TABLE jd_a)) d;
  DROP TABLE jd_a, jd_b;
  RETURN format('pushed=%s rows=%s nulls=%s differences=%s', pushed, n, nulls, diffs);
END $$;

-- the Relations line and the requests, without the filter (its text
-- depends on the planner's pick of equal-cost clauses)
-- The rows of a query (into temp table got) against those the raw JSON
-- gives (into want, which the caller drops with got): how many, how many
-- are null-extended (the condition nulls holds) and how many differ.
CREATE FUNCTION raw_diff(got_query text, want_query text, nulls text)
RETURNS TABLE (rows bigint, null_extended bigint, differences bigint) LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'CREATE TEMP TABLE got AS ' || got_query;
  EXECUTE 'CREATE TEMP TABLE want AS ' || want_query;
  EXECUTE format('SELECT (SELECT count(*) FROM got), (SELECT count(*) FROM got WHERE %s),
                         (SELECT count(*) FROM ((TABLE got EXCEPT ALL TABLE want)
                                                UNION ALL (TABLE want EXCEPT ALL TABLE got)) d)', nulls)
    INTO rows, null_extended, differences;
  RETURN NEXT;
END $$;

CREATE FUNCTION join_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    CONTINUE WHEN line !~ '(Relations|Graph resource|Graph request|Graph paging|Foreign Scan)';
    RETURN NEXT trim(line);
  END LOOP;
END $$;

-- inner joins down the tree, by id, with USING and ON
SELECT join_explain($$SELECT s.id, st.stream_direction, st.average_jitter
  FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001';
-- one request chain for both tables
SELECT * FROM emulator_log();

-- a record with holes: a session without segments (and one without the
-- member), a segment without media, a media without streams
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/10140000-0000-4000-8000-000000000001', $j$
{"version": 1, "type": "groupCall", "modalities": ["audio"],
 "startDateTime": "2026-11-05T10:00:00Z", "endDateTime": "2026-11-05T10:30:00Z",
 "sessions": [
  {"id": "a", "segments": [
     {"id": "a1", "media": [{"label": "audio", "streams": [{"streamDirection": "callerToCallee"},
                                                           {"streamDirection": "calleeToCaller"}]},
                            {"label": "video", "streams": []}]},
     {"id": "a2"}]},
  {"id": "b", "segments": []},
  {"id": "c"},
  {"id": "d", "segments": [{"id": "d1", "media": [{"label": "audio", "streams": [{"streamDirection": "callerToCallee"}]}]}]}]}
$j$);

CREATE TABLE join_queries (n int, q text);
INSERT INTO join_queries VALUES
  (1, $$SELECT s.call_record_id, s.session_index, s.id, st.stream_index, st.stream_direction, st.average_jitter
          FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
         WHERE s.call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000004',
                                    'cafe0000-0000-4000-8000-000000000025')$$),
  (2, $$SELECT c.id, c.type, s.session_index, s.start_date_time
          FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
         WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06'$$),
  (3, $$SELECT c.id, m.label, st.stream_index, st.average_jitter, st.average_packet_loss_rate
          FROM cr.call_records c
          JOIN cr.media m ON m.call_record_id = c.id
          JOIN cr.streams st ON st.call_record_id = m.call_record_id AND st.session_index = m.session_index
                            AND st.segment_index = m.segment_index AND st.media_index = m.media_index
         WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06'$$),
  (4, $$SELECT sg.call_record_id, sg.session_index, sg.segment_index, m.media_index, m.label, st.stream_index
          FROM cr.segments sg
          JOIN cr.media m USING (call_record_id, session_index, segment_index)
          JOIN cr.streams st USING (call_record_id, session_index, segment_index, media_index)
         WHERE sg.call_record_id = 'cafe0000-0000-4000-8000-000000000025' AND st.average_jitter > interval '1 ms'$$),
  -- a condition on both tables, and the time bound of the child table
  (5, $$SELECT s.session_index, s.id, st.stream_direction
          FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
         WHERE st.call_start_date_time >= '2026-11-05' AND st.call_start_date_time < '2026-11-06'
           AND s.id <> st.media_label$$);

SELECT n, join_diff(q) FROM join_queries ORDER BY n;

-- Left joins against the emulator's whole records (emulator_raw): each
-- session without a stream, each segment without media, gets one row
-- with the nullable side NULL.  The nullable side has no condition of
-- its own, so with the join pushdown off it would list the whole tenant:
-- the oracle is the raw JSON instead.
CREATE TABLE join_ids (id text);
INSERT INTO join_ids VALUES ('cafe0000-0000-4000-8000-000000000001'), ('cafe0000-0000-4000-8000-000000000025'),
                            ('10140000-0000-4000-8000-000000000001');
CREATE TEMP TABLE raw_sessions AS
  SELECT i.id, se.o::int AS session_index, se.v AS session
    FROM join_ids i, jsonb_array_elements(emulator_raw(i.id)->'sessions') WITH ORDINALITY se(v, o);
CREATE TEMP TABLE raw_streams AS
  SELECT r.id, r.session_index, sg.o::int AS segment_index, me.o::int AS media_index, me.v->>'label' AS label,
         st.o::int AS stream_index, st.v->>'streamDirection' AS direction
    FROM raw_sessions r, jsonb_array_elements(coalesce(r.session->'segments', '[]')) WITH ORDINALITY sg(v, o),
         jsonb_array_elements(coalesce(sg.v->'media', '[]')) WITH ORDINALITY me(v, o),
         jsonb_array_elements(coalesce(me.v->'streams', '[]')) WITH ORDINALITY st(v, o);

-- sessions LEFT JOIN streams
SELECT * FROM raw_diff($g$
  SELECT s.call_record_id, s.session_index, st.segment_index, st.media_index, st.stream_index, st.stream_direction
    FROM cr.sessions s LEFT JOIN cr.streams st USING (call_record_id, session_index)
   WHERE s.call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000025', '10140000-0000-4000-8000-000000000001')$g$, $w$
  SELECT r.id, r.session_index, x.segment_index, x.media_index, x.stream_index, x.direction
    FROM raw_sessions r LEFT JOIN raw_streams x USING (id, session_index)$w$, 'stream_index IS NULL');
SELECT join_explain($$SELECT s.call_record_id, st.stream_index
    FROM cr.sessions s LEFT JOIN cr.streams st USING (call_record_id, session_index)
   WHERE s.call_record_id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000025', '10140000-0000-4000-8000-000000000001')$$);
DROP TABLE got, want;

-- call_records LEFT JOIN sessions, participants or streams: a record
-- without any gets one row with the nullable side NULL, after the last
-- page of its chain (record 2's 150 sessions come in 3 pages: no row
-- between them), against the raw JSON
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/10140000-0000-4000-8000-000000000002', $j$
{"version": 1, "type": "peerToPeer", "modalities": ["audio"],
 "startDateTime": "2026-11-05T11:00:00Z", "endDateTime": "2026-11-05T11:10:00Z", "sessions": [], "participants_v2": []}
$j$);
CREATE TEMP TABLE lj_ids (id text);
INSERT INTO lj_ids VALUES ('cafe0000-0000-4000-8000-000000000002'), ('10140000-0000-4000-8000-000000000001'),
                          ('10140000-0000-4000-8000-000000000002');
CREATE TEMP TABLE lj_raw AS SELECT i.id, emulator_raw(i.id) AS j FROM lj_ids i;
SELECT 'sessions' AS nullable, * FROM raw_diff($g$
  SELECT c.id, s.session_index FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000001',
                  '10140000-0000-4000-8000-000000000002')$g$, $w$
  SELECT r.id, se.o::int AS session_index
    FROM lj_raw r LEFT JOIN LATERAL jsonb_array_elements(r.j->'sessions') WITH ORDINALITY se(v, o) ON true$w$, 'session_index IS NULL');
DROP TABLE got, want;
SELECT 'participants' AS nullable, * FROM raw_diff($g$
  SELECT c.id, p.participant_index, p.id AS participant FROM cr.call_records c LEFT JOIN cr.participants p ON p.call_record_id = c.id
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000001',
                  '10140000-0000-4000-8000-000000000002')$g$, $w$
  SELECT r.id, pa.o::int AS participant_index, pa.v->>'id' AS participant
    FROM lj_raw r LEFT JOIN LATERAL jsonb_array_elements(r.j->'participants_v2') WITH ORDINALITY pa(v, o) ON true$w$, 'participant_index IS NULL');
DROP TABLE got, want;
SELECT 'streams' AS nullable, * FROM raw_diff($g$
  SELECT c.id, st.session_index, st.segment_index, st.media_index, st.stream_index
    FROM cr.call_records c LEFT JOIN cr.streams st ON st.call_record_id = c.id
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000001',
                  '10140000-0000-4000-8000-000000000002')$g$, $w$
  SELECT r.id, x.session_index, x.segment_index, x.media_index, x.stream_index
    FROM lj_raw r LEFT JOIN LATERAL (
      SELECT se.o::int AS session_index, sg.o::int AS segment_index, me.o::int AS media_index, st.o::int AS stream_index
        FROM jsonb_array_elements(r.j->'sessions') WITH ORDINALITY se(v, o),
             jsonb_array_elements(coalesce(se.v->'segments', '[]')) WITH ORDINALITY sg(v, o),
             jsonb_array_elements(coalesce(sg.v->'media', '[]')) WITH ORDINALITY me(v, o),
             jsonb_array_elements(coalesce(me.v->'streams', '[]')) WITH ORDINALITY st(v, o)) x ON true$w$, 'stream_index IS NULL');
DROP TABLE got, want;
SELECT join_explain($$SELECT c.id, s.session_index FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000002')$$);
-- a chain of two left joins: a record without sessions, a session
-- without streams, each null-extended once
SELECT 'sessions, streams' AS nullable, * FROM raw_diff($g$
  SELECT c.id, s.session_index, st.segment_index, st.media_index, st.stream_index
    FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
    LEFT JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000001',
                  '10140000-0000-4000-8000-000000000002')$g$, $w$
  SELECT r.id, se.o::int AS session_index, x.segment_index, x.media_index, x.stream_index
    FROM lj_raw r LEFT JOIN LATERAL jsonb_array_elements(r.j->'sessions') WITH ORDINALITY se(v, o) ON true
    LEFT JOIN LATERAL (
      SELECT sg.o::int AS segment_index, me.o::int AS media_index, st.o::int AS stream_index
        FROM jsonb_array_elements(coalesce(se.v->'segments', '[]')) WITH ORDINALITY sg(v, o),
             jsonb_array_elements(coalesce(sg.v->'media', '[]')) WITH ORDINALITY me(v, o),
             jsonb_array_elements(coalesce(me.v->'streams', '[]')) WITH ORDINALITY st(v, o)) x ON true$w$, 'session_index IS NULL');
SELECT count(*) AS no_stream FROM got WHERE session_index IS NOT NULL AND stream_index IS NULL;
DROP TABLE got, want;
SELECT join_explain($$SELECT c.id, s.session_index, st.stream_index
  FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
  LEFT JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.id IN ('cafe0000-0000-4000-8000-000000000002', '10140000-0000-4000-8000-000000000001')$$);
-- one id: PostgreSQL 16 and later move the key the WHERE fixes out of
-- the ON clauses (leaving them true); the joins are pushed all the same
SELECT join_explain($$SELECT c.id, s.session_index, st.stream_index
  FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
  LEFT JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.id = '10140000-0000-4000-8000-000000000001'$$);
SELECT join_diff($$SELECT c.id, s.session_index, st.segment_index, st.stream_index
  FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
  LEFT JOIN cr.streams st ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index
 WHERE c.id = '10140000-0000-4000-8000-000000000001'$$);
SELECT join_diff($$SELECT c.id, s.session_index FROM cr.call_records c LEFT JOIN cr.sessions s ON s.call_record_id = c.id
 WHERE c.id = '10140000-0000-4000-8000-000000000002'$$);
SELECT join_explain($$SELECT c.id, p.participant_index FROM cr.call_records c LEFT JOIN cr.participants p ON p.call_record_id = c.id
   WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06'$$);
-- the same rows as with the join pushdown off, over a listed day
SELECT join_diff($$SELECT c.id, c.type, p.participant_index, p.id AS participant
  FROM cr.call_records c LEFT JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06'$$);
DROP TABLE lj_ids, lj_raw;

-- call_records JOIN sessions JOIN media LEFT JOIN streams
SELECT * FROM raw_diff($g$
  SELECT c.id, c.type, s.session_index, m.segment_index, m.media_index, m.label, st.stream_index, st.stream_direction
    FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
    JOIN cr.media m ON m.call_record_id = s.call_record_id AND m.session_index = s.session_index
    LEFT JOIN cr.streams st ON st.call_record_id = m.call_record_id AND st.session_index = m.session_index
                           AND st.segment_index = m.segment_index AND st.media_index = m.media_index
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000025', '10140000-0000-4000-8000-000000000001')$g$, $w$
  SELECT r.id, emulator_raw(r.id)->>'type' AS type, r.session_index, sg.o::int AS segment_index, me.o::int AS media_index,
         me.v->>'label' AS label, x.stream_index, x.direction
    FROM raw_sessions r
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.session->'segments', '[]')) WITH ORDINALITY sg(v, o)
    CROSS JOIN LATERAL jsonb_array_elements(coalesce(sg.v->'media', '[]')) WITH ORDINALITY me(v, o)
    LEFT JOIN raw_streams x ON x.id = r.id AND x.session_index = r.session_index
                           AND x.segment_index = sg.o AND x.media_index = me.o$w$, 'stream_index IS NULL');
SELECT join_explain($$SELECT c.id, st.stream_index
    FROM cr.call_records c JOIN cr.sessions s ON s.call_record_id = c.id
    JOIN cr.media m ON m.call_record_id = s.call_record_id AND m.session_index = s.session_index
    LEFT JOIN cr.streams st ON st.call_record_id = m.call_record_id AND st.session_index = m.session_index
                           AND st.segment_index = m.segment_index AND st.media_index = m.media_index
   WHERE c.id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000025', '10140000-0000-4000-8000-000000000001')$$);
DROP TABLE got, want;

-- two left joins: sessions LEFT JOIN segments LEFT JOIN media, as rows
SELECT s.id, sg.id AS segment, m.label
  FROM cr.sessions s LEFT JOIN cr.segments sg USING (call_record_id, session_index)
  LEFT JOIN cr.media m ON m.call_record_id = sg.call_record_id AND m.session_index = sg.session_index
                      AND m.segment_index = sg.segment_index
 WHERE s.call_record_id = '10140000-0000-4000-8000-000000000001'
 ORDER BY s.session_index, sg.segment_index, m.media_index;

SELECT n, join_explain(q) FROM join_queries WHERE n IN (2, 3) ORDER BY n;

-- requests: the pushed join of a day reads each record once (the list,
-- then one chain per record), where the tables apart read each twice
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records c JOIN cr.media m ON m.call_record_id = c.id
  JOIN cr.streams st ON st.call_record_id = m.call_record_id AND st.session_index = m.session_index
                    AND st.segment_index = m.segment_index AND st.media_index = m.media_index
 WHERE c.start_date_time >= '2026-11-05' AND c.start_date_time < '2026-11-06';
SELECT count(*) FILTER (WHERE l LIKE 'GET %callRecords?%') AS lists,
       count(*) FILTER (WHERE l LIKE 'GET %callRecords/%') AS records,
       count(DISTINCT substring(l from 'callRecords/([^?]*)')) AS distinct_records
  FROM emulator_log() l;

-- participants hang from the call record in a chain of their own:
-- call_records JOIN participants is that chain's walk, one request chain
-- per record, by id or over the records listed for a time window; the
-- call records' columns come from the record the chain begins with
SELECT join_explain($$SELECT c.type, p.participant_index, p.id
  FROM cr.call_records c JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000002')$$);
SELECT join_diff($$SELECT c.type, c.start_date_time, p.participant_index, p.id
  FROM cr.call_records c JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000002')$$);
SELECT join_diff($$SELECT c.id, c.type, p.participant_index, p.id AS participant_id
  FROM cr.call_records c JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-10' AND c.start_date_time < '2026-11-12'$$);
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records c JOIN cr.participants p ON p.call_record_id = c.id
 WHERE c.start_date_time >= '2026-11-10' AND c.start_date_time < '2026-11-12';
SELECT count(*) FILTER (WHERE l LIKE 'GET %callRecords?%') AS lists,
       count(*) FILTER (WHERE l LIKE 'GET %participants_v2%') AS participant_pages,
       count(DISTINCT substring(l from 'callRecords/([0-9a-f-]*)')) AS distinct_records
  FROM emulator_log() l;

-- not pushed, the same rows: a key missing (no session_index: every
-- session with every stream of its record), a full join, a condition on
-- the nullable side of a left join, participants with sessions (two
-- chains per record), and a self join
SELECT join_diff($$SELECT s.session_index, st.session_index AS st_session, st.stream_index
  FROM cr.sessions s JOIN cr.streams st USING (call_record_id)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT join_diff($$SELECT s.session_index, st.stream_index
  FROM (SELECT * FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000025') s
  FULL JOIN (SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000025') st
    USING (call_record_id, session_index)$$);
SELECT join_diff($$SELECT s.session_index, st.stream_index
  FROM cr.sessions s
  LEFT JOIN (SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000025') st
    ON st.call_record_id = s.call_record_id AND st.session_index = s.session_index AND st.stream_direction = 'callerToCallee'
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000025'$$);
SELECT join_diff($$SELECT p.participant_index, s.session_index
  FROM cr.participants p JOIN cr.sessions s USING (call_record_id)
 WHERE p.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT join_diff($$SELECT a.session_index, b.session_index AS b_session
  FROM cr.sessions a JOIN cr.sessions b USING (call_record_id, session_index)
 WHERE a.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);

-- a pushed join rescanned as the inner side of a nested loop: its rows
-- are replayed, not fetched again
CREATE TABLE join_outer AS SELECT g FROM generate_series(1, 3) g;
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off; SET enable_memoize = off;
SELECT emulator_reset();
SELECT count(*) FROM join_outer o, LATERAL (SELECT 1 FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
   WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001' OFFSET 0) j;
SELECT count(*) AS requests FROM emulator_log();
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material; RESET enable_memoize;

-- a cursor over a pushed join, fetched forwards and backwards
BEGIN;
DECLARE jc SCROLL CURSOR FOR
  SELECT s.session_index, st.stream_index FROM cr.sessions s JOIN cr.streams st USING (call_record_id, session_index)
   WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000025' ORDER BY 1, 2;
FETCH 2 FROM jc;
FETCH BACKWARD 1 FROM jc;
FETCH LAST FROM jc;
COMMIT;

-- a column the resource does not have still fails, naming its table
CREATE FOREIGN TABLE cr.bad_streams (call_record_id text, session_index int, no_such_column text)
  SERVER graph OPTIONS (resource 'streams');
SELECT * FROM expect_error($$SELECT s.id, b.no_such_column FROM cr.sessions s JOIN cr.bad_streams b USING (call_record_id, session_index)
  WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
DROP FOREIGN TABLE cr.bad_streams;
DROP TABLE join_queries, join_outer, join_ids;
DROP FUNCTION join_diff(text, text), join_explain(text), raw_diff(text, text, text);

-- a key compared with a column that an outer join may make NULL: that
-- comparison must be made above the outer join, so it never parameterizes
-- the scan (from 16 on the planner crashed on such a path)
CREATE TEMP TABLE oj_a (id text);
CREATE TEMP TABLE oj_b (rid text);
INSERT INTO oj_a VALUES ('x'), ('y');
INSERT INTO oj_b VALUES ('cafe0000-0000-4000-8000-000000000001');
SELECT a.id, count(p.participant_index) AS participants
  FROM oj_a a LEFT JOIN oj_b b ON a.id = 'y'
  LEFT JOIN cr.participants p ON p.call_record_id = b.rid
 GROUP BY 1 ORDER BY 1;
SELECT a.id, count(s.session_index) AS sessions
  FROM oj_a a LEFT JOIN oj_b b ON a.id = 'y'
  LEFT JOIN cr.sessions s ON s.call_record_id = b.rid
 GROUP BY 1 ORDER BY 1;
