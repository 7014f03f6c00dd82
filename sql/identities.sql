--
-- The machine's identities: managed identity (the Instance Metadata Service's
-- form and App Service's) and workload identity federation (a token file).
-- Only a superuser chooses them.  The endpoint is the emulator on loopback
-- (callrecords_fdw.identity_endpoint); nothing is sent to 169.254.169.254.
--
\set VERBOSITY default
\getenv emulator_url CR_EMULATOR_URL
CREATE SERVER graph_mi FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url');
CREATE FOREIGN TABLE mi_calls (id text) SERVER graph_mi OPTIONS (resource 'call_records');
-- the log of the emulator's sign-in requests, its port masked
CREATE FUNCTION signin_log() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(line, '(127\.0\.0\.1(:|%3A))[0-9]+', '\1PORT', 'g')
    FROM emulator_log() AS l(line) WHERE line !~ '/v1.0/' $$;
-- errors with the varying parts masked
CREATE FUNCTION mi_error() RETURNS TABLE (code text, message text, detail text, hint text) LANGUAGE sql AS $f$
  SELECT code, message,
         regexp_replace(regexp_replace(detail, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}Z', '<time>', 'g'),
                        '127\.0\.0\.1:[0-9]+', '127.0.0.1:PORT', 'g'), hint
    FROM expect_error($$SELECT id FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$) $f$;

-- only a superuser chooses a machine identity, or its endpoint
CREATE ROLE regress_mi_user LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER callrecords_fdw TO regress_mi_user;
GRANT USAGE ON FOREIGN SERVER graph_mi TO regress_mi_user;
SET ROLE regress_mi_user;
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (auth 'managed_identity')$$);
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (auth 'workload_identity')$$);
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (client_id 'test-client', client_secret 's', federated_token_file '/tmp/x')$$);
SELECT code FROM expect_error($$SET callrecords_fdw.identity_endpoint = 'http://127.0.0.1:9/metadata/identity/oauth2/token'$$);
SELECT code FROM expect_error($$SHOW callrecords_fdw.identity_header$$);
RESET ROLE;
-- a superuser's mapping for the role: the role may not alter it
CREATE USER MAPPING FOR regress_mi_user SERVER graph_mi OPTIONS (auth 'managed_identity');
SET ROLE regress_mi_user;
SELECT * FROM expect_error($$ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (ADD managed_identity_client_id 'other')$$);
RESET ROLE;
DROP USER MAPPING FOR regress_mi_user SERVER graph_mi;
-- the options that go together
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (auth 'machine')$$);
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (auth 'managed_identity', client_id 'test-client')$$);
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (auth 'managed_identity', managed_identity_client_id 'a', managed_identity_object_id 'b')$$);
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (client_id 'test-client', client_secret 's', managed_identity_client_id 'a')$$);
-- the endpoint is http on the link-local or a loopback address, nothing else
SELECT * FROM expect_error($$SET callrecords_fdw.identity_endpoint = 'http://10.1.2.3/metadata/identity/oauth2/token'$$);
SELECT * FROM expect_error($$SET callrecords_fdw.identity_endpoint = 'https://login.example.com/token'$$);
SET callrecords_fdw.identity_endpoint = 'http://169.254.169.254/metadata/identity/oauth2/token';

-- the Instance Metadata Service's form: "Metadata: true", numbers as strings
SELECT format('%s/metadata/identity/oauth2/token', :'emulator_url') AS imds,
       format('%s/msi/token', :'emulator_url') AS app_service \gset
SET callrecords_fdw.identity_endpoint = :'imds';
CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (auth 'managed_identity');
SELECT emulator_reset();
SELECT id FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM signin_log();
-- the Metadata Service's 410 (it restarts) and 404 (no token yet) are asked again
SELECT emulator_fault('{"match": "/metadata/identity/", "status": 410, "times": 1}');
SELECT emulator_fault('{"match": "/metadata/identity/", "status": 404, "times": 1}');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM signin_log();
SELECT emulator_reset();
-- a user-assigned identity, by client id, object id or resource id; one the
-- machine does not have
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  '{"user_identities": [{"client_id": "uami-client", "object_id": "uami-object", "resource_id": "/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami"}]}');
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (ADD managed_identity_client_id 'uami-client');
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (DROP managed_identity_client_id, ADD managed_identity_resource_id '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami');
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (DROP managed_identity_resource_id, ADD managed_identity_object_id 'someone-else');
SELECT * FROM mi_error();
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (DROP managed_identity_object_id);
SELECT * FROM signin_log();
-- two identities never share a token: the role with the user-assigned one
-- signs in itself after the superuser's system-assigned token was taken
CREATE USER MAPPING FOR regress_mi_user SERVER graph_mi
  OPTIONS (auth 'managed_identity', managed_identity_client_id 'uami-client');
