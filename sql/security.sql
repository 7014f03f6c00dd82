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
