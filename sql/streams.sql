--
-- Streams of one call record: keys of every ancestor, typed metrics, and
-- the same values as the emulator's unpaged JSON unnested by PostgreSQL.
--
\pset null '(null)'
SELECT emulator_reset();

-- record 1: a peer-to-peer call, one session, one audio media, two streams
SELECT call_record_id, session_index, segment_index, media_index, stream_index,
       media_label, stream_id, stream_direction,
       average_jitter, max_jitter, average_packet_loss_rate, average_round_trip_time,
       average_bandwidth_estimate, audio_codec, call_start_date_time
  FROM cr.streams
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'
 ORDER BY stream_index;
SELECT pg_typeof(average_jitter) AS jitter, pg_typeof(average_packet_loss_rate) AS loss,
       pg_typeof(average_bandwidth_estimate) AS bw, pg_typeof(was_media_bypassed) AS bypass
  FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001' LIMIT 1;
SELECT * FROM emulator_log();

-- The oracle: PostgreSQL's own jsonb functions over the emulator's unpaged
-- record.  Every stream of records 1 and 4 must match in both directions.
CREATE TEMP VIEW oracle_streams AS
SELECT r.id AS call_record_id, si AS session_index, gi AS segment_index, mi AS media_index,
       ti AS stream_index, sess->>'id' AS session_id, seg->>'id' AS segment_id,
       med->>'label' AS media_label, st->>'streamId' AS stream_id,
       st->>'streamDirection' AS stream_direction,
       (st->>'averageJitter')::interval AS average_jitter,
       (st->>'maxRoundTripTime')::interval AS max_round_trip_time,
       (st->>'averagePacketLossRate')::float8 AS average_packet_loss_rate,
       (st->>'averageBandwidthEstimate')::bigint AS average_bandwidth_estimate,
       (st->>'isAudioForwardErrorCorrectionUsed')::boolean AS fec_used,
       (st->>'startDateTime')::timestamptz AS start_date_time,
       st->>'audioCodec' AS audio_codec
  FROM (VALUES ('cafe0000-0000-4000-8000-000000000001'), ('cafe0000-0000-4000-8000-000000000004')) r(id),
       LATERAL (SELECT emulator_raw(r.id) AS j) raw,
       jsonb_array_elements(raw.j->'sessions') WITH ORDINALITY s(sess, si),
       jsonb_array_elements(sess->'segments') WITH ORDINALITY g(seg, gi),
       jsonb_array_elements(seg->'media') WITH ORDINALITY m(med, mi),
       jsonb_array_elements(med->'streams') WITH ORDINALITY t(st, ti);

CREATE TEMP TABLE fdw_streams AS
SELECT call_record_id, session_index, segment_index, media_index, stream_index,
       session_id, segment_id, media_label, stream_id, stream_direction,
       average_jitter, max_round_trip_time, average_packet_loss_rate,
       average_bandwidth_estimate, is_audio_forward_error_correction_used AS fec_used,
       start_date_time, audio_codec
  FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'
UNION ALL
SELECT call_record_id, session_index, segment_index, media_index, stream_index,
       session_id, segment_id, media_label, stream_id, stream_direction,
       average_jitter, max_round_trip_time, average_packet_loss_rate,
       average_bandwidth_estimate, is_audio_forward_error_correction_used,
       start_date_time, audio_codec
  FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';

SELECT (SELECT count(*) FROM fdw_streams) AS fdw_rows,
       (SELECT count(*) FROM oracle_streams) AS oracle_rows,
       (SELECT count(*) FROM (SELECT * FROM fdw_streams EXCEPT ALL SELECT * FROM oracle_streams) d) AS only_fdw,
       (SELECT count(*) FROM (SELECT * FROM oracle_streams EXCEPT ALL SELECT * FROM fdw_streams) d) AS only_oracle;
