--
-- The archive at scale: each record's data fetched once (its sessions
-- chain and its participants, every child table filled from them),
-- batches that commit, resume after a failure without fetching again
-- what was committed, progress for the caller and for other sessions,
-- the log tables, and month partitions.
--
SELECT emulator_reset();
CREATE SCHEMA arch;
-- the records of the window, in the order the archive takes them
CREATE TEMP TABLE window_ids AS
  SELECT r->>'id' AS id, row_number() OVER (ORDER BY (r->>'startDateTime')::timestamptz, r->>'id') AS n
    FROM emulator_raw_list() r
   WHERE (r->>'startDateTime')::timestamptz >= '2026-11-17 00:00:00+00'
     AND (r->>'startDateTime')::timestamptz < '2026-11-21 00:00:00+00';
SELECT count(*) AS records FROM window_ids;
-- the request log, each line with the record it reads and what it reads
CREATE FUNCTION request_kinds() RETURNS TABLE (id text, kind text, line text) LANGUAGE sql AS $$
  SELECT substring(l FROM 'callRecords/([0-9a-f-]{36})'),
         CASE WHEN l ~ 'callRecords/[0-9a-f-]{36}\?\$expand=sessions' THEN 'sessions first page'
              WHEN l ~ 'callRecords/[0-9a-f-]{36}\?\$expand=participants_v2' THEN 'participants first page'
              WHEN l ~ '/sessions\?' THEN 'sessions next page'
              WHEN l ~ '/participants_v2\?' THEN 'participants next page'
              WHEN l ~ 'callRecords\?' THEN 'list page'
              WHEN l ~ 'get[A-Za-z]+\(' THEN 'log page'
              ELSE l END, l
    FROM emulator_log() l WHERE l NOT LIKE 'POST%' $$;

-- 1. Every record fetched once, batches of three, a NOTICE per batch
-- (progress_every 0) and one at the end
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00',
                             batch_size => 3, progress_every => '0');
CREATE TEMP TABLE run1 AS SELECT * FROM request_kinds();
SELECT kind, count(*) AS requests, count(DISTINCT id) AS records FROM run1 GROUP BY 1 ORDER BY 1;
-- no record's first page asked twice
SELECT id, kind, count(*) FROM run1 WHERE kind LIKE '%first page' GROUP BY 1, 2 HAVING count(*) > 1;
-- the rows are those of the foreign tables
SELECT 'call_records' AS t, count(*) FROM arch.call_records
UNION ALL SELECT 'participants', count(*) FROM arch.participants
UNION ALL SELECT 'sessions', count(*) FROM arch.sessions
UNION ALL SELECT 'segments', count(*) FROM arch.segments
UNION ALL SELECT 'media', count(*) FROM arch.media
UNION ALL SELECT 'streams', count(*) FROM arch.streams
UNION ALL SELECT 'pstn_calls', count(*) FROM arch.pstn_calls
UNION ALL SELECT 'direct_routing_calls', count(*) FROM arch.direct_routing_calls;
SELECT count(*) AS streams_differing
  FROM ((SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
           FROM cr.streams WHERE call_record_id IN (SELECT id FROM window_ids)
         EXCEPT ALL
         SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
           FROM arch.streams)
        UNION ALL
        (SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
           FROM arch.streams
         EXCEPT ALL
         SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
           FROM cr.streams WHERE call_record_id IN (SELECT id FROM window_ids))) d;
SELECT count(*) AS participants_differing
  FROM ((SELECT * FROM cr.participants WHERE call_record_id IN (SELECT id FROM window_ids)
         EXCEPT ALL SELECT * FROM arch.participants)
        UNION ALL
        (SELECT * FROM arch.participants
         EXCEPT ALL SELECT * FROM cr.participants WHERE call_record_id IN (SELECT id FROM window_ids))) d;
-- the run as another session sees it
SELECT run_id, state, records_total, records_done, records_left, log_rows,
       requests = (SELECT count(*) FROM run1) AS requests_match_the_log
  FROM callrecords_fdw_archive_progress('arch');

