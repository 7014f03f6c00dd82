/* callrecords_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION callrecords_fdw" to load this file. \quit

CREATE FUNCTION callrecords_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION callrecords_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER callrecords_fdw
  HANDLER callrecords_fdw_handler
  VALIDATOR callrecords_fdw_validator;

-- The catalogue: the tables IMPORT FOREIGN SCHEMA creates, how each is
-- fetched and which conditions narrow its requests.
CREATE FUNCTION callrecords_fdw_tables(
    OUT table_name text, OUT description text, OUT fetched_by text,
    OUT pushed_conditions text, OUT beta_only boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;

-- Every column of every table: its position, name, type and Graph source.
CREATE FUNCTION callrecords_fdw_columns(
    OUT table_name text, OUT ordinal integer, OUT column_name text,
    OUT column_type text, OUT graph_source text, OUT beta_only boolean,
    OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;

-- ---------------------------------------------------------------------
-- Call quality: Microsoft's Call Quality Dashboard (CQD) stream
-- classifiers, on the columns of the streams table.  Each returns 'Good',
-- 'Poor' or 'Unclassified'.  Thresholds are CQD's, strictly exceeded
-- (jitter of exactly 30 ms is not poor); durations are intervals and
-- rates fractions, as Graph gives them.
-- ---------------------------------------------------------------------

-- Audio.  rule names the CQD version:
--   'current'  Poor when packet utilization > 500 and any of round trip
--              > 500 ms, packet loss rate > 0.1, jitter > 30 ms; a stream
--              with 500 packets or fewer (or none reported) is Unclassified;
--   '2021-08'  the same three metrics, no packet-utilization gate;
--   '2021-01'  also degradation > 1.0 and concealed-samples ratio > 0.07,
--              both skipped for SATIN codecs;
--   '2018'     all five metrics for every codec.
-- A stream with none of the metrics its rule reads is Unclassified.
CREATE FUNCTION callrecords_fdw_audio_quality(
    packet_utilization bigint,
    average_round_trip_time interval,
    average_packet_loss_rate double precision,
    average_jitter interval,
    average_audio_degradation double precision DEFAULT NULL,
    average_ratio_of_concealed_samples double precision DEFAULT NULL,
    audio_codec text DEFAULT NULL,
    rule text DEFAULT 'current')
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  five boolean := rule IN ('2021-01', '2018');
  satin_exempt boolean := rule = '2021-01' AND lower(coalesce(audio_codec, '')) LIKE 'satin%';
BEGIN
  IF rule NOT IN ('current', '2021-08', '2021-01', '2018') THEN
    RAISE EXCEPTION 'unknown audio classifier rule "%"', rule
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Rules are current, 2021-08, 2021-01 and 2018.';
  END IF;
  IF rule = 'current' AND (packet_utilization IS NULL OR packet_utilization <= 500) THEN
    RETURN 'Unclassified';
  END IF;
  IF average_round_trip_time > interval '500 ms'
     OR average_packet_loss_rate > 0.1
     OR average_jitter > interval '30 ms'
     OR (five AND NOT satin_exempt AND average_audio_degradation > 1.0)
     OR (five AND NOT satin_exempt AND average_ratio_of_concealed_samples > 0.07) THEN
    RETURN 'Poor';
  END IF;
  IF average_round_trip_time IS NULL AND average_packet_loss_rate IS NULL AND average_jitter IS NULL
     AND (NOT five OR (average_audio_degradation IS NULL AND average_ratio_of_concealed_samples IS NULL)) THEN
    RETURN 'Unclassified';
  END IF;
  RETURN 'Good';
END
$$;

-- Video (and video-based screen sharing with min_frame_rate 2, the CQD
-- rule up to 2021): the first metric present decides.  Frame loss > 50 %
-- (percent, not fraction) is Poor, else Good; without it, frame rate
-- < min_frame_rate fps is Poor, else Good; without it, packet loss after
-- FEC > 0.15 is Poor, else Good; without any, Unclassified.
CREATE FUNCTION callrecords_fdw_video_quality(
    average_video_frame_loss_percentage double precision,
    average_video_frame_rate double precision,
    post_forward_error_correction_packet_loss_rate double precision,
    min_frame_rate double precision DEFAULT 7)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE
    WHEN average_video_frame_loss_percentage IS NOT NULL THEN
      CASE WHEN average_video_frame_loss_percentage > 50 THEN 'Poor' ELSE 'Good' END
    WHEN average_video_frame_rate IS NOT NULL THEN
      CASE WHEN average_video_frame_rate < min_frame_rate THEN 'Poor' ELSE 'Good' END
    WHEN post_forward_error_correction_packet_loss_rate IS NOT NULL THEN
      CASE WHEN post_forward_error_correction_packet_loss_rate > 0.15 THEN 'Poor' ELSE 'Good' END
    ELSE 'Unclassified'
  END
$$;

-- CQD's poor percentage: poor / (poor + good) * 100, Unclassified left out
-- of both.  NULL when nothing was classified.
CREATE FUNCTION callrecords_fdw_poor_percent(classes text[])
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT round(100.0 * count(*) FILTER (WHERE c = 'Poor')
               / nullif(count(*) FILTER (WHERE c IN ('Poor', 'Good')), 0), 2)
    FROM unnest(classes) c
$$;

-- ---------------------------------------------------------------------
-- Archiving past Graph's 30-day retention.  Copies the call records that
-- started since `since` (and their sessions, segments, media, streams and
-- participants) from the foreign tables of source_schema into ordinary
-- tables of target_schema, creating them on first use.  A record already
-- archived is copied again only when Graph has a higher version of it (its
-- children are then replaced), so running it again is harmless.  Schedule
-- it (pg_cron) with a window that reaches back past Graph's publication
-- delay, a few days, since later versions of a record keep coming.
-- ---------------------------------------------------------------------
CREATE PROCEDURE callrecords_fdw_archive(source_schema name, target_schema name,
                                         since timestamptz DEFAULT now() - interval '3 days')
LANGUAGE plpgsql
AS $$
DECLARE
  children CONSTANT text[] := ARRAY['participants', 'sessions', 'segments', 'media', 'streams'];
  keys CONSTANT text[] := ARRAY['call_record_id, participant_index',
                                'call_record_id, session_index',
                                'call_record_id, session_index, segment_index',
                                'call_record_id, session_index, segment_index, media_index',
                                'call_record_id, session_index, segment_index, media_index, stream_index'];
  t text;
  i int;
  changed text[];
  cols text;
BEGIN
  -- the target tables, shaped like the foreign tables, made on first use
  IF to_regclass(format('%I.call_records', target_schema)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I.call_records (LIKE %I.call_records, PRIMARY KEY (id))',
                   target_schema, source_schema);
  END IF;
  FOR i IN 1 .. array_length(children, 1) LOOP
    IF to_regclass(format('%I.%I', target_schema, children[i])) IS NULL THEN
      EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I, PRIMARY KEY (%s))',
                     target_schema, children[i], source_schema, children[i], keys[i]);
    END IF;
  END LOOP;

  -- the records of the window, and those new or with a higher version
  EXECUTE format('CREATE TEMP TABLE callrecords_fdw_archive_window ON COMMIT DROP AS
                    SELECT * FROM %I.call_records WHERE start_date_time >= %L', source_schema, since);
  EXECUTE format('SELECT array_agg(w.id) FROM callrecords_fdw_archive_window w
                    LEFT JOIN %I.call_records a ON a.id = w.id
                   WHERE a.id IS NULL OR a.version < w.version', target_schema) INTO changed;
  IF changed IS NULL THEN
    DROP TABLE callrecords_fdw_archive_window;
    RETURN;
  END IF;

  FOREACH t IN ARRAY children LOOP
    EXECUTE format('DELETE FROM %I.%I WHERE call_record_id = ANY($1)', target_schema, t) USING changed;
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM %I.%I WHERE call_record_id = ANY($1)',
                   target_schema, t, source_schema, t) USING changed;
  END LOOP;
  SELECT string_agg(format('%I = EXCLUDED.%I', attname, attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute
   WHERE attrelid = format('%I.call_records', target_schema)::regclass AND attnum > 0 AND NOT attisdropped
     AND attname <> 'id';
  EXECUTE format('INSERT INTO %I.call_records SELECT * FROM callrecords_fdw_archive_window WHERE id = ANY($1)
                  ON CONFLICT (id) DO UPDATE SET %s', target_schema, cols) USING changed;
  DROP TABLE callrecords_fdw_archive_window;
END
$$;
