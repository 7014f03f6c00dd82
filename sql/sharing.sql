--
-- What the backends of the cluster share (shared.c): the access token of
-- an application and Graph's rate windows.  The suite runs with the
-- library in shared_preload_libraries on 15 and 16 (scripts/test.sh) and
-- with the DSM registry on 17 and later.
--
CREATE ROLE regress_cr_sharing LOGIN;
GRANT USAGE ON FOREIGN SERVER graph TO regress_cr_sharing;
GRANT USAGE ON SCHEMA cr TO regress_cr_sharing;
GRANT SELECT ON cr.call_records TO regress_cr_sharing;
-- the same application, another secret
CREATE USER MAPPING FOR regress_cr_sharing SERVER graph
  OPTIONS (client_id 'test-client', client_secret 'another-secret');

-- 1. one login for the backends of an application: the ALTER drops
-- every cached token first
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT emulator_reset();
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000001';
\c
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000002';
-- a role whose mapping has another secret never gets that token: it logs in
SET ROLE regress_cr_sharing;
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000003';
RESET ROLE;
\c
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000004';
SELECT count(*) FILTER (WHERE l LIKE 'POST %/oauth2/v2.0/token 200') AS token_requests,
       count(*) FILTER (WHERE l LIKE 'GET %') AS gets FROM emulator_log() l;

-- 2. Graph's window of the application and tenant, shared: this backend
-- fills it (two requests in 5 s)...
ALTER SERVER graph OPTIONS (ADD rate_window '5', ADD tenant_rate_limit '2');
SELECT count(*) FROM cr.call_records
 WHERE id IN ('cafe0000-0000-4000-8000-000000000005', 'cafe0000-0000-4000-8000-000000000006');
\c
-- ...and the next backend's first request waits for it
SELECT * FROM explain_analyze($$
SELECT id FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000007'$$);
SELECT throttled FROM jsonb_to_record(
  (SELECT string_agg(line, '')::jsonb FROM emulator('GET', '/_emulator/stats'))) AS s(throttled int);
ALTER SERVER graph OPTIONS (DROP rate_window, DROP tenant_rate_limit);

-- 3. a backend that ends (terminated) while it fetches the token frees
-- its claim on the way out: the next backend logs in at once instead of
-- waiting out the 30 s the claim lasts (statement_timeout would end it)
CREATE FUNCTION waiting_backend(marker text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  p int;
BEGIN
  FOR i IN 1..600 LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid INTO p FROM pg_stat_activity
     WHERE query LIKE '%' || marker || '%' AND pid <> pg_backend_pid() AND wait_event_type = 'Extension';
    IF p IS NOT NULL THEN RETURN p; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN NULL;
END $$;
-- (the rate windows off: only the claim may hold a request up here)
ALTER SERVER graph OPTIONS (ADD record_rate_limit '0', ADD tenant_rate_limit '0');
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT emulator_reset();
SELECT emulator_fault('{"match": "oauth2", "stall_ms": 5000, "times": 1}');
\setenv PGDATABASE :DBNAME
\! psql -X -q -c "SELECT /* token fetcher */ count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000047'" > /dev/null 2>&1 &
SELECT pg_terminate_backend(waiting_backend('token fetcher'), 20000) AS terminated;
SET statement_timeout = '20s';
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000048';
RESET statement_timeout;

-- 4. a client that goes away while its backend waits for the token: the
-- backend sees it (client_connection_check_interval) and ends, instead of
-- waiting out the token endpoint's 60 s
CREATE FUNCTION backend_gone(marker text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM pg_stat_clear_snapshot();
    IF NOT EXISTS (SELECT FROM pg_stat_activity
                    WHERE query LIKE '%' || marker || '%' AND pid <> pg_backend_pid()) THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT emulator_reset();
SELECT emulator_fault('{"match": "oauth2", "stall_ms": 60000, "times": 1}');
\! PGOPTIONS='-c client_connection_check_interval=100' psql -X -q -c "SELECT /* lost client */ count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000047'" > /dev/null 2>&1 & echo $! > /tmp/cr_regress_lost_client.pid
SELECT waiting_backend('lost client') IS NOT NULL AS waiting;
\! kill -9 $(cat /tmp/cr_regress_lost_client.pid); rm -f /tmp/cr_regress_lost_client.pid
SELECT backend_gone('lost client') AS gone;
SELECT emulator_reset();
ALTER SERVER graph OPTIONS (DROP record_rate_limit, DROP tenant_rate_limit);

DROP USER MAPPING FOR regress_cr_sharing SERVER graph;
DROP OWNED BY regress_cr_sharing;
DROP ROLE regress_cr_sharing;
