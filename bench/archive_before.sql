-- The archive procedure as it was before issue 20 (callrecords_fdw--1.0.sql
-- at 359694b), renamed: bench case v measures it against the new one.
CREATE OR REPLACE PROCEDURE bench_archive_before(source_schema name, target_schema name,
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
