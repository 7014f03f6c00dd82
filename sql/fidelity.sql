--
-- Fidelity: every byte as Graph sent it (issue 14).  Number texts,
-- encodings, the letter case of ids, next links, times, enum members.
--
SELECT emulator_reset();

-- a record of our own: non-ASCII names (one not in LATIN1), numbers
-- written as Graph writes them, a varchar typmod to honour
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/f1de0000-0000-4000-8000-000000000001', $j$
{"version": 1, "type": "peerToPeer", "modalities": ["audio"],
 "startDateTime": "2026-11-05T10:00:00Z", "endDateTime": "2026-11-05T10:05:00.1234567Z",
 "sessions": [
  {"id": "5e55f1de-0000-4000-8000-000000000001", "modalities": ["audio"],
   "startDateTime": "2026-11-05T10:00:00Z", "endDateTime": "2026-11-05T10:05:00Z",
   "caller": {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
              "associatedIdentity": {"displayName": "Zoë Ødegård", "id": "a1"}},
   "callee": {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
              "associatedIdentity": {"displayName": "Ça coûte cinq", "id": "a2"}},
   "segments": [{"id": "5e69f1de-0000-4000-8000-000000000001",
     "startDateTime": "2026-11-05T10:00:00Z", "endDateTime": "2026-11-05T10:05:00Z",
     "media": [{"label": "main-audio", "streams": [
       {"streamDirection": "callerToCallee", "averagePacketLossRate": 0.07,
        "maxPacketLossRate": 0.10, "averageRatioOfConcealedSamples": 1.0E-2,
        "packetUtilization": 4294967296}]}]}]}]}
$j$);

SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/f1de0000-0000-4000-8000-000000000002', $j$
{"version": 1, "type": "peerToPeer", "modalities": ["audio"], "startDateTime": "2026-11-05T11:00:00Z",
 "sessions": [{"id": "5e55f1de-0000-4000-8000-000000000002", "modalities": ["audio", "vidéo €"],
   "caller": {"associatedIdentity": {"displayName": "Ça coûte 5 €"}}, "segments": []}]}
$j$);

-- 2. numbers keep their text, in jsonb (raw) and in numeric columns
SELECT raw->'averagePacketLossRate' AS loss, raw->'maxPacketLossRate' AS max_loss,
       raw->'averageRatioOfConcealedSamples' AS concealed, raw->'packetUtilization' AS packets,
       average_packet_loss_rate, max_packet_loss_rate
  FROM cr.streams WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000001';
CREATE FOREIGN TABLE fid_streams (call_record_id text, average_packet_loss_rate numeric,
    max_packet_loss_rate numeric, average_ratio_of_concealed_samples text, packet_utilization numeric)
  SERVER graph OPTIONS (resource 'streams');
SELECT average_packet_loss_rate, max_packet_loss_rate, average_ratio_of_concealed_samples, packet_utilization
  FROM fid_streams WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000001';
-- the streams of generated records against the emulator's whole record:
-- rows whose raw differs as text (0.07 read as 0.070000000000000007 before)
WITH r AS (SELECT emulator_raw('cafe0000-0000-4000-8000-000000000002') AS j),
oracle AS (
  SELECT se.o AS session_index, sg.o AS segment_index, me.o AS media_index, st.o AS stream_index, st.v AS raw
    FROM r, jsonb_array_elements(j->'sessions') WITH ORDINALITY se(v, o),
         jsonb_array_elements(se.v->'segments') WITH ORDINALITY sg(v, o),
         jsonb_array_elements(sg.v->'media') WITH ORDINALITY me(v, o),
         jsonb_array_elements(me.v->'streams') WITH ORDINALITY st(v, o))
