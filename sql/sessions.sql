--
-- Sessions and segments, paging through sessions@odata.nextLink, lazy
-- fetching, and one token for many queries.
--
\pset null '(null)'
SELECT emulator_reset();
-- an altered user mapping drops its token (the cluster's too): one login below
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');

-- record 4: repeated session ids keep distinct session_index values
SELECT session_index, id, caller_endpoint_type, caller_user_agent_type,
       callee_endpoint_type, callee_user_agent_role, modalities, is_test,
       failure_info_stage
  FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
 ORDER BY session_index;
SELECT count(*) AS sessions, count(DISTINCT id) AS distinct_ids
  FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';
SELECT session_index, segment_index, session_id, id = session_id AS same_id_as_session,
       start_date_time <= end_date_time AS ordered_times
  FROM cr.segments WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
 ORDER BY session_index, segment_index;
SELECT session_index, segment_index, media_index, label, caller_network_connection_type IS NOT NULL AS has_network
  FROM cr.media WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
 ORDER BY 1, 2, 3;

-- segments and media agree with the oracle
SELECT (SELECT count(*) FROM cr.segments WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004') AS fdw_segments,
       (SELECT sum(jsonb_array_length(s->'segments')) FROM jsonb_array_elements(emulator_raw('cafe0000-0000-4000-8000-000000000004')->'sessions') s) AS oracle_segments;

-- the docs' example: endpoints, user agents, feedback tokens as jsonb
SELECT session_index, caller_name, caller_user_agent_platform, caller_user_agent_product_family,
       caller_associated_identity_display_name, callee_associated_identity_user_principal_name,
       callee_feedback_rating, callee_feedback_tokens
  FROM cr.sessions WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'
 ORDER BY session_index;

-- one token served all of the queries above (this backend fetched it once)
SELECT count(*) FILTER (WHERE l LIKE 'POST %/oauth2/v2.0/token 200') AS token_requests,
       count(*) FILTER (WHERE l LIKE 'GET %') AS graph_requests
  FROM emulator_log() l;

-- 150 sessions: 60 inline, then two /sessions pages of 60 and 30
SELECT emulator_reset();
SELECT count(*), count(DISTINCT session_index), min(session_index), max(session_index)
  FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
SELECT * FROM emulator_log();
-- the same ids as the oracle, in the same positions
SELECT count(*) AS mismatches
  FROM (SELECT session_index, id FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'
        EXCEPT
        SELECT i::int, s->>'id' FROM jsonb_array_elements(emulator_raw('cafe0000-0000-4000-8000-000000000002')->'sessions') WITH ORDINALITY x(s, i)) d;
SELECT * FROM explain_analyze($$
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);

-- pages are fetched lazily: five rows need only the first page
SELECT emulator_reset();
SELECT session_index FROM cr.sessions
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002' LIMIT 5;
SELECT * FROM emulator_log();

-- a record with no sessions
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000005';

-- EXPLAIN shows the request; a prepared statement shows its parameter
EXPLAIN (VERBOSE, COSTS OFF)
SELECT id FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
PREPARE q(text) AS SELECT count(*) FROM cr.sessions WHERE call_record_id = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE q('cafe0000-0000-4000-8000-000000000004');
EXECUTE q('cafe0000-0000-4000-8000-000000000004');
EXECUTE q('cafe0000-0000-4000-8000-000000000001');
RESET plan_cache_mode;
-- other conditions are applied locally on top of the fetched rows
SELECT count(*) FROM cr.streams
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004' AND stream_direction = 'callerToCallee';
-- the id condition is rechecked: a contradiction gives no rows
SELECT count(*) FROM cr.sessions
 WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004'
   AND call_record_id = 'cafe0000-0000-4000-8000-000000000001';
