--
-- Setup shared by the whole suite: the extension, a server and user
-- mapping pointed at the Graph emulator (CR_EMULATOR_URL, set by
-- scripts/test.sh), the tables, and helpers to drive the emulator's
-- control API and read its request log.
--
\getenv emulator_url CR_EMULATOR_URL
CREATE EXTENSION callrecords_fdw;
CREATE SERVER graph FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER graph
  OPTIONS (client_id 'test-client', client_secret 'test-secret');

-- The emulator's fixed calls are from 2026-11-01 to 20.  The planner
-- counts Graph's 30 days back from callrecords_fdw.reference_time: fixed
-- here, so that the estimates (and the plans) are the same on any date.
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET callrecords_fdw.reference_time = %L',
                 current_database(), '2026-12-01 00:00:00+00');
END $$;
-- Estimates from the fixed guesses, not from whatever the tests before
-- happened to scan (shape.sql turns learning on where it tests it).
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET callrecords_fdw.learn_tenant_shape = off', current_database());
END $$;

-- the emulator's base URL, for the helpers below
CREATE TABLE emulator_conf (url text NOT NULL);
INSERT INTO emulator_conf VALUES (:'emulator_url');

-- quote a string for sh
CREATE FUNCTION shell_quote(s text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '''' || replace(s, '''', '''\''''') || '''' $$;

-- One request to the emulator's control API, answered line by line in
-- order.  curl runs as the server's OS user through COPY FROM PROGRAM; the
-- CSV settings keep backslashes and tabs in the answer literal.
CREATE FUNCTION emulator(method text, path text, body text DEFAULT NULL)
RETURNS TABLE (n bigint, line text) LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('pg_temp.emulator_answer') IS NULL THEN
    CREATE TEMP TABLE emulator_answer (n bigint GENERATED ALWAYS AS IDENTITY, line text);
  END IF;
  TRUNCATE emulator_answer RESTART IDENTITY;
  EXECUTE format('COPY emulator_answer (line) FROM PROGRAM %L WITH (FORMAT csv, DELIMITER E''\x01'', QUOTE E''\x02'')',
    'curl -sS --max-time 20 -X ' || method
    || CASE WHEN body IS NOT NULL THEN ' -H ''Content-Type: application/json'' --data-binary ' || shell_quote(body) ELSE '' END
    || ' ' || shell_quote((SELECT url FROM emulator_conf) || path));
  RETURN QUERY SELECT a.n, a.line FROM emulator_answer a ORDER BY a.n;
END $$;

-- the request log since the last reset, one line per request
CREATE FUNCTION emulator_log() RETURNS SETOF text LANGUAGE sql
AS $$ SELECT line FROM emulator('GET', '/_emulator/log') ORDER BY n $$;

-- clear log and faults
CREATE FUNCTION emulator_reset() RETURNS text LANGUAGE sql
AS $$ SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/reset') $$;

-- add a fault rule
CREATE FUNCTION emulator_fault(rule jsonb) RETURNS text LANGUAGE sql
AS $$ SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/faults', rule::text) $$;

-- the whole call record, unpaged, as the test oracle
CREATE FUNCTION emulator_raw(id text) RETURNS jsonb LANGUAGE sql
AS $$ SELECT string_agg(line, E'\n' ORDER BY n)::jsonb FROM emulator('GET', '/_emulator/raw/' || id) $$;

-- every call record of the list endpoint, unpaged
CREATE FUNCTION emulator_raw_list() RETURNS SETOF jsonb LANGUAGE sql
AS $$ SELECT jsonb_array_elements(CASE jsonb_typeof(j) WHEN 'array' THEN j ELSE j->'value' END)
        FROM (SELECT string_agg(line, E'\n' ORDER BY n)::jsonb AS j FROM emulator('GET', '/_emulator/raw')) r $$;

-- how_many listed call records of one session each (ids
-- prefix-000000000001 on), the i-th starting at first + i * step and
-- ending at 12:00 of the first's day; 'ok' when the emulator took them all
CREATE FUNCTION emulator_put_listed(prefix text, how_many integer, first timestamp, step interval)
RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN count(*) = how_many AND bool_and(line = 'ok') THEN 'ok' ELSE 'failed' END
    FROM generate_series(1, how_many) i,
         emulator('PUT', '/_emulator/records/' || format('%s-%s', prefix, lpad(i::text, 12, '0')),
                  json_build_object('id', format('%s-%s', prefix, lpad(i::text, 12, '0')),
                                    'listed', true, 'type', 'groupCall',
                                    'startDateTime', to_char(first + i * step, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                    'endDateTime', to_char(date_trunc('day', first) + interval '12 hours',
                                                           'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                    'sessions', json_build_array(json_build_object('id', 's' || i)))::text) $$;

-- SQLSTATE, message, detail and hint of a statement that must fail;
-- GUIDs (request ids) are masked so the expected output is stable
CREATE FUNCTION expect_error(stmt text) RETURNS TABLE (code text, message text, detail text, hint text)
LANGUAGE plpgsql AS $$
DECLARE
  g text := '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
BEGIN
  EXECUTE stmt;
  RAISE EXCEPTION 'statement did not fail: %', stmt;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  IF message LIKE 'statement did not fail%' THEN RAISE; END IF;
  detail := regexp_replace(detail, g, '<guid>', 'g');
  message := regexp_replace(message, g, '<guid>', 'g');
  -- the same text whatever the PostgreSQL major (16 names the server in
  -- core's message) or libcurl's (8.13 says "Could not")
  message := regexp_replace(message, '^(user mapping not found for) user ("[^"]*"), server "[^"]*"$', '\1 \2');
  message := replace(message, 'Could not connect to server', 'Couldn''t connect to server');
  RETURN NEXT;
END $$;

-- EXPLAIN ANALYZE without costs, timings or buffers, in the same text on
-- every PostgreSQL major: 18 shows rows with two decimals (rounded here),
-- 17 the memory a Materialize node used
CREATE FUNCTION explain_analyze(query text) RETURNS TABLE ("QUERY PLAN" text)
LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) ' || query LOOP
    CONTINUE WHEN line ~ '^ +Storage: ';
    "QUERY PLAN" := regexp_replace(line, 'rows=([0-9]+)\.00 ', 'rows=\1 ', 'g');
    -- 18 prints a mean of rows per loop with two decimals, 15-17 rounded
    WHILE "QUERY PLAN" ~ 'rows=[0-9]+\.[0-9]+ ' LOOP
      "QUERY PLAN" := regexp_replace("QUERY PLAN", 'rows=([0-9]+\.[0-9]+) ',
                        'rows=' || round(substring("QUERY PLAN" from 'rows=([0-9]+\.[0-9]+) ')::numeric) || ' ');
    END LOOP;
    RETURN NEXT;
  END LOOP;
END $$;

SELECT emulator_reset();

-- the tables, from the catalogue
CREATE SCHEMA cr;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr;
SELECT c.relname, ft.ftoptions, count(a.attnum) AS columns
  FROM pg_foreign_table ft
  JOIN pg_class c ON c.oid = ft.ftrelid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'cr'::regnamespace
 GROUP BY 1, 2 ORDER BY 1;
-- key columns of streams, in order
SELECT attname, format_type(atttypid, atttypmod)
  FROM pg_attribute WHERE attrelid = 'cr.streams'::regclass AND attnum BETWEEN 1 AND 20
 ORDER BY attnum;
-- naming rule on a few deep paths
SELECT attrelid::regclass, attname, format_type(atttypid, atttypmod)
  FROM pg_attribute
 WHERE attrelid IN ('cr.sessions'::regclass, 'cr.media'::regclass)
   AND attname IN ('caller_user_agent_platform', 'callee_feedback_tokens', 'modalities',
                   'caller_network_reflexive_ip_address', 'caller_user_agent_azure_ad_app_id',
                   'callee_device_cpu_insufficent_event_ratio', 'caller_network_link_speed',
                   'caller_endpoint_type', 'caller_network_trace_route_hops')
 ORDER BY 1, 2;

-- other remote schemas do not exist
IMPORT FOREIGN SCHEMA other FROM SERVER graph INTO cr;
-- LIMIT TO is honoured
CREATE SCHEMA cr_limited;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (streams) FROM SERVER graph INTO cr_limited;
SELECT relname FROM pg_class WHERE relnamespace = 'cr_limited'::regnamespace;
DROP SCHEMA cr_limited CASCADE;