SELECT count(*) AS streams, count(*) FILTER (WHERE s.raw::text <> o.raw::text) AS differing,
       count(*) FILTER (WHERE o.raw::text ~ '\.\d*0[,}]|\d\.\d{3}') AS with_decimals
  FROM cr.streams s JOIN oracle o USING (session_index, segment_index, media_index, stream_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000002';
-- PSTN rows of November against the function's whole answer: raw and charge
WITH oracle AS (
  SELECT v AS raw FROM jsonb_array_elements((SELECT string_agg(line, E'\n' ORDER BY n)::jsonb
    FROM emulator('GET', '/_emulator/raw/getPstnCalls(fromDateTime=2026-11-01T00:00:00Z,toDateTime=2026-11-30T23:59:59.9999999Z)'))) v)
SELECT count(*) AS rows, count(*) FILTER (WHERE p.raw::text <> o.raw::text) AS raw_differing,
       count(*) FILTER (WHERE p.charge::text <> o.raw->>'charge') AS charge_differing,
       count(*) FILTER (WHERE p.charge::text LIKE '%.%0') AS charges_ending_in_zero
  FROM cr.pstn_calls p JOIN oracle o ON o.raw->>'id' = p.id
 WHERE p.start_date_time >= '2026-11-01 00:00+00' AND p.start_date_time < '2026-12-01 00:00+00';

-- 1. text comes in the database's encoding: a LATIN1 database gets Zoë,
-- not ZoÃ«, and a character LATIN1 cannot hold (€) is an error; and the
-- query's values go to Graph in UTF-8 (a record whose id is not ASCII,
-- listed for the participant filter, removed again below)
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/caf%C3%A9', $j$
{"id": "café", "version": 1, "type": "peerToPeer", "modalities": ["audio"],
 "startDateTime": "2026-11-03T10:00:00Z", "endDateTime": "2026-11-03T10:05:00Z",
 "sessions": [], "participants_v2": [{"id": "Zoë"}], "listed": true}
$j$);
SELECT current_database() AS regress_db \gset
CREATE DATABASE fidelity_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c fidelity_latin1
SET client_encoding = 'UTF8';
\getenv emulator_url CR_EMULATOR_URL
CREATE EXTENSION callrecords_fdw;
CREATE SERVER graph FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER graph
  OPTIONS (client_id 'test-client', client_secret 'test-secret');
CREATE FOREIGN TABLE sessions (call_record_id text, session_index int,
    caller_associated_identity_display_name text, callee_associated_identity_display_name text,
    modalities text[], raw jsonb)
  SERVER graph OPTIONS (resource 'sessions');
SELECT caller_associated_identity_display_name AS name, octet_length(caller_associated_identity_display_name) AS bytes,
       convert_to(caller_associated_identity_display_name, 'LATIN1') AS latin1,
       raw->'caller'->'associatedIdentity'->>'displayName' AS in_raw,
       callee_associated_identity_display_name AS callee, modalities
  FROM sessions WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000001';
-- a character LATIN1 has not: an error naming column, table and call record
SELECT caller_associated_identity_display_name FROM sessions
 WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000002';
SELECT raw FROM sessions WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000002';
SELECT modalities FROM sessions WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000002';
-- nothing of it reaches a table through CREATE TABLE AS
CREATE TABLE copied AS SELECT * FROM sessions WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000002';
SELECT to_regclass('copied') AS copied;
-- the id and the participant filter sent in UTF-8: the same rows with
-- pushdown as without (the LATIN1 bytes of café named no record)
CREATE FOREIGN TABLE call_records (id text, type text) SERVER graph OPTIONS (resource 'call_records');
CREATE FOREIGN TABLE participants (call_record_id text, id text) SERVER graph OPTIONS (resource 'participants');
SELECT id, octet_length(id) AS bytes, type FROM call_records WHERE id = 'café';
SELECT call_record_id, id FROM participants WHERE id = 'Zoë';
SET callrecords_fdw.enable_pushdown = off;   -- one list request
SELECT id, octet_length(id) AS bytes, type FROM call_records WHERE id = 'café';
RESET callrecords_fdw.enable_pushdown;
\c :regress_db
DROP DATABASE fidelity_latin1;
SELECT string_agg(line, '') FROM emulator('DELETE', '/_emulator/records/caf%C3%A9');

-- 5. an array column honours its type modifier, as the input function does
CREATE FOREIGN TABLE fid_records (id text, modalities varchar(2)[]) SERVER graph OPTIONS (resource 'call_records');
SELECT * FROM expect_error($$SELECT * FROM fid_records WHERE id = 'f1de0000-0000-4000-8000-000000000001'$$);
ALTER FOREIGN TABLE fid_records ALTER COLUMN modalities TYPE varchar(5)[];
SELECT * FROM fid_records WHERE id = 'f1de0000-0000-4000-8000-000000000001';