-- 2. Month partitions, made as needed (their bounds shown in UTC)
SET timezone = 'UTC';
SELECT c.relname AS partition, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent IN ('arch.call_records'::regclass, 'arch.streams'::regclass, 'arch.pstn_calls'::regclass)
 ORDER BY 1;
RESET timezone;
SELECT tableoid::regclass AS partition, count(*) FROM arch.streams GROUP BY 1 ORDER BY 1;

-- 3. Log tables again: nothing duplicated, nothing added
SELECT emulator_reset();
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
SELECT kind, count(*) FROM request_kinds() GROUP BY 1 ORDER BY 1;
SELECT 'pstn_calls' AS t, count(*), count(DISTINCT id) FROM arch.pstn_calls
UNION ALL SELECT 'direct_routing_calls', count(*), count(DISTINCT id) FROM arch.direct_routing_calls;
SELECT (SELECT count(*) FROM cr.pstn_calls
         WHERE start_date_time >= '2026-11-17 00:00:00+00' AND start_date_time < '2026-11-21 00:00:00+00')
     = (SELECT count(*) FROM arch.pstn_calls) AS pstn_calls_complete;

-- 4. A failure in the third batch: the batches before it stay committed
DROP SCHEMA arch CASCADE;
CREATE SCHEMA arch;
SELECT emulator_reset();
SELECT emulator_fault(jsonb_build_object('match', 'callRecords/' || id || '?$expand=sessions',
                                         'status', 403, 'times', -1))
  FROM window_ids WHERE n = 8;
-- (at top level: a procedure that commits cannot run inside expect_error's
-- block; terse, since Graph's detail carries a request id)
\set VERBOSITY terse
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00',
                             batch_size => 3);
\set VERBOSITY default
SELECT state, records_total, records_done, records_left FROM callrecords_fdw_archive_progress('arch');
SELECT n, a.id IS NOT NULL AS archived
  FROM window_ids w LEFT JOIN arch.call_records a USING (id) ORDER BY n;
-- a record is archived with all its children or not at all
SELECT count(DISTINCT call_record_id) AS records_with_sessions FROM arch.sessions;

-- 5. The next run resumes: only the records not yet archived are fetched
SELECT emulator_reset();
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00',
                             batch_size => 3);
SELECT w.n, r.kind FROM request_kinds() r JOIN window_ids w USING (id) ORDER BY 1, 2;
SELECT kind, count(*) FROM request_kinds() WHERE id IS NULL GROUP BY 1 ORDER BY 1;
SELECT count(*) AS call_records, count(DISTINCT id) AS distinct_ids FROM arch.call_records;
SELECT count(*) AS streams_missing
  FROM (SELECT call_record_id, session_index, segment_index, media_index, stream_index FROM cr.streams
         WHERE call_record_id IN (SELECT id FROM window_ids)
        EXCEPT
        SELECT call_record_id, session_index, segment_index, media_index, stream_index FROM arch.streams) d;
SELECT run_id, state, records_total, records_done FROM callrecords_fdw_archive_progress('arch');

-- a failed list or log table fails the run too, recorded as such; the
-- records of a run whose log table failed stay committed
SELECT emulator_reset();
SELECT emulator_fault('{"match": "callRecords?$filter", "status": 403, "times": -1}');
\set VERBOSITY terse
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
\set VERBOSITY default
SELECT state, records_total, records_done FROM callrecords_fdw_archive_progress('arch') LIMIT 1;
SELECT emulator_reset();
SELECT emulator_fault('{"match": "getDirectRoutingCalls", "status": 403, "times": -1}');
DELETE FROM arch.call_records WHERE id = (SELECT id FROM window_ids WHERE n = 1);
\set VERBOSITY terse
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
\set VERBOSITY default
SELECT state, records_total, records_done FROM callrecords_fdw_archive_progress('arch') LIMIT 1;
SELECT count(*) AS call_records FROM arch.call_records;

-- 6. A batch that needs more than max_requests is tried again in halves:
-- three records need 6 requests, one record 2
ALTER SERVER graph OPTIONS (ADD max_requests '5');
DELETE FROM arch.call_records WHERE id IN (SELECT id FROM window_ids WHERE n <= 3);
SELECT emulator_reset();
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00',
                             batch_size => 3, progress_every => '0');
