--
-- Hardening (issue 14): hostile input is refused or named as nothing,
-- work on large inputs stays interruptible, limits are bounded.
--
\set VERBOSITY terse
SELECT emulator_reset();

-- the lines of a plain EXPLAIN, for counting and picking
CREATE FUNCTION explain_lines(q text) RETURNS TABLE (n bigint, line text) LANGUAGE plpgsql AS $$
DECLARE r text; i bigint := 0;
BEGIN
  FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    i := i + 1; n := i; line := r; RETURN NEXT;
  END LOOP;
END $$;

-- 1. de-duplicating a large id array is O(n log n) and keeps first-seen
-- order: 60,000 ids (50,000 distinct) within a 5 s statement_timeout
-- (pairwise, this took 14 s and ignored the timeout)
CREATE TEMP TABLE big_ids AS
  SELECT array_agg('id' || (g % 50000) ORDER BY g) AS a FROM generate_series(1, 60000) g;
SET statement_timeout = '5s';
SELECT count(*) AS requests,
       min(n) FILTER (WHERE line LIKE '%/callRecords/id1?%') AS first_at,
       max(n) FILTER (WHERE line LIKE '%/callRecords/id49999?%') AS id49999_at,
       max(n) FILTER (WHERE line LIKE '%/callRecords/id0?%') AS id0_at
  FROM explain_lines(format('SELECT id FROM cr.call_records WHERE id = ANY(%L::text[])',
                            (SELECT a FROM big_ids)))
 WHERE line LIKE '%Graph request: GET%';
-- the scan de-duplicates as fast, then fails before sending: 50,000 ids exceed the budget
SELECT * FROM expect_error(format('SELECT count(*) FROM cr.call_records WHERE id = ANY(%L::text[])',
                                  (SELECT a || a FROM big_ids)));
RESET statement_timeout;
-- first-seen order of a small list, repeats dropped
SELECT line FROM explain_lines($$SELECT id FROM cr.call_records
  WHERE id IN ('cafe0000-0000-4000-8000-000000000002', 'cafe0000-0000-4000-8000-000000000001',
               'cafe0000-0000-4000-8000-000000000002', 'cafe0000-0000-4000-8000-000000000003',
               'cafe0000-0000-4000-8000-000000000001')$$)
 WHERE line LIKE '%Graph request%';

-- 3. ids that would be URL dot segments name no call record: no request
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE id IN ('.', '..', '');
SELECT count(*) FROM cr.sessions WHERE call_record_id = '..';
SELECT count(*) FROM cr.streams WHERE call_record_id = '.';
SELECT count(*) FROM cr.call_records WHERE id = ANY(ARRAY['', 'cafe0000-0000-4000-8000-000000000001', '..']);
SELECT l FROM emulator_log() l WHERE l LIKE 'GET %';
SELECT line FROM explain_lines($$SELECT * FROM cr.call_records WHERE id IN ('.', '..', '')$$)
 WHERE line LIKE '%Graph request%';
-- tenant_id is a GUID or a domain name
SELECT * FROM expect_error($$CREATE SERVER bad_tenant FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id '..')$$);
SELECT * FROM expect_error($$CREATE SERVER bad_tenant FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id '.')$$);
SELECT * FROM expect_error($$CREATE SERVER bad_tenant FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso..com')$$);
SELECT * FROM expect_error($$CREATE SERVER bad_tenant FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id '-contoso.com')$$);
CREATE SERVER ok_tenant1 FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso.onmicrosoft.com');
CREATE SERVER ok_tenant2 FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id '72F988BF-86f1-41af-91ab-2d7cd011db47');
DROP SERVER ok_tenant1, ok_tenant2;

