--
-- call_records, participants and the PSTN / direct routing logs: how they
-- are fetched (the emulator's request log), and their values against the
-- emulator's unpaged oracle.
--
\pset null '(null)'
\getenv emulator_url CR_EMULATOR_URL
SELECT emulator_reset();

-- call_records by id: one GET each, unknown ids give no row
SELECT id, version, type, modalities, start_date_time, end_date_time, last_modified_date_time,
       organizer_v2_id, organizer_v2_identity_user_display_name, organizer_v2_identity_phone_id,
       join_web_url IS NOT NULL AS has_join_url
  FROM cr.call_records
 WHERE id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000005',
              'cafe0000-0000-4000-8000-000000000002', '00000000-0000-0000-0000-000000000000')
 ORDER BY id;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- the docs' own example records, every column of every table
\x on
SELECT * FROM cr.call_records
 WHERE id IN ('e523d2ed-2966-4b6b-925b-754a88034cc5', '3cf3bbc8-b21d-4f2e-bfd0-b13603ae6c65',
              'c3ad8c4b-4a87-4ab1-bef0-284d2f40ed9f')
 ORDER BY id;
SELECT * FROM cr.sessions WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' ORDER BY session_index;
SELECT * FROM cr.segments WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' ORDER BY session_index, segment_index;
SELECT * FROM cr.media WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' ORDER BY session_index, segment_index, media_index;
SELECT * FROM cr.streams WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' ORDER BY session_index, segment_index, media_index, stream_index;
\x off

-- the list: every record, in one page of 60
SELECT emulator_reset();
SELECT count(*), count(DISTINCT id), min(start_date_time), max(start_date_time) FROM cr.call_records;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- a start time range becomes $filter; the bounds are widened by 1 µs
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM cr.call_records WHERE start_date_time >= '2026-11-05 00:00:00+00' AND start_date_time < '2026-11-06 00:00:00+00';
SELECT emulator_reset();
SELECT id, start_date_time FROM cr.call_records
 WHERE start_date_time >= '2026-11-05 00:00:00+00' AND start_date_time < '2026-11-06 00:00:00+00' ORDER BY 2;
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- the list agrees with the oracle: same ids in the range
CREATE TEMP VIEW oracle_range AS
SELECT r->>'id' AS id FROM emulator_raw_list() r
 WHERE (r->>'startDateTime')::timestamptz > '2026-11-10 00:00:00+00'
   AND (r->>'startDateTime')::timestamptz <= '2026-11-15 00:00:00+00';
CREATE TEMP TABLE fdw_range AS
SELECT id FROM cr.call_records
 WHERE start_date_time > '2026-11-10 00:00:00+00' AND start_date_time <= '2026-11-15 00:00:00+00';
SELECT (SELECT count(*) FROM fdw_range) AS fdw_rows, (SELECT count(*) FROM oracle_range) AS oracle_rows,
       (SELECT count(*) FROM (SELECT * FROM fdw_range EXCEPT SELECT * FROM oracle_range) d) AS only_fdw,
       (SELECT count(*) FROM (SELECT * FROM oracle_range EXCEPT SELECT * FROM fdw_range) d) AS only_oracle;
-- a stable expression is evaluated at execution; EXPLAIN shows its text
EXPLAIN (COSTS OFF) SELECT id FROM cr.call_records WHERE start_date_time >= now() - interval '7 days';

-- participants: 130 inline, then participants_v2@odata.nextLink
SELECT emulator_reset();
SELECT count(*), count(DISTINCT participant_index), max(participant_index)
  FROM cr.participants WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT call_record_id, participant_index, id, identity_user_display_name, identity_user_tenant_id,
       call_start_date_time
  FROM cr.participants WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001' ORDER BY 2;
SELECT count(*) AS mismatches
  FROM (SELECT participant_index, id, identity FROM cr.participants WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'
        EXCEPT
        SELECT i::int, p->>'id', p->'identity'
          FROM jsonb_array_elements(emulator_raw('cafe0000-0000-4000-8000-000000000002')->'participants_v2') WITH ORDINALITY x(p, i)) d;

-- PSTN calls: a 30-day range is one window of 4 pages (1,000 rows each)
SELECT emulator_reset();
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM cr.pstn_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-12-01 00:00:00+00';
SELECT count(*), count(DISTINCT id), sum(charge), min(start_date_time) >= '2026-11-01 00:00:00+00' AS in_range
  FROM cr.pstn_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-12-01 00:00:00+00';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
SELECT pg_typeof(charge) AS charge_type, pg_typeof(duration) AS duration_type
  FROM cr.pstn_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-11-02 00:00:00+00' LIMIT 1;
