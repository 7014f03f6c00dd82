--
-- Messages that say what happens where it happens: a window older than
-- Graph keeps, a missing user mapping, a passing token error, the rate
-- windows' sharing in EXPLAIN ANALYZE, and the column comments of the
-- imported tables.  The suite's reference time is 2026-12-01 (setup).
--

-- a window that starts more than 30 days back: a NOTICE naming what Graph
-- keeps, and the rows Graph still has
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-10-01 00:00+00' AND start_date_time < '2026-11-02 00:00+00';
-- one that ends before the 30 days: no rows, and the NOTICE says why
SELECT count(*) FROM cr.call_records WHERE start_date_time < '2026-10-01 00:00+00';
-- within the 30 days: no NOTICE
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-11-02 00:00+00' AND start_date_time < '2026-11-03 00:00+00';
-- a table below the call records, listed by time
SELECT count(*) FROM cr.participants
 WHERE call_start_date_time >= '2026-10-20 00:00+00' AND call_start_date_time < '2026-11-01 10:00+00';
-- a log table: Graph's 90 days
SELECT count(*) FROM cr.pstn_calls
 WHERE start_date_time >= '2026-08-01 00:00+00' AND start_date_time < '2026-08-01 01:00+00';
SELECT count(*) FROM cr.pstn_calls
 WHERE start_date_time >= '2026-11-02 00:00+00' AND start_date_time < '2026-11-02 01:00+00';
-- a parameter is checked when the scan starts, in custom and generic plans
PREPARE since(timestamptz) AS
  SELECT count(*) FROM cr.call_records WHERE start_date_time >= $1 AND start_date_time < $1 + interval '1 day';
EXECUTE since('2026-10-01 00:00+00');
EXECUTE since('2026-11-05 00:00+00');
SET plan_cache_mode = force_generic_plan;
EXECUTE since('2026-09-01 00:00+00');
RESET plan_cache_mode;
DEALLOCATE since;
-- once per scan, however often a nested loop rescans it
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SET enable_memoize = off;
SELECT v.t, x.n
  FROM (VALUES ('2026-10-01 00:00+00'::timestamptz), ('2026-10-02 00:00+00'), ('2026-10-03 00:00+00')) v(t),
       LATERAL (SELECT count(*) AS n FROM cr.call_records c
                 WHERE c.start_date_time >= v.t AND c.start_date_time < v.t + interval '1 day') x
 ORDER BY 1;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET enable_memoize;
-- counted from callrecords_fdw.reference_time
SET callrecords_fdw.reference_time = '2026-11-10 00:00+00';
SELECT count(*) FROM cr.call_records
 WHERE start_date_time >= '2026-10-01 00:00+00' AND start_date_time < '2026-10-02 00:00+00';
RESET callrecords_fdw.reference_time;

-- a role without a user mapping is told how to make one
CREATE ROLE regress_cr_unmapped;
GRANT USAGE ON SCHEMA cr TO regress_cr_unmapped;
GRANT SELECT ON cr.sessions TO regress_cr_unmapped;
SET ROLE regress_cr_unmapped;
SELECT code, message, hint FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
RESET ROLE;
-- a PUBLIC mapping serves it
CREATE USER MAPPING FOR PUBLIC SERVER graph OPTIONS (client_id 'test-client', client_secret 'test-secret');
SET ROLE regress_cr_unmapped;
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
RESET ROLE;
DROP USER MAPPING FOR PUBLIC SERVER graph;
REVOKE ALL ON cr.sessions FROM regress_cr_unmapped;
REVOKE ALL ON SCHEMA cr FROM regress_cr_unmapped;
DROP ROLE regress_cr_unmapped;

-- a passing token error (Entra's AADSTS90033) says to retry, not to check
-- the credentials; a wrong secret still says to check them
SELECT emulator_reset();
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT emulator_fault('{"match": "oauth2", "status": 400, "aadsts": 90033, "times": 1}');
SELECT code, message, hint FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'wrong-secret');
SELECT code, hint FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');

-- EXPLAIN ANALYZE always says whether the rate windows are shared (the
-- suite preloads the library on 15 and 16; 17 and later share them anyway)
SELECT * FROM explain_analyze($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);

-- every imported column has a comment: what it means, its unit, its
-- source in Graph
SELECT c.relname, count(*) AS columns, count(col_description(c.oid, a.attnum)) AS commented
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'cr'::regnamespace
 GROUP BY 1 ORDER BY 1;
SELECT attname, col_description(attrelid, attnum)
  FROM pg_attribute
 WHERE attrelid = 'cr.streams'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT attname, col_description(attrelid, attnum)
  FROM pg_attribute
 WHERE attrelid = 'cr.media'::regclass
   AND attname IN ('caller_network_link_speed', 'caller_network_delay_event_ratio', 'caller_device_mic_glitch_rate',
                   'caller_device_sent_signal_level', 'caller_endpoint_type', 'caller_network_wifi_signal_strength')
 ORDER BY attnum;
-- what callrecords_fdw_columns() lists, for the tables of a beta server too
SELECT table_name, column_name, description FROM callrecords_fdw_columns()
 WHERE column_name IN ('duration', 'charge', 'total_call_seconds', 'from_date_time', 'session_index', 'raw')
 ORDER BY 1, 2;
SELECT count(*) AS columns, count(*) FILTER (WHERE description LIKE 'Graph property%') AS undescribed
  FROM callrecords_fdw_columns();
-- LIMIT TO, and a table that exists already: core's error and context
CREATE SCHEMA cr_msg;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (participants) FROM SERVER graph INTO cr_msg;
SELECT c.relname, count(*) AS columns, count(col_description(c.oid, a.attnum)) AS commented
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relnamespace = 'cr_msg'::regnamespace
 GROUP BY 1 ORDER BY 1;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (participants) FROM SERVER graph INTO cr_msg;
IMPORT FOREIGN SCHEMA callrecords EXCEPT (participants, sessions, segments, media, streams, pstn_calls, direct_routing_calls)
  FROM SERVER graph INTO cr_msg;
SELECT relname FROM pg_class WHERE relnamespace = 'cr_msg'::regnamespace ORDER BY 1;
DROP SCHEMA cr_msg CASCADE;