-- 5. whole-number options have a greatest value too (not XX000 later)
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '2000000000')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD record_rate_limit '1000001')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD max_response_bytes '268435457')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD max_concurrency '101')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD max_requests '1000001')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD request_timeout '86401')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD rate_window '3601')$$);
ALTER SERVER graph OPTIONS (ADD tenant_rate_limit '1000000', ADD max_response_bytes '268435456');
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER SERVER graph OPTIONS (DROP tenant_rate_limit, DROP max_response_bytes);
-- a proxy URL with credentials is refused (server options are widely
-- readable); the credentials go into the user mapping
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD proxy 'http://alice:s3cret@proxy.example.com:3128')$$);
SELECT * FROM expect_error($$ALTER SERVER graph OPTIONS (ADD proxy 'http://alice@proxy.example.com')$$);
CREATE SERVER proxied FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', proxy 'http://proxy.example.com:3128/');
CREATE USER MAPPING FOR CURRENT_USER SERVER proxied
  OPTIONS (client_id 'x', client_secret 'y', proxy_user 'alice', proxy_password 's3cret');
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'proxied';
DROP SERVER proxied CASCADE;

-- 6. the request budget is per statement, also for the statements of one
-- query string (\; sends them in one simple-protocol message): each of
-- these needs 3 of the 4 requests allowed
ALTER SERVER graph OPTIONS (ADD max_requests '4');
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE id IN ('cafe0000-0000-4000-8000-000000000001', 'cafe0000-0000-4000-8000-000000000002', 'cafe0000-0000-4000-8000-000000000003') \; SELECT count(*) FROM cr.call_records WHERE id IN ('cafe0000-0000-4000-8000-000000000004', 'cafe0000-0000-4000-8000-000000000005', 'cafe0000-0000-4000-8000-000000000006');
SELECT count(*) AS gets FROM emulator_log() l WHERE l LIKE 'GET %';
ALTER SERVER graph OPTIONS (DROP max_requests);

-- 4. the token endpoint's answers are judged too (each part after an
-- ALTER USER MAPPING, which drops the cached tokens, the cluster's too)
\set drop_tokens 'ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret ''test-secret'')'
:drop_tokens;
SELECT emulator_reset();
-- a CR/LF in the token would be sent as header lines: refused
SELECT emulator_fault('{"match": "oauth2", "body": "token-crlf"}');
SELECT * FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT count(*) FILTER (WHERE l LIKE 'GET %') AS gets FROM emulator_log() l;
-- throttled, unavailable, dropped: retried as Graph requests are
:drop_tokens;
SELECT emulator_reset();
SELECT emulator_fault('[{"match": "oauth2", "status": 429, "retry_after": 0},
                        {"match": "oauth2", "status": 503, "retry_after": 0},
                        {"match": "oauth2", "body": "disconnect"}]');
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT regexp_replace(l, ' /.*/oauth2/', ' /{tenant}/oauth2/') FROM emulator_log() l;
-- a lifetime near the int64 maximum: clamped, the token is kept
:drop_tokens;
SELECT emulator_reset();
SELECT emulator_fault('{"match": "oauth2", "body": "token-huge-expiry"}');
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000002';
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000003';
SELECT count(*) FILTER (WHERE l LIKE 'POST %') AS token_requests,
       count(*) FILTER (WHERE l LIKE 'GET %') AS gets FROM emulator_log() l;
-- an endpoint that quotes the secret: its text is left out of the message
:drop_tokens;
SELECT emulator_reset();
SELECT emulator_fault('{"match": "oauth2", "body": "echo-secret"}');
SELECT code, message, detail, detail LIKE '%test-secret%' AS leaks
  FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$);
-- an ordinary Entra error keeps its text
SELECT emulator_fault('{"match": "oauth2", "status": 400, "message": "Tenant not found."}');
SELECT code, detail FROM expect_error($$SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$);
SELECT emulator_reset();

-- 2. a page of tiny values would take the backend to twenty times its
-- size and more: its tree is bounded (ten times the page, and 16 MB), and
-- the page refused; a page of Graph's shape is read
SELECT emulator_fault('{"match": "b16a0000", "body": "tiny-values", "times": 2}');
SELECT code, regexp_replace(message, '[0-9]+', 'N', 'g') AS message
  FROM expect_error($$SELECT count(*), sum(length(raw::text)) FROM cr.sessions WHERE call_record_id = 'b16a0000-0000-4000-8000-000000000031'$$);
-- pruned, the same page is small and read: 1 session
SELECT count(*) FROM cr.sessions WHERE call_record_id = 'b16a0000-0000-4000-8000-000000000031';
SELECT emulator_reset();