GRANT SELECT ON mi_calls TO regress_mi_user;
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT emulator_reset();
SET ROLE regress_mi_user;
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
RESET ROLE;
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM signin_log();
DROP USER MAPPING FOR regress_mi_user SERVER graph_mi;

-- App Service's form: X-IDENTITY-HEADER, api-version 2019-08-01, only
-- expires_on; a wrong header is refused and never shown
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"identity_header": "id-header-s3cret"}');
SET callrecords_fdw.identity_endpoint = :'app_service';
SET callrecords_fdw.identity_header = 'id-header-s3cret';
SELECT emulator_reset();
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (ADD managed_identity_resource_id '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami');
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM signin_log();
SET callrecords_fdw.identity_header = 'id-header-wrong';
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT e.*, concat_ws(' ', e.message, e.detail, e.hint) ~ 'id-header' AS leaks FROM mi_error() e;
-- the Metadata Service refuses a request without "Metadata: true" (here an
-- App Service header sent to it)
SET callrecords_fdw.identity_endpoint = :'imds';
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT * FROM mi_error();
RESET callrecords_fdw.identity_header;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (DROP managed_identity_resource_id);

-- the identity endpoint is reached directly, never through the server's
-- proxy (nothing listens on 127.0.0.1:9): the token comes, Graph's request
-- then fails at the proxy
ALTER SERVER graph_mi OPTIONS (ADD proxy 'http://127.0.0.1:9');
SELECT emulator_reset();
SELECT code, message FROM mi_error();
SELECT * FROM signin_log();
ALTER SERVER graph_mi OPTIONS (DROP proxy);
DROP USER MAPPING FOR CURRENT_USER SERVER graph_mi;
RESET callrecords_fdw.identity_endpoint;

-- workload identity: the assertion is the token file's content, read anew
-- at each sign-in, as the issuer rotates it
CREATE TEMP TABLE tmpdir (path text);
COPY tmpdir FROM PROGRAM 'mktemp -d /tmp/cr_wi.XXXXXX';
SELECT path || '/token' AS token_file, path || '/stale' AS stale_file, path AS dir FROM tmpdir \gset
COPY (SELECT 'fed-token-one') TO :'token_file';
-- the emulator (the test's OS user) reads the file too
CREATE FUNCTION readable() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  d text := (SELECT path FROM tmpdir);
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', format('cat > /dev/null; chmod 755 %s && chmod 644 %s/*', d, d));
END $$;
SELECT readable();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  json_build_object('federated_token_file', :'token_file')::text);
CREATE USER MAPPING FOR CURRENT_USER SERVER graph_mi
  OPTIONS (auth 'workload_identity', client_id 'test-client', federated_token_file :'token_file');
SELECT emulator_reset();
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
-- the file rotates; the next sign-in sends the new content
COPY (SELECT 'fed-token-one') TO :'stale_file';
COPY (SELECT 'fed-token-two') TO :'token_file';
SELECT readable();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT count(*) FROM mi_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT * FROM signin_log();
-- a stale copy (the token before the rotation) is refused as expired
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (SET federated_token_file :'stale_file');
SELECT e.*, concat_ws(' ', e.message, e.detail, e.hint) ~ 'fed-token' AS leaks FROM mi_error() e;
-- an empty or missing file
COPY (SELECT '') TO :'stale_file';
SELECT code, replace(message, :'dir', '<dir>') AS message, hint FROM mi_error();
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_mi OPTIONS (SET federated_token_file '/nonexistent/token');
SELECT code, message, hint FROM mi_error();
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"federated_token_file": null}');

DROP SERVER graph_mi CASCADE;
DROP OWNED BY regress_mi_user;
DROP ROLE regress_mi_user;
DROP FUNCTION mi_error();
DROP FUNCTION signin_log();
DROP FUNCTION readable();
SELECT format('cat > /dev/null; rm -rf %s', :'dir') AS rm \gset
COPY (SELECT 1) TO PROGRAM :'rm';
