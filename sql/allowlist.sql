--
-- The allow-list of hosts a non-superuser may name (option.c): Microsoft's
-- documented hosts, over https, on port 443 (given or implied).  The host
-- alone is not enough: another port reaches whatever listens there.
--
CREATE ROLE regress_cr_allow LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER callrecords_fdw TO regress_cr_allow;
SET ROLE regress_cr_allow;
-- port 443, implied or explicit, and the host in any letter case
CREATE SERVER allow_a FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'https://graph.microsoft.com:443',
           login_url 'https://LOGIN.microsoftonline.com');
ALTER SERVER allow_a OPTIONS (SET graph_url 'https://graph.microsoft.com:443/');
-- another port of a documented host is refused, for both URLs
SELECT * FROM expect_error($$CREATE SERVER allow_b FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'https://graph.microsoft.com:8443')$$);
SELECT * FROM expect_error($$ALTER SERVER allow_a OPTIONS (SET login_url 'https://login.microsoftonline.com:444')$$);
SELECT * FROM expect_error($$ALTER SERVER allow_a OPTIONS (SET graph_url 'https://graph.microsoft.us:80')$$);
-- plain http to a documented host: refused as before (not loopback)
SELECT * FROM expect_error($$ALTER SERVER allow_a OPTIONS (SET graph_url 'http://graph.microsoft.com:443')$$);
-- nothing was changed by the refusals
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'allow_a';
RESET ROLE;
-- a superuser may name any port
ALTER SERVER allow_a OPTIONS (SET graph_url 'https://graph.microsoft.com:8443');
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'allow_a';
DROP SERVER allow_a;
REVOKE USAGE ON FOREIGN DATA WRAPPER callrecords_fdw FROM regress_cr_allow;
DROP ROLE regress_cr_allow;