-- more than 90 days: split into windows that neither overlap nor leave a gap
-- (getPstnCalls' toDateTime is inclusive, so a window ends 100 ns early)
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= '2026-06-01 00:00:00+00' AND start_date_time <= '2026-11-30 00:00:00+00';
SELECT emulator_reset();
SELECT count(*), count(DISTINCT id) FROM cr.pstn_calls WHERE start_date_time >= '2026-06-01 00:00:00+00' AND start_date_time <= '2026-11-30 00:00:00+00';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
-- the oracle: every row of the range, unpaged
SELECT jsonb_array_length(CASE jsonb_typeof(j) WHEN 'array' THEN j ELSE j->'value' END) AS oracle_rows
  FROM (SELECT string_agg(line, E'\n' ORDER BY n)::jsonb AS j
          FROM emulator('GET', '/_emulator/raw/getPstnCalls(fromDateTime=2026-06-01T00:00:00Z,toDateTime=2026-11-30T00:00:00Z)')) r;
-- the docs' example row (November 2019), every column
SELECT count(*) FROM cr.pstn_calls WHERE start_date_time >= '2019-11-01 00:00:00+00' AND start_date_time < '2019-12-01 00:00:00+00';
\x on
SELECT * FROM cr.pstn_calls WHERE start_date_time >= '2019-11-01 00:00:00+00' AND start_date_time < '2019-12-01 00:00:00+00'
 ORDER BY start_date_time LIMIT 2;
\x off

-- direct routing: toDateTime is exclusive; the 0001-01-01 sentinel is NULL
EXPLAIN (COSTS OFF)
SELECT * FROM cr.direct_routing_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time <= '2026-11-30 00:00:00+00';
SELECT successful_call, count(*), count(failure_date_time) AS with_failure_time, count(end_date_time) AS with_end_time
  FROM cr.direct_routing_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-12-01 00:00:00+00'
 GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM cr.direct_routing_calls WHERE start_date_time >= '2019-11-01 00:00:00+00' AND start_date_time < '2019-12-01 00:00:00+00';
\x on
SELECT * FROM cr.direct_routing_calls WHERE start_date_time >= '2019-11-01 00:00:00+00' AND start_date_time < '2019-12-01 00:00:00+00'
 ORDER BY start_date_time LIMIT 2;
\x off

-- raw: the row's JSON without its children; path: any property by JSON path
SELECT raw ? 'segments' AS has_segments, raw->>'id' = id AS same_id, raw->'caller'->>'@odata.type' AS caller_type
  FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
SELECT jsonb_typeof(raw->'streams') AS streams_in_media_raw FROM cr.media WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
CREATE FOREIGN TABLE my_sessions (
  call_record_id text,
  session_index integer,
  caller_os text OPTIONS (path 'caller.userAgent.platform'),
  caller_cores bigint OPTIONS (path 'caller.cpuCoresCount'),
  caller_agent jsonb OPTIONS (path 'caller.userAgent'),
  nothing_there text OPTIONS (path 'caller.noSuchProperty')
) SERVER graph OPTIONS (resource 'sessions');
SELECT * FROM my_sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
DROP FOREIGN TABLE my_sessions;

-- beta: the beta-only tables and the beta columns of the PSTN rows
CREATE SERVER graph_beta FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url', api_version 'beta');
CREATE USER MAPPING FOR CURRENT_USER SERVER graph_beta
  OPTIONS (client_id 'test-client', client_secret 'test-secret');
CREATE SCHEMA cr_beta;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (pstn_calls, sms_log, pstn_blocked_users, pstn_online_meeting_dialout_report)
  FROM SERVER graph_beta INTO cr_beta;
SELECT emulator_reset();
SELECT count(*), count(DISTINCT id), sum(call_charge), min(sent_date_time) >= '2026-11-01 00:00:00+00' AS in_range
  FROM cr_beta.sms_log WHERE sent_date_time >= '2026-11-01 00:00:00+00' AND sent_date_time < '2026-12-01 00:00:00+00';
SELECT * FROM emulator_log() l WHERE l NOT LIKE 'POST%' ORDER BY 1;
\x on
SELECT * FROM cr_beta.sms_log WHERE sent_date_time >= '2026-11-01 00:00:00+00' AND sent_date_time < '2026-12-01 00:00:00+00'
 ORDER BY sent_date_time LIMIT 1;
SELECT * FROM cr_beta.pstn_blocked_users WHERE block_date_time >= '2026-11-01 00:00:00+00' AND block_date_time < '2026-12-01 00:00:00+00'
 ORDER BY block_date_time LIMIT 1;
\x off
SELECT user_block_mode, count(*) FROM cr_beta.pstn_blocked_users
 WHERE block_date_time >= '2026-11-01 00:00:00+00' AND block_date_time < '2026-12-01 00:00:00+00' GROUP BY 1 ORDER BY 1;
-- the dial-out report: the window is given by from_date_time and to_date_time
EXPLAIN (COSTS OFF)
SELECT * FROM cr_beta.pstn_online_meeting_dialout_report
 WHERE from_date_time = '2026-11-01 00:00:00+00' AND to_date_time = '2026-12-01 00:00:00+00';
SELECT count(*), sum(total_calls), sum(total_call_charge), min(from_date_time), max(to_date_time)
  FROM cr_beta.pstn_online_meeting_dialout_report
 WHERE from_date_time = '2026-11-01 00:00:00+00' AND to_date_time = '2026-12-01 00:00:00+00';
-- the same calls as conf_out PSTN calls of the window (the report adds them up)
SELECT count(*) FROM cr.pstn_calls
 WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time <= '2026-12-01 00:00:00+00' AND call_type = 'conf_out';
-- beta columns of PSTN rows
SELECT count(*), count(client_public_ip_v4_address) AS with_public_ipv4, count(other_party_country_code) AS with_country
  FROM cr_beta.pstn_calls WHERE start_date_time >= '2026-11-01 00:00:00+00' AND start_date_time < '2026-11-08 00:00:00+00';
DROP SCHEMA cr_beta CASCADE;
DROP SERVER graph_beta CASCADE;
