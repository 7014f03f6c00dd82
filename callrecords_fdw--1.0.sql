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
-- Archiving past Graph's 30-day retention.  callrecords_fdw_archive()
-- copies the call records that started in a window (and their
-- participants, sessions, segments, media and streams) and the rows of the
-- log tables over the same window, from the foreign tables of
-- source_schema into ordinary tables of target_schema, made on first use
-- and partitioned by month.  Its rules:
--   * each record's data is fetched once: a batch of records is copied by
--     one statement whose scans share the statement's response cache, so
--     a record costs its sessions chain and its participants request;
--   * each batch commits: a failure loses at most the batch in flight, and
--     a record is archived with its children in one transaction, so the
--     next run skips what is archived at the same version;
--   * the list is read once, through a cursor, and not before the
--     batches: the first batch is copied from inside the read, which the
--     wrapper carries on while that batch waits for Graph, and commits
--     with the list;
--   * a step that fails (the list, a batch, the log tables) marks the run
--     failed, commits that, and raises the error again as it was;
--   * progress goes to NOTICEs and to target_schema.archive_runs, which
--     other sessions read with callrecords_fdw_archive_progress().
-- ---------------------------------------------------------------------

-- Graph requests this backend has made, retries included.
CREATE FUNCTION callrecords_fdw_requests()
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

-- The archived tables, their keys and the column that places a row in a
-- month's partition: the call's start for the call record tables, the
-- time column of each log function.  The dial-out report has no time of
-- its own, so it is not archived.
CREATE FUNCTION callrecords_fdw_archive_layout(
    OUT table_name text, OUT key_columns text, OUT time_column text, OUT is_log boolean)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE
AS $$
  VALUES ('call_records', 'id', 'start_date_time', false),
         ('participants', 'call_record_id, participant_index', 'call_start_date_time', false),
         ('sessions', 'call_record_id, session_index', 'call_start_date_time', false),
         ('segments', 'call_record_id, session_index, segment_index', 'call_start_date_time', false),
         ('media', 'call_record_id, session_index, segment_index, media_index', 'call_start_date_time', false),
         ('streams', 'call_record_id, session_index, segment_index, media_index, stream_index',
          'call_start_date_time', false),
         ('pstn_calls', 'id', 'start_date_time', true),
         ('direct_routing_calls', 'id', 'start_date_time', true),
         ('sms_log', 'id', 'sent_date_time', true),
         ('pstn_blocked_users', 'id', 'block_date_time', true)
$$;