-- 3. ids that differ only in letter case are one call record, one request
SELECT emulator_reset();
SELECT id FROM cr.call_records
 WHERE id IN ('cafe0000-0000-4000-8000-000000000004', 'CAFE0000-0000-4000-8000-000000000004');
SELECT count(*) FROM cr.sessions
 WHERE call_record_id = ANY (ARRAY['cafe0000-0000-4000-8000-000000000004', 'Cafe0000-0000-4000-8000-000000000004']);
SELECT * FROM emulator_log();
SET callrecords_fdw.enable_pushdown = off;
SELECT id FROM cr.call_records
 WHERE id IN ('cafe0000-0000-4000-8000-000000000004', 'CAFE0000-0000-4000-8000-000000000004');
RESET callrecords_fdw.enable_pushdown;

-- 7. a time Graph would never send is an error naming it, never a guess
SELECT emulator_reset();
CREATE FUNCTION put_times(t text) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/f1de0000-0000-4000-8000-000000000007',
    format('{"version": 1, "type": "groupCall", "startDateTime": %s, "sessions": []}', to_json(t)))
$$;
SELECT put_times('2026-11-05T10:00:00');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('now');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('epoch');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('2026-11-05T10:00:00+01:00');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('infinity');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('2026-11-05 10:00:00Z');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('2026-11-05T10:00:00.5ZZ');
SELECT * FROM expect_error($$SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007'$$);
SELECT put_times('2026-11-05T10:00:00.1234567Z');
SELECT start_date_time FROM cr.call_records WHERE id = 'f1de0000-0000-4000-8000-000000000007';


-- 4. next links stay in the chain's collection and never lead back
SELECT emulator_reset();
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
CREATE TEMP TABLE pages AS
  SELECT row_number() OVER () AS page, split_part(l, ' ', 2) AS target FROM emulator_log() l;
SELECT page, regexp_replace(target, 'skiptoken=.*', 'skiptoken=…') FROM pages ORDER BY page;
-- the third page links back to the second: A -> B -> A
SELECT emulator_reset();
SELECT emulator_fault(jsonb_build_object('match', (SELECT target FROM pages WHERE page = 3),
         'next_link', (SELECT url FROM emulator_conf) || (SELECT target FROM pages WHERE page = 2), 'times', -1));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT count(*) AS requests FROM emulator_log();
-- a link to another record's sessions, to /users, to the record itself
SELECT emulator_reset();
SELECT emulator_fault(jsonb_build_object('match', (SELECT target FROM pages WHERE page = 1),
         'next_link', (SELECT url FROM emulator_conf) || '/v1.0/communications/callRecords/cafe0000-0000-4000-8000-000000000001/sessions?$expand=segments'));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT emulator_fault(jsonb_build_object('match', (SELECT target FROM pages WHERE page = 1),
         'next_link', (SELECT url FROM emulator_conf) || '/v1.0/users?$skiptoken=x'));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT emulator_fault(jsonb_build_object('match', (SELECT target FROM pages WHERE page = 1),
         'next_link', (SELECT url FROM emulator_conf) || '/v1.0/communications/callRecords/cafe0000-0000-4000-8000-000000000002?$expand=sessions'));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002'$$);
SELECT * FROM emulator_log();
-- another letter case of the id (and $ unescaped) is the same collection
SELECT emulator_reset();
SELECT emulator_fault(jsonb_build_object('match', (SELECT target FROM pages WHERE page = 1),
         'next_link', (SELECT url FROM emulator_conf) || replace(replace((SELECT target FROM pages WHERE page = 2),
           'callRecords/cafe0000-0000-4000-8000-000000000002', 'callRecords/CAFE0000-0000-4000-8000-000000000002'), '%24', '$')));
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000002';
-- the call record list: its pages stay on the list
SELECT emulator_reset();
SELECT emulator_fault('{"match": "/v1.0/communications/callRecords?$select=id", "next_link": "/v1.0/communications/callRecords/cafe0000-0000-4000-8000-000000000001/sessions"}'::jsonb
  || jsonb_build_object('next_link', (SELECT url FROM emulator_conf) || '/v1.0/communications/callRecords/cafe0000-0000-4000-8000-000000000001/sessions'));
SELECT * FROM expect_error($$SELECT count(*) FROM cr.call_records$$);

-- 8. enum members after unknownFutureValue: asked for with every request
SELECT emulator_reset();
SELECT string_agg(line, '') FROM emulator('PUT', '/_emulator/records/f1de0000-0000-4000-8000-000000000008', $j$
{"version": 1, "type": "peerToPeer", "startDateTime": "2026-11-05T11:00:00Z",
 "sessions": [{"id": "5e55f1de-0000-4000-8000-000000000008",
   "caller": {"userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent", "productFamily": "azureCommunicationServices"}},
   "callee": {"userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent", "productFamily": "teams"}},
   "segments": []}]}
