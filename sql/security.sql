--
-- Privileges and secrets: only superusers point the wrapper at hosts other
-- than Microsoft's; user mapping options stay private; no message carries
-- a secret or token.
--
CREATE ROLE regress_cr_user LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER callrecords_fdw TO regress_cr_user;
SET ROLE regress_cr_user;
-- a non-superuser may use the documented Microsoft hosts
CREATE SERVER user_graph FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'https://graph.microsoft.us', login_url 'https://login.microsoftonline.us');
-- but no other host (the database server would reach it for them)
SELECT * FROM expect_error($$CREATE SERVER user_emu FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'http://127.0.0.1:9')$$);
SELECT * FROM expect_error($$ALTER SERVER user_graph OPTIONS (SET login_url 'https://login.example.com')$$);
CREATE USER MAPPING FOR regress_cr_user SERVER user_graph
  OPTIONS (client_id 'user-app', client_secret 'user-secret');
-- the owner sees its own mapping's options
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'user_graph';
RESET ROLE;

-- another non-superuser sees neither that secret nor the suite's
CREATE ROLE regress_cr_other LOGIN;
SET ROLE regress_cr_other;
SELECT srvname, usename, umoptions FROM pg_user_mappings
 WHERE srvname IN ('user_graph', 'graph') ORDER BY 1;
RESET ROLE;

-- a plain EXPLAIN needs no user mapping and sends nothing (no token
-- request); running the query does need one
GRANT USAGE ON SCHEMA cr TO regress_cr_other;
GRANT SELECT ON cr.sessions TO regress_cr_other;
SELECT emulator_reset();
SET ROLE regress_cr_other;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';
SELECT code, message FROM expect_error($$SELECT count(*) FROM cr.sessions WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
RESET ROLE;
SELECT count(*) AS requests FROM emulator_log();
REVOKE ALL ON cr.sessions FROM regress_cr_other;
REVOKE ALL ON SCHEMA cr FROM regress_cr_other;

-- a token request that fails names neither the secret nor a token (and
-- scripts/test.sh greps the server log of the whole suite for them)
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'sup3r-s3cret-value');
SELECT code, message ~ 's3cret|Bearer|eyJ' OR coalesce(detail, '') ~ 's3cret|Bearer|eyJ'
       OR coalesce(hint, '') ~ 's3cret|Bearer|eyJ' AS leaks_secret, detail
  FROM expect_error($$SELECT * FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001'$$);
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
SELECT count(*) FROM cr.streams WHERE call_record_id = 'cafe0000-0000-4000-8000-000000000001';

DROP SERVER user_graph CASCADE;
DROP ROLE regress_cr_other;
DROP OWNED BY regress_cr_user;
DROP ROLE regress_cr_user;

-- a CA bundle and a proxy for corporate networks: superuser only, checked
ALTER SERVER graph OPTIONS (ADD ca_file 'relative/ca.pem');
ALTER SERVER graph OPTIONS (ADD proxy 'ftp://proxy');
CREATE SERVER proxied FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', ca_file '/etc/ssl/certs/ca-certificates.crt', proxy 'http://127.0.0.1:9');
CREATE ROLE regress_cr_user2 LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER callrecords_fdw TO regress_cr_user2;
SET ROLE regress_cr_user2;
SELECT * FROM expect_error($$CREATE SERVER user_proxied FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', proxy 'http://127.0.0.1:9')$$);
RESET ROLE;
-- requests go through the proxy the server names: the connection to it is
-- refused (nothing listens on 127.0.0.1:9); Graph itself is never reached
CREATE USER MAPPING FOR CURRENT_USER SERVER proxied OPTIONS (client_id 'a', client_secret 'b');
CREATE FOREIGN TABLE proxied_calls (id text) SERVER proxied OPTIONS (resource 'call_records');
SELECT code, message FROM expect_error($$SELECT * FROM proxied_calls WHERE id = 'x'$$);
DROP SERVER proxied CASCADE;
DROP OWNED BY regress_cr_user2;
DROP ROLE regress_cr_user2;