ALTER SERVER graph OPTIONS (DROP max_requests);
SELECT kind, count(*) FROM request_kinds() GROUP BY 1 ORDER BY 1;
SELECT count(*) AS call_records, count(DISTINCT id) AS distinct_ids FROM arch.call_records;

-- 7. Tables archived before partitioning (primary key on the id alone)
-- keep their shape and keep working
CREATE SCHEMA arch_old;
CREATE TABLE arch_old.call_records (LIKE cr.call_records, PRIMARY KEY (id));
CREATE TABLE arch_old.streams (LIKE cr.streams,
  PRIMARY KEY (call_record_id, session_index, segment_index, media_index, stream_index));
CALL callrecords_fdw_archive('cr', 'arch_old', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace = 'arch_old'::regnamespace AND c.relname IN ('call_records', 'streams', 'sessions')
 ORDER BY 1;
SELECT (SELECT count(*) FROM arch_old.call_records) AS call_records, (SELECT count(*) FROM arch_old.streams) AS streams;
DROP SCHEMA arch_old CASCADE;

-- 8. Wrong arguments
SELECT * FROM expect_error($$CALL callrecords_fdw_archive('cr', 'arch', batch_size => 0)$$);
SELECT * FROM expect_error($$CALL callrecords_fdw_archive('nosuch', 'arch2')$$);
-- a second run into the same schema while one is running is refused
-- (a live process of the cluster stands for the other run's backend)
UPDATE arch.archive_runs r SET state = 'running', pid = a.pid, backend_start = a.backend_start
  FROM pg_stat_activity a WHERE a.backend_type = 'checkpointer';
SELECT state FROM callrecords_fdw_archive_progress('arch');
SELECT code, regexp_replace(message, 'run [0-9]+', 'run N') AS message, hint
  FROM expect_error($$CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00')$$);
-- once that backend is gone, the run shows as interrupted
UPDATE arch.archive_runs SET backend_start = backend_start - interval '1 day';
SELECT state FROM callrecords_fdw_archive_progress('arch');

-- 9. The list read overlaps the first batch: a list of three pages (150
-- records, one session each), 100 ms a request.  The first batch (the 60
-- records of the first page) is copied while the list is read, and the
-- rest of the list is read ahead while that batch's requests wait, so
-- its last page is asked for before the batch's last request (read one
-- page per cursor fetch, it came only once the batch was done).  Still
-- one list request per page and two per record, none twice.
CREATE SCHEMA arch_overlap;
SELECT emulator_reset();
SELECT emulator_put_listed('a4c1a000-0000-4000-8000', 150, '2026-11-27 10:00', '1 second') AS records_put;
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 100}');
CALL callrecords_fdw_archive('cr', 'arch_overlap', '2026-11-27 00:00:00+00', '2026-11-28 00:00:00+00',
                             batch_size => 60);
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"latency_ms": 0}');
CREATE TEMP TABLE log9 AS SELECT n, line FROM emulator('GET', '/_emulator/log');
CREATE TEMP TABLE run9 AS
  SELECT l.n, k.kind, k.id FROM log9 l JOIN (SELECT DISTINCT * FROM request_kinds()) k ON k.line = l.line;
SELECT kind, count(*) AS requests, count(DISTINCT id) AS records FROM run9 GROUP BY 1 ORDER BY 1;
SELECT (SELECT max(n) FROM run9 WHERE kind = 'list page')
     < (SELECT max(n) FROM run9 WHERE kind = 'sessions first page'
           AND id IN (SELECT id FROM arch_overlap.call_records ORDER BY start_date_time LIMIT 60))
       AS last_list_page_asked_during_the_first_batch;
SELECT state, records_total, records_done, records_left FROM callrecords_fdw_archive_progress('arch_overlap');
SELECT (SELECT count(*) FROM arch_overlap.call_records) AS call_records,
       (SELECT count(DISTINCT call_record_id) FROM arch_overlap.sessions) AS with_sessions;
DROP SCHEMA arch_overlap CASCADE;

SELECT emulator_reset();
DROP FUNCTION request_kinds();
DROP SCHEMA arch CASCADE;