$j$);
SELECT caller_user_agent_product_family, callee_user_agent_product_family, raw->'caller'->'userAgent'->>'productFamily' AS in_raw
  FROM cr.sessions WHERE call_record_id = 'f1de0000-0000-4000-8000-000000000008';

-- 9. columns Graph stopped filling are imported only when asked for
CREATE SCHEMA fid_default;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (call_records, sessions, segments) FROM SERVER graph INTO fid_default;
CREATE SCHEMA fid_deprecated;
CREATE SCHEMA fid_err;
IMPORT FOREIGN SCHEMA callrecords LIMIT TO (call_records, sessions, segments) FROM SERVER graph INTO fid_deprecated
  OPTIONS (include_deprecated 'true');
SELECT c.relname, n.nspname, string_agg(a.attname, ', ' ORDER BY a.attnum)
         FILTER (WHERE a.attname IN ('organizer', 'participants', 'caller_identity', 'callee_identity',
                                     'organizer_v2', 'caller_associated_identity', 'callee_associated_identity')) AS columns
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE n.nspname IN ('fid_default', 'fid_deprecated') GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM expect_error($$IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO fid_err OPTIONS (include_deprecated 'maybe')$$);
SELECT * FROM expect_error($$IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO fid_err OPTIONS (include_deprecate 'true')$$);
DROP SCHEMA fid_default, fid_deprecated, fid_err CASCADE;

-- 5. a path into segments on a sessions table reads them, whatever else the query reads
CREATE FOREIGN TABLE fid_sessions (call_record_id text, session_index int,
    segments jsonb OPTIONS (path 'segments'), first_segment_media jsonb OPTIONS (path 'segments.media'))
  SERVER graph OPTIONS (resource 'sessions');
SELECT session_index, jsonb_array_length(segments) AS segments
  FROM fid_sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004' ORDER BY 1;
SELECT s.session_index, jsonb_array_length(s.segments) AS segments, count(g.*) AS joined
  FROM fid_sessions s JOIN cr.segments g USING (call_record_id, session_index)
 WHERE s.call_record_id = 'cafe0000-0000-4000-8000-000000000004' AND g.call_record_id = 'cafe0000-0000-4000-8000-000000000004'
 GROUP BY 1, 2 ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT session_index FROM fid_sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';
EXPLAIN (COSTS OFF) SELECT segments FROM fid_sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000004';

-- 6. one nesting limit (jansson's 2,048) for pages parsed whole and pruned:
-- a member no column reads (pruning skips it), nested to depth 2048, is
-- read either way; one level deeper, refused either way
CREATE FUNCTION deep_page(depth int, prune text) RETURNS TABLE (prune_pages text, outcome text)
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM emulator_fault(jsonb_build_object('match', 'cafe0000-0000-4000-8000-000000000001',
                                            'body', 'deep-unread', 'depth', depth));
  PERFORM set_config('callrecords_fdw.prune_pages', prune, true);
  prune_pages := prune;
  BEGIN
    SELECT count(*)::text || ' rows' INTO outcome FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
  EXCEPTION WHEN OTHERS THEN
    outcome := 'error ' || SQLSTATE;
  END;
  RETURN NEXT;
END
$f$;
SELECT d AS depth, p.* FROM (VALUES (2048), (2049)) v(d), LATERAL (
  SELECT * FROM deep_page(d, 'on') UNION ALL SELECT * FROM deep_page(d, 'off')) p ORDER BY 1, 2;
SELECT count(*) AS deep_requests FROM emulator_log() l WHERE l LIKE 'GET %cafe0000-0000-4000-8000-000000000001%';
SELECT emulator_reset();
