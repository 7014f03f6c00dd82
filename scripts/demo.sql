-- callrecords_fdw demo against the bundled Graph emulator.
\getenv emulator_url CR_EMULATOR_URL
\pset null '(null)'
\echo
\echo '-- set up: extension, server, user mapping, tables'
\echo
CREATE EXTENSION callrecords_fdw;
CREATE SERVER graph FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER graph
  OPTIONS (client_id 'test-client', client_secret 'test-secret');
CREATE SCHEMA cr;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr;
\dE cr.*

\echo
\echo '-- call records of the last two days (the start time range becomes $filter)'
\echo
SELECT id, type, modalities, start_date_time, end_date_time - start_date_time AS duration,
       organizer_v2_identity_user_display_name AS organizer
  FROM cr.call_records
 WHERE start_date_time >= now() - interval '2 days'
 ORDER BY start_date_time;

\echo
\echo '-- the sessions of a group call (two share one session id)'
\echo
SELECT session_index, id, start_date_time, caller_user_agent_platform AS caller_platform,
       callee_endpoint_type, modalities
  FROM cr.sessions
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
 ORDER BY session_index;

\echo
\echo '-- audio streams of that call, worst jitter first'
\echo
SELECT session_index AS sess, segment_index AS seg, media_label, stream_direction,
       average_jitter, average_packet_loss_rate, average_round_trip_time, audio_codec
  FROM cr.streams
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
   AND media_label = 'main-audio'
 ORDER BY average_jitter DESC NULLS LAST;

\echo
\echo '-- a 150-session meeting: sessions arrive over three Graph pages'
\echo
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';

\echo
\echo '-- streams joined with sessions: who had poor audio (jitter > 30 ms or loss > 10 %)'
\echo
SELECT s.session_index, s.caller_associated_identity_display_name AS caller,
       st.stream_direction, st.average_jitter, st.average_packet_loss_rate
  FROM cr.sessions s
  JOIN cr.streams st USING (call_record_id, session_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000002'
   AND st.call_record_id = 'cafe0000-0000-4000-8000-000000000002'
   AND (st.average_jitter > interval '30 ms' OR st.average_packet_loss_rate > 0.1)
 ORDER BY 1, 3
 LIMIT 10;

\echo
\echo '-- your own table joined to the streams: one Graph request per call record named'
\echo
CREATE TEMP TABLE my_calls (call_record_id text, site text);
INSERT INTO my_calls VALUES ('cafe0000-0000-4000-8000-000000000001', 'Oslo'),
                            ('cafe0000-0000-4000-8000-000000000004', 'Lima');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT m.site, count(*) FILTER (WHERE s.average_jitter > interval '30 ms') AS jittery, count(*) AS streams
  FROM my_calls m JOIN cr.streams s ON s.call_record_id = m.call_record_id
 GROUP BY 1;
SELECT m.site, count(*) FILTER (WHERE s.average_jitter > interval '30 ms') AS jittery, count(*) AS streams
  FROM my_calls m JOIN cr.streams s ON s.call_record_id = m.call_record_id
 GROUP BY 1 ORDER BY 1;

\echo
\echo '-- PSTN minutes and charges per day of the last week'
\echo
SELECT date_trunc('day', start_date_time)::date AS day, count(*) AS calls,
       round(sum(duration) / 60.0) AS minutes, sum(charge) AS charges
  FROM cr.pstn_calls
 WHERE start_date_time >= current_date - 7 AND start_date_time < current_date
 GROUP BY 1 ORDER BY 1;
