--
-- Archiving: call records of a window and their children copied into local
-- tables; running again copies nothing new; a higher version replaces a
-- record and its children.
--
SELECT emulator_reset();
CREATE SCHEMA arch;
-- (its NOTICE counts the requests, retries too: checked below, against the log)
SET client_min_messages = warning;
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
RESET client_min_messages;
-- every record fetched once: one list page, one participants and one
-- sessions request per record, each log function once; a request that
-- Graph failed and the wrapper retried is not counted here, the pages
-- answered are (each once)
SELECT CASE WHEN l ~ '^GET \S*callRecords\?' THEN 'list'
            WHEN l ~ 'participants_v2' THEN 'participants'
            WHEN l ~ 'sessions' THEN 'sessions' ELSE 'logs' END AS kind,
       count(*) AS answered, count(DISTINCT split_part(l, ' ', 2)) AS pages
  FROM emulator_log() l WHERE l LIKE 'GET % 200' GROUP BY 1 ORDER BY 1;
-- what the run counted is what Graph saw
SELECT requests = (SELECT count(*) FROM emulator_log() l WHERE l NOT LIKE 'POST%') AS requests_counted,
       records_total, records_done, log_rows, state
  FROM arch.archive_runs;
SELECT 'call_records' AS t, count(*) FROM arch.call_records
UNION ALL SELECT 'participants', count(*) FROM arch.participants
UNION ALL SELECT 'sessions', count(*) FROM arch.sessions
UNION ALL SELECT 'segments', count(*) FROM arch.segments
UNION ALL SELECT 'media', count(*) FROM arch.media
UNION ALL SELECT 'streams', count(*) FROM arch.streams;
-- the same rows as the foreign tables
SELECT count(*) AS streams_not_archived
  FROM (SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
          FROM cr.streams WHERE call_record_id IN (SELECT id FROM arch.call_records)
        EXCEPT
        SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter
          FROM arch.streams) d;
-- again: nothing changed, so only the list is read
SELECT emulator_reset();
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%';
SELECT count(*) AS call_records FROM arch.call_records;
-- Graph publishes version 7 of one of them, with a single session
SELECT id, version FROM arch.call_records ORDER BY start_date_time LIMIT 1 \gset old_
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/' || :'old_id',
  jsonb_build_object('id', :'old_id', 'version', 7, 'type', 'groupCall', 'listed', true,
    'startDateTime', (SELECT to_char(start_date_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        FROM arch.call_records WHERE id = :'old_id'),
    'sessions', jsonb_build_array(jsonb_build_object('id', 'only', 'segments', jsonb_build_array(
        jsonb_build_object('id', 'g', 'media', jsonb_build_array(jsonb_build_object('label', 'main-audio',
          'streams', jsonb_build_array(jsonb_build_object('streamId', '1', 'averageJitter', 'PT0.5S')))))))))::text);
CALL callrecords_fdw_archive('cr', 'arch', '2026-11-17 00:00:00+00', '2026-11-21 00:00:00+00');
SELECT version, (SELECT count(*) FROM arch.sessions WHERE call_record_id = :'old_id') AS sessions,
       (SELECT average_jitter FROM arch.streams WHERE call_record_id = :'old_id') AS jitter
  FROM arch.call_records WHERE id = :'old_id';
SELECT count(*) AS call_records FROM arch.call_records;
SELECT emulator_reset();
DROP SCHEMA arch CASCADE;