-- Make the target tables that are missing, shaped like the foreign tables
-- of source_schema, partitioned by month of their time column (which the
-- primary key must then include).  Tables archived before partitioning
-- stay as they are.  Log tables are made only when source_schema has them.
CREATE FUNCTION callrecords_fdw_archive_tables(source_schema name, target_schema name)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  l record;
BEGIN
  FOR l IN SELECT * FROM callrecords_fdw_archive_layout() LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', target_schema, l.table_name)) IS NOT NULL;
    IF to_regclass(format('%I.%I', source_schema, l.table_name)) IS NULL THEN
      CONTINUE WHEN l.is_log;
      RAISE EXCEPTION 'foreign table %.% does not exist', source_schema, l.table_name
        USING ERRCODE = 'undefined_table',
              HINT = 'IMPORT FOREIGN SCHEMA callrecords FROM SERVER ... INTO ' || quote_ident(source_schema) || '.';
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.%I, PRIMARY KEY (%s, %I)) PARTITION BY RANGE (%I)',
                   target_schema, l.table_name, source_schema, l.table_name,
                   l.key_columns, l.time_column, l.time_column);
  END LOOP;
  IF to_regclass(format('%I.archive_runs', target_schema)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I.archive_runs (
                      run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                      pid integer NOT NULL,
                      backend_start timestamptz,
                      started timestamptz NOT NULL,
                      updated timestamptz NOT NULL,
                      since timestamptz NOT NULL,
                      until timestamptz,
                      records_total integer NOT NULL DEFAULT 0,
                      records_done integer NOT NULL DEFAULT 0,
                      log_rows bigint NOT NULL DEFAULT 0,
                      requests bigint NOT NULL DEFAULT 0,
                      state text NOT NULL)', target_schema);
  END IF;
END
$$;

-- The month partitions of a partitioned target table that hold the given
-- times, made if missing (named table_yyyy_mm; months in UTC).  A table
-- archived before partitioning is left alone.
CREATE FUNCTION callrecords_fdw_archive_partitions(target_schema name, table_name text,
                                                   times timestamptz[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  m timestamp;
  part text;
BEGIN
  IF (SELECT c.relkind FROM pg_class c
       WHERE c.oid = to_regclass(format('%I.%I', target_schema, table_name))) IS DISTINCT FROM 'p' THEN
    RETURN;
  END IF;
  FOR m IN SELECT DISTINCT date_trunc('month', t AT TIME ZONE 'UTC') FROM unnest(times) t
            WHERE t IS NOT NULL ORDER BY 1 LOOP
    part := table_name || to_char(m, '_YYYY_MM');
    CONTINUE WHEN to_regclass(format('%I.%I', target_schema, part)) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
                   target_schema, part, target_schema, table_name,
                   (m AT TIME ZONE 'UTC'), ((m + interval '1 month') AT TIME ZONE 'UTC'));
  END LOOP;
END
$$;

-- The first day of every month from since to until (or now), for the log
-- tables, whose rows' times are known only once fetched.
CREATE FUNCTION callrecords_fdw_archive_months(since timestamptz, until timestamptz)
RETURNS timestamptz[]
LANGUAGE sql STABLE
AS $$
  SELECT array_agg(m AT TIME ZONE 'UTC')
    FROM generate_series(date_trunc('month', since AT TIME ZONE 'UTC'),
                         coalesce(until, now()) AT TIME ZONE 'UTC', interval '1 month') m
$$;

-- The runs of the archive into target_schema, newest first, as another
-- session sees them: a batch's progress shows once it is committed.  A
-- run marked running whose backend is gone is shown as interrupted.
CREATE FUNCTION callrecords_fdw_archive_progress(target_schema name)
RETURNS TABLE (run_id bigint, state text, started timestamptz, updated timestamptz,
               since timestamptz, until timestamptz, records_total integer,
               records_done integer, records_left integer, log_rows bigint, requests bigint)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
  IF to_regclass(format('%I.archive_runs', target_schema)) IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT r.run_id,
            CASE WHEN r.state = ''running'' AND NOT EXISTS
                   (SELECT 1 FROM pg_stat_activity a
                     WHERE a.pid = r.pid AND a.backend_start IS NOT DISTINCT FROM r.backend_start)
                 THEN ''interrupted'' ELSE r.state END,
            r.started, r.updated, r.since, r.until, r.records_total, r.records_done,
            r.records_total - r.records_done, r.log_rows, r.requests
       FROM %I.archive_runs r ORDER BY r.run_id DESC', target_schema);
END
$$;

-- Start a run: refuse when another backend is archiving into the same
-- schema (two runs would copy the same records), else record this one.
CREATE FUNCTION callrecords_fdw_archive_start(target_schema name, since timestamptz,
                                              until timestamptz)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  other integer;
  run bigint;
BEGIN
  EXECUTE format('LOCK TABLE %I.archive_runs IN SHARE ROW EXCLUSIVE MODE', target_schema);
  SELECT p.run_id INTO other FROM callrecords_fdw_archive_progress(target_schema) p
   WHERE p.state = 'running' LIMIT 1;
  IF other IS NOT NULL THEN
    RAISE EXCEPTION 'an archive into schema "%" is already running (run %)', target_schema, other
      USING ERRCODE = 'lock_not_available',
            HINT = 'Wait for it to finish; callrecords_fdw_archive_progress() shows how far it has got.';
  END IF;
  EXECUTE format('UPDATE %I.archive_runs SET state = ''interrupted'' WHERE state = ''running''',
                 target_schema);
  EXECUTE format('INSERT INTO %I.archive_runs (pid, backend_start, started, updated, since, until, state)
                  SELECT pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()),
                         now(), now(), $1, $2, ''running'' RETURNING run_id', target_schema)
    INTO run USING since, until;
  RETURN run;
END
$$;

-- Copy one batch of call records (ids, all in pg_temp.callrecords_fdw_archive_list):
-- the months' partitions, the old versions and their children removed,
-- then the children by one statement, so that every table reads a
-- record's responses once (the statement's response cache serves the
-- scans of one statement), then the records themselves.  Returns the
-- child rows copied.
CREATE FUNCTION callrecords_fdw_archive_batch(source_schema name, target_schema name, ids text[])
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  children CONSTANT text[] := ARRAY['participants', 'sessions', 'segments', 'media', 'streams'];
  starts timestamptz[];
  t text;
  ctes text[] := '{}';
  sums text[] := '{}';
  copied bigint;
BEGIN
  SELECT array_agg(start_date_time) INTO starts
    FROM pg_temp.callrecords_fdw_archive_list WHERE id = ANY(ids);
  PERFORM callrecords_fdw_archive_partitions(target_schema, 'call_records', starts);
  FOREACH t IN ARRAY children LOOP
    PERFORM callrecords_fdw_archive_partitions(target_schema, t, starts);
    EXECUTE format('DELETE FROM %I.%I WHERE call_record_id = ANY($1)', target_schema, t) USING ids;
    ctes := ctes || format('%I AS (INSERT INTO %I.%I SELECT * FROM %I.%I WHERE call_record_id = ANY($1) RETURNING 1)',
                           t, target_schema, t, source_schema, t);
    sums := sums || format('(SELECT count(*) FROM %I)', t);
  END LOOP;
  EXECUTE format('DELETE FROM %I.call_records WHERE id = ANY($1)', target_schema) USING ids;
  EXECUTE 'WITH ' || array_to_string(ctes, ', ') || ' SELECT ' || array_to_string(sums, ' + ')
    INTO copied USING ids;
  EXECUTE format('INSERT INTO %I.call_records SELECT * FROM pg_temp.callrecords_fdw_archive_list
                   WHERE id = ANY($1)', target_schema) USING ids;
  RETURN copied;
END
$$;

-- Copy the rows of the log tables over the window, each table by one
-- statement; a row already archived (same id and time) is kept, not
-- duplicated.  Returns the rows added.
CREATE FUNCTION callrecords_fdw_archive_logs(source_schema name, target_schema name,
                                             since timestamptz, until timestamptz)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
  l record;
  n bigint;
  added bigint := 0;
BEGIN
  FOR l IN SELECT * FROM callrecords_fdw_archive_layout() WHERE is_log LOOP
    CONTINUE WHEN to_regclass(format('%I.%I', source_schema, l.table_name)) IS NULL
               OR to_regclass(format('%I.%I', target_schema, l.table_name)) IS NULL;
    PERFORM callrecords_fdw_archive_partitions(target_schema, l.table_name,
                                               callrecords_fdw_archive_months(since, until));
    EXECUTE format('INSERT INTO %I.%I SELECT * FROM %I.%I WHERE %I >= $1%s ON CONFLICT DO NOTHING',
                   target_schema, l.table_name, source_schema, l.table_name, l.time_column,
                   CASE WHEN until IS NULL THEN '' ELSE format(' AND %I < $2', l.time_column) END)
      USING since, until;
    GET DIAGNOSTICS n = ROW_COUNT;
    added := added + n;
  END LOOP;
  RETURN added;
END
$$;

-- Mark a run failed (the caller commits, then raises the error again) and
-- give the DETAIL to raise: the error's own, and how far the run got.
CREATE FUNCTION callrecords_fdw_archive_failed(target_schema name, run bigint, requests bigint,
                                               err_detail text, done integer, total integer)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE format('UPDATE %I.archive_runs SET state = ''failed'', requests = $1, updated = clock_timestamp()
                   WHERE run_id = $2', target_schema)
    USING requests, run;
  RETURN concat_ws(E'\n', nullif(err_detail, ''),
                   CASE WHEN total > 0 THEN
                     format('The archive committed %s of %s call records; running it again resumes.', done, total)
                   END);
END
$$;

-- Read the call record list of the window into the temporary table
-- pg_temp.callrecords_fdw_archive_list, and copy the first batch of new
-- or changed records (first_size of them, in the list's order) as soon as
-- they are listed, from inside the read: the list is a chain of pages,
-- each a round trip that needs the page before, and while the batch's
-- statements wait for Graph the wrapper reads the rest of the list ahead
-- (the cursor's scan is a list reader, src/fetch.c), so the list's round
-- trips overlap the batch's requests instead of coming before them.  The
-- batch commits with the list.  Returns the ids it copied: none when the
-- list ends first; NULL when the batch needs more than max_requests (it
-- is rolled back, and the procedure's batches split it).
CREATE FUNCTION callrecords_fdw_archive_read_list(source_schema name, target_schema name,
                                                  since timestamptz, until timestamptz,
                                                  first_size integer)
RETURNS text[]
LANGUAGE plpgsql
AS $$
DECLARE
  r record;
  is_new boolean;
  pending text[] := '{}';
  first text[];
  over boolean := false;
BEGIN
  EXECUTE format('CREATE TEMP TABLE callrecords_fdw_archive_list (LIKE %I.call_records)', source_schema);
  FOR r IN EXECUTE format('SELECT l FROM %I.call_records l WHERE l.start_date_time >= $1%s', source_schema,
                          CASE WHEN until IS NULL THEN '' ELSE ' AND l.start_date_time < $2' END)
             USING since, until LOOP
    EXECUTE 'INSERT INTO pg_temp.callrecords_fdw_archive_list SELECT ($1).*' USING r.l;
    CONTINUE WHEN first IS NOT NULL;
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I.call_records a WHERE a.id = $1 AND a.version >= $2)',
                   target_schema) INTO is_new USING (r.l).id, (r.l).version;
    CONTINUE WHEN NOT is_new;
    pending := pending || (r.l).id;
    CONTINUE WHEN cardinality(pending) < first_size;
    first := pending;
    BEGIN
      PERFORM callrecords_fdw_archive_batch(source_schema, target_schema, first);
    EXCEPTION WHEN program_limit_exceeded THEN
      over := true;             -- left to the batches, in halves
    END;
  END LOOP;
  RETURN CASE WHEN over THEN NULL ELSE coalesce(first, '{}') END;
END
$$;

-- The records of the list still to copy, new or changed (a record copied
-- is archived at the version listed), in the order of their start.
CREATE FUNCTION callrecords_fdw_archive_changed(target_schema name)
RETURNS text[]
LANGUAGE plpgsql
AS $$
DECLARE
  changed text[];
BEGIN
  EXECUTE format('SELECT array_agg(w.id ORDER BY w.start_date_time, w.id)
                    FROM pg_temp.callrecords_fdw_archive_list w
                    LEFT JOIN %I.call_records a ON a.id = w.id
                   WHERE a.id IS NULL OR a.version < w.version', target_schema) INTO changed;
  RETURN coalesce(changed, '{}');
END
$$;

-- The archive.  Copies the call records that started from since (to
-- until, if given) with their children, batch_size records per
-- transaction (fewer when a batch needs more than the server's
-- max_requests), then the log tables' rows of the same window.  The first
-- batch is copied while the list is read, and commits with it.  A record
-- already archived is copied again only when Graph has a higher version
-- of it (its children are then replaced), so running it again, after a
-- failure too, copies only what is missing or changed.  A NOTICE reports
-- progress at most every progress_every, and one the end.  Call it
-- outside a transaction block (it commits); schedule it with a window
-- that reaches back past Graph's publication delay, a few days, since
-- later versions of a record keep coming.
--
-- It runs as steps (the list with the first batch, each later batch, the
-- log tables), each committed; the one exception handler catches a step's
-- error, and the run is then marked failed, that committed, and the error
-- raised again as it was.
CREATE PROCEDURE callrecords_fdw_archive(source_schema name, target_schema name,
                                         since timestamptz DEFAULT now() - interval '3 days',
                                         until timestamptz DEFAULT NULL,
                                         batch_size integer DEFAULT 100,
                                         progress_every interval DEFAULT '5 seconds')
LANGUAGE plpgsql
AS $$
DECLARE
  run bigint;
  step text := 'list';
  first text[];
  todo text[];
  pos integer := 0;
  total integer := 0;
  done integer := 0;
  logs bigint;
  requests0 bigint := callrecords_fdw_requests();
  noticed timestamptz := clock_timestamp();
  err_state text;
  err_message text;
  err_detail text;
  err_hint text;
  size integer := batch_size;
BEGIN
  IF batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM callrecords_fdw_archive_tables(source_schema, target_schema);
  run := callrecords_fdw_archive_start(target_schema, since, until);
  COMMIT;
  IF to_regclass('pg_temp.callrecords_fdw_archive_list') IS NOT NULL THEN
    DROP TABLE pg_temp.callrecords_fdw_archive_list;     -- left by a failed run
  END IF;

  LOOP
    BEGIN
      IF step = 'list' THEN
        first := callrecords_fdw_archive_read_list(source_schema, target_schema, since, until, size);
        done := coalesce(cardinality(first), 0);
      ELSIF step = 'batch' THEN
        -- a failed batch is rolled back, the batches before it stay
        PERFORM callrecords_fdw_archive_batch(source_schema, target_schema, todo[pos + 1 : pos + size]);
      ELSE
        logs := callrecords_fdw_archive_logs(source_schema, target_schema, since, until);
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                              err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
    END;
    -- a batch over the server's max_requests (records of many pages) is
    -- tried again in halves, down to one record (the list's first batch
    -- too, by the batches after the list)
    IF size > 1 AND (err_state = '54000' AND step = 'batch' OR
                     err_state IS NULL AND step = 'list' AND first IS NULL) THEN
      size := size / 2;
      RAISE NOTICE 'a batch needs more than the server''s max_requests; batches of % call records from here', size;
      CONTINUE WHEN step = 'batch';
      err_state := NULL;
    END IF;
    IF err_state IS NOT NULL THEN
      err_detail := callrecords_fdw_archive_failed(target_schema, run, callrecords_fdw_requests() - requests0,
                                                   err_detail, done, total);
      COMMIT;
      RAISE EXCEPTION USING ERRCODE = err_state, MESSAGE = err_message, DETAIL = err_detail, HINT = err_hint;
    END IF;
    EXIT WHEN step = 'logs';

    IF step = 'list' THEN
      todo := callrecords_fdw_archive_changed(target_schema);
      total := done + cardinality(todo);
    ELSE
      pos := least(pos + size, cardinality(todo));
      done := least(done + size, total);
    END IF;
    EXECUTE format('UPDATE %I.archive_runs SET records_total = $1, records_done = $2, requests = $3,
                           updated = clock_timestamp() WHERE run_id = $4', target_schema)
      USING total, done, callrecords_fdw_requests() - requests0, run;
    COMMIT;
    IF done > 0 AND done < total AND clock_timestamp() - noticed >= progress_every THEN
      RAISE NOTICE 'archived % of % call records (% left), % Graph requests',
        done, total, total - done, callrecords_fdw_requests() - requests0;
      noticed := clock_timestamp();
    END IF;
    IF pos < cardinality(todo) THEN
      step := 'batch';
    ELSE
      step := 'logs';
      DROP TABLE pg_temp.callrecords_fdw_archive_list;
    END IF;
  END LOOP;

  EXECUTE format('UPDATE %I.archive_runs SET log_rows = $1, requests = $2, updated = clock_timestamp(),
                         state = ''done'' WHERE run_id = $3', target_schema)
    USING logs, callrecords_fdw_requests() - requests0, run;
  COMMIT;
  RAISE NOTICE 'archived % call records, % log rows, % Graph requests',
    total, logs, callrecords_fdw_requests() - requests0;
END
$$;
