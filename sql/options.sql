--
-- Option validation: every mistake is rejected when it is written, with
-- the SQLSTATE for an unknown name (HV00D), a bad value (HV024) or a
-- missing required option (HV00J), and a hint naming what is valid.
--
\set VERBOSITY default

-- server: required tenant_id, unknown names, bad values
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw;
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', host 'x');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', api_version 'v2');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso/../x');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id '');
-- a token must never travel in clear text except to loopback
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'http://graph.microsoft.com');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', login_url 'http://10.1.2.3:8080');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'ftp://127.0.0.1');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'graph.microsoft.com');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'https://graph.microsoft.com/v1.0');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'https://user:pw@graph.microsoft.com');
CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'contoso', graph_url 'https://graph.microsoft.com?x=1');
-- accepted: https anywhere, http on loopback (127.0.0.0/8, ::1, localhost), national clouds, beta
CREATE SERVER ok1 FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso.onmicrosoft.com', graph_url 'https://graph.microsoft.us/', login_url 'https://login.microsoftonline.us', api_version 'beta');
CREATE SERVER ok2 FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'dc368399-474c-4d40-900c-6265431fd81f', graph_url 'http://127.8.9.10:8080', login_url 'http://[::1]:9000');
CREATE SERVER ok3 FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'http://localhost:1234');
-- ALTER is checked on the resulting option list
ALTER SERVER ok1 OPTIONS (DROP tenant_id);
ALTER SERVER ok1 OPTIONS (SET api_version 'v3');
ALTER SERVER ok1 OPTIONS (SET api_version 'v1.0');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 'ok%' ORDER BY 1;

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'x');

-- user mapping: client_id and client_secret required
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1;
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (client_id 'a');
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (client_id 'a', client_secret 's', tenant_id 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (client_id '', client_secret 's');
CREATE USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (client_id 'a', client_secret 's');
ALTER USER MAPPING FOR CURRENT_USER SERVER ok1 OPTIONS (DROP client_secret);

-- foreign table: resource required and known
CREATE FOREIGN TABLE ft_bad (call_record_id text) SERVER ok1;
CREATE FOREIGN TABLE ft_bad (call_record_id text) SERVER ok1 OPTIONS (resource 'calls');
CREATE FOREIGN TABLE ft_bad (call_record_id text) SERVER ok1 OPTIONS (resource 'streams', tenant_id 'x');
CREATE FOREIGN TABLE ft_ok (call_record_id text) SERVER ok1 OPTIONS (resource 'streams');
ALTER FOREIGN TABLE ft_ok OPTIONS (SET resource 'sessions');
ALTER FOREIGN TABLE ft_ok OPTIONS (SET resource 'segment');
-- column option "path": a dotted Graph property path
ALTER FOREIGN TABLE ft_ok ALTER COLUMN call_record_id OPTIONS (path 'id');
ALTER FOREIGN TABLE ft_ok ALTER COLUMN call_record_id OPTIONS (SET path 'caller..name');
ALTER FOREIGN TABLE ft_ok ALTER COLUMN call_record_id OPTIONS (SET path '.name');
ALTER FOREIGN TABLE ft_ok ALTER COLUMN call_record_id OPTIONS (SET path '');
ALTER FOREIGN TABLE ft_ok ALTER COLUMN call_record_id OPTIONS (ADD resource 'x');

-- the SQLSTATEs
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', port '1')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', graph_url 'http://example.com')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (graph_url 'https://example.com')$$);
-- whole numbers are decimal digits: a leading zero is not octal (0101 is
-- 101, over max_retries' 100, not 65), no hex, exponent or spaces; digits
-- past int's range are over the maximum
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', max_retries '0101')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', max_response_bytes '0x10')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', max_requests '1e3')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', max_retries ' 3')$$);
SELECT * FROM expect_error($$CREATE SERVER bad FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', max_retries '99999999999999999999')$$);
CREATE SERVER ok4 FOREIGN DATA WRAPPER callrecords_fdw OPTIONS (tenant_id 'c', rate_window '10', max_retries '0');
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'ok4';
DROP SERVER ok4;

DROP SERVER ok1, ok2, ok3 CASCADE;