-- Pages are pruned before parsing: a scan parses only the members its
-- columns read (and the collections it walks), a fraction of the bytes.
SELECT * FROM explain_analyze($$
SELECT stream_id FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
-- the raw column keeps every member of its level
SELECT * FROM explain_analyze($$
SELECT raw FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
-- pruned or not, the same values: media of record 2 (150 sessions, 3 pages)
-- read column by column against the same media read whole as raw
SELECT count(*) AS media,
       count(*) FILTER (WHERE n.caller_device_capture_device_name IS DISTINCT FROM r.raw->'callerDevice'->>'captureDeviceName'
                           OR n.callee_network_ip_address IS DISTINCT FROM r.raw->'calleeNetwork'->>'ipAddress'
                           OR n.label IS DISTINCT FROM r.raw->>'label') AS differing,
       count(n.caller_device_capture_device_name) AS with_capture_device
  FROM (SELECT session_index, segment_index, media_index, label,
               caller_device_capture_device_name, callee_network_ip_address
          FROM cr.media WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002') n
  FULL JOIN (SELECT session_index, segment_index, media_index, raw
               FROM cr.media WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002') r
 USING (session_index, segment_index, media_index);

-- callrecords_fdw.prune_pages = off parses pages whole: the same rows
CREATE TEMP TABLE pruned_streams AS
SELECT session_index, segment_index, media_index, stream_index, stream_id, average_jitter, media_label
  FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SET callrecords_fdw.prune_pages = off;
SELECT * FROM explain_analyze($$
SELECT stream_id FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
CREATE TEMP TABLE whole_streams AS
SELECT session_index, segment_index, media_index, stream_index, stream_id, average_jitter, media_label
  FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT (SELECT count(*) FROM pruned_streams) AS pruned, (SELECT count(*) FROM whole_streams) AS whole,
       (SELECT count(*) FROM (SELECT * FROM pruned_streams EXCEPT ALL SELECT * FROM whole_streams) d) +
       (SELECT count(*) FROM (SELECT * FROM whole_streams EXCEPT ALL SELECT * FROM pruned_streams) d) AS differing;
RESET callrecords_fdw.prune_pages;

-- null and missing metrics both come back as NULL
SELECT count(*) FILTER (WHERE average_jitter IS NULL) AS null_jitter,
       count(*) FILTER (WHERE start_date_time IS NULL) AS null_start,
       count(*) AS streams
  FROM fdw_streams;

-- The docs' own example record converts with the values it shows.
SELECT call_record_id, session_id, media_label, stream_id, stream_direction,
       average_jitter, average_audio_degradation, call_start_date_time
  FROM cr.streams WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'
 ORDER BY session_index, segment_index, media_index, stream_index;

-- Conversion goes by the declared type: fewer columns, other compatible types.
CREATE FOREIGN TABLE my_streams (
  call_record_id text,
  stream_index bigint,
  average_jitter text,
  average_packet_loss_rate numeric,
  average_bandwidth_estimate numeric,
  stream_direction varchar(20)
) SERVER graph OPTIONS (resource 'streams');
SELECT * FROM my_streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001' ORDER BY stream_index;
-- a column the resource does not have is an error, not a column of NULLs
CREATE FOREIGN TABLE typo_streams (call_record_id text, average_jiter interval)
  SERVER graph OPTIONS (resource 'streams');
SELECT * FROM typo_streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
-- a number into a column that cannot hold it names table, column and record
CREATE FOREIGN TABLE narrow_media (call_record_id text, callee_network_link_speed integer)
  SERVER graph OPTIONS (resource 'media');
SELECT max(callee_network_link_speed) FROM narrow_media WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5';
CREATE FOREIGN TABLE smallint_media (call_record_id text, caller_device_received_signal_level smallint)
  SERVER graph OPTIONS (resource 'media');
SELECT * FROM smallint_media WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5';
-- a string where a number is declared
CREATE FOREIGN TABLE wrong_media (call_record_id text, label integer)
  SERVER graph OPTIONS (resource 'media');
SELECT * FROM wrong_media WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5';
