--
-- The fault matrix: the same queries with faults off and with a third of
-- the Graph requests throttled (429) and a fifth unavailable (503) give
-- identical rows: an order-independent checksum and count per query.
--
SELECT emulator_reset();
CREATE TEMP TABLE fault_queries (name text, query text);
INSERT INTO fault_queries VALUES
 ('streams of 6 records', $$SELECT call_record_id, session_index, segment_index, media_index, stream_index, average_jitter, average_packet_loss_rate
    FROM cr.streams WHERE call_record_id IN ('cafe0000-0000-4000-8000-000000000004', 'cafe0000-0000-4000-8000-000000000006',
      'cafe0000-0000-4000-8000-000000000007', 'cafe0000-0000-4000-8000-000000000008', 'cafe0000-0000-4000-8000-000000000009',
      'cafe0000-0000-4000-8000-000000000010')$$),
 ('sessions of 150', $$SELECT session_index, id, caller_name FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$),
 ('participants of 140', $$SELECT participant_index, id FROM cr.participants WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$),
 ('call records', $$SELECT id, version, start_date_time FROM cr.call_records$$),
 ('sessions of a day', $$SELECT call_record_id, session_index, id FROM cr.sessions
    WHERE call_start_date_time >= '2026-11-05 00:00:00+00' AND call_start_date_time < '2026-11-07 00:00:00+00'$$),
 ('PSTN calls of a month', $$SELECT id, charge FROM cr.pstn_calls
    WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-12-01 00:00:00+00'$$);

CREATE FUNCTION checksum(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
  EXECUTE format('SELECT count(*) || '' rows, md5 '' || md5(coalesce(string_agg(q::text, '','' ORDER BY q::text), ''''))
                    FROM (%s) q', query) INTO result;
  RETURN result;
END $$;

CREATE TEMP TABLE clean AS SELECT name, checksum(query) AS result FROM fault_queries;
SELECT count(*) AS faults_seen FROM emulator_log() l WHERE l ~ ' (429|503)$';

SELECT emulator_reset();
SELECT emulator_fault('{"match": "/v1.0/", "status": 429, "retry_after": 0, "every": 3, "times": -1}');
SELECT emulator_fault('{"match": "/v1.0/", "status": 503, "retry_after": 0, "every": 5, "times": -1}');
CREATE TEMP TABLE faulty AS SELECT name, checksum(query) AS result FROM fault_queries;
SELECT count(*) FILTER (WHERE l ~ ' 429$') AS throttled, count(*) FILTER (WHERE l ~ ' 503$') AS unavailable,
       count(*) FILTER (WHERE l ~ ' 200$') AS answered
  FROM emulator_log() l WHERE l LIKE 'GET %';
SELECT emulator_reset();

SELECT c.name, c.result, c.result = f.result AS identical_under_faults
  FROM clean c JOIN faulty f USING (name) ORDER BY c.name;
