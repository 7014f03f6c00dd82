--
-- Certificate credentials (OAuth2 client assertion, private_key_jwt): the
-- certificate and key in the user mapping, or in a superuser's file (PEM or
-- PKCS#12).  The keys and certificates are made now with openssl, valid from
-- now; the emulator registers certificate A and checks each assertion as
-- Entra does.  No key, password or assertion reaches a message.
--
\set VERBOSITY default
\getenv emulator_url CR_EMULATOR_URL
-- a directory of the server's OS user, and a shell for openssl (which
-- reads COPY's row first: a program gone before the row is written makes
-- COPY fail with a broken pipe)
CREATE TEMP TABLE tmpdir (path text);
COPY tmpdir FROM PROGRAM 'mktemp -d /tmp/cr_certs.XXXXXX';
SELECT path AS dir FROM tmpdir \gset
CREATE FUNCTION sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 'cat > /dev/null; cd ' || (SELECT path FROM tmpdir) || ' && (' || cmd || ') > /dev/null 2>&1');
END $$;
SELECT sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout a.key -out a.crt -days 2 -subj /CN=cr-test-a');
SELECT sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout b.key -out b.crt -days 2 -subj /CN=cr-test-b');
SELECT sh('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ec.key -out ec.crt -days 2 -subj /CN=cr-test-ec');
-- a certificate that expired yesterday (openssl req takes no past dates)
SELECT sh($$python3 -c '
import datetime as d
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization as s
from cryptography.hazmat.primitives.asymmetric import rsa
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cr-test-old")])
t = d.datetime.utcnow()
c = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(k.public_key())
     .serial_number(1).not_valid_before(t - d.timedelta(days=2)).not_valid_after(t - d.timedelta(days=1))
     .sign(k, hashes.SHA256()))
open("old.crt", "wb").write(c.public_bytes(s.Encoding.PEM))
open("old.key", "wb").write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
'$$);
SELECT sh('openssl pkcs8 -topk8 -in a.key -out a_enc.key -passout pass:key-pass-123');
SELECT sh('cat a.crt a.key > a.pem');
SELECT sh('openssl pkcs12 -export -in a.crt -inkey a.key -out a.p12 -passout pass:pfx-pass-123');
SELECT sh('openssl pkcs12 -export -legacy -in a.crt -inkey a.key -out a_legacy.p12 -passout pass:pfx-pass-123');
SELECT pg_read_file(:'dir' || '/a.crt') AS a_crt, pg_read_file(:'dir' || '/a.key') AS a_key,
       pg_read_file(:'dir' || '/a_enc.key') AS a_enc_key,
       pg_read_file(:'dir' || '/b.crt') AS b_crt, pg_read_file(:'dir' || '/b.key') AS b_key,
       pg_read_file(:'dir' || '/ec.crt') AS ec_crt, pg_read_file(:'dir' || '/ec.key') AS ec_key,
       pg_read_file(:'dir' || '/old.crt') AS old_crt, pg_read_file(:'dir' || '/old.key') AS old_key,
       :'dir' || '/a.pem' AS a_pem, :'dir' || '/a.p12' AS a_p12, :'dir' || '/a_legacy.p12' AS a_legacy_p12,
       :'dir' || '/missing.pem' AS missing_pem \gset
-- the app registration knows certificate A
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config',
  json_build_object('client_certificates', json_build_array(:'a_crt'))::text);

CREATE SERVER graph_cert FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url');
CREATE FOREIGN TABLE cert_calls (id text) SERVER graph_cert OPTIONS (resource 'call_records');
-- the errors of a query, with Entra's times and thumbprints masked
CREATE FUNCTION cert_error(q text DEFAULT $$SELECT id FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$)
RETURNS TABLE (code text, message text, detail text, hint text) LANGUAGE sql AS $$
  SELECT code, message,
         regexp_replace(regexp_replace(detail, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}Z', '<time>', 'g'),
                        '''[0-9A-F]{40,64}''', '<thumbprint>', 'g'),
         hint
    FROM expect_error(q) $$;
-- whether any error text holds a key, a password or an assertion
CREATE FUNCTION leaks(t text) RETURNS boolean LANGUAGE sql AS $$
  SELECT t ~ '(PRIVATE KEY|BEGIN CERT|key-pass|pfx-pass|eyJ|client_assertion=)' $$;

-- the options: a certificate and its key go together, one credential per
-- mapping, PEM text only, and the value is never echoed
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate 'x')$$);
SELECT * FROM expect_error(format($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate %L)$$, :'a_crt'));
SELECT * FROM expect_error(format($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate %L, client_private_key 'not a key')$$, :'a_crt'));
SELECT * FROM expect_error(format($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_secret 's', client_certificate %L, client_private_key %L)$$, :'a_crt', :'a_key'));
SELECT * FROM expect_error(format($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_secret 's', client_private_key_password 'p')$$));
SELECT * FROM expect_error($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate_file 'a.pem')$$);
CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate :'a_crt', client_private_key :'a_key');

-- sign in with certificate A: the assertion Microsoft documents (PS256,
-- x5t#S256, aud the token URL, iss = sub = client id, nbf = iat, 5 minutes)
SELECT emulator_reset();
SELECT id FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT regexp_replace(line, ':[0-9]+', ':PORT', 'g') AS request FROM emulator_log() AS l(line);
SELECT jsonb_pretty(string_agg(line, '')::jsonb) AS assertion FROM emulator('GET', '/_emulator/signin');
-- neither the plan nor EXPLAIN ANALYZE shows the credential
CREATE FUNCTION plan_text(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    RETURN NEXT l;
  END LOOP;
END $$;
SELECT count(*) > 0 AS lines, bool_or(leaks(l)) AS leaks
  FROM plan_text($$SELECT id FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$) l;
SELECT count(*) > 0 AS lines, bool_or(leaks(l."QUERY PLAN")) AS leaks
  FROM explain_analyze($$SELECT id FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001'$$) l;
DROP FUNCTION plan_text(text);
-- the same assertion sent again is refused (a replayed jti)
SELECT string_agg(line, '') AS replay FROM emulator('POST', '/_emulator/signin/replay');
-- each sign-in makes a fresh assertion: two more, both accepted
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT count(*) FILTER (WHERE line ~ '^POST /contoso/oauth2/v2.0/token 200') AS sign_ins,
       count(*) FILTER (WHERE line ~ '^POST /contoso/oauth2/v2.0/token [^2]') AS refused
  FROM emulator_log() AS l(line);
-- a token endpoint that quotes the assertion back: that text is left out
SELECT emulator_fault('{"match": "/oauth2/", "body": "echo-secret", "times": 1}');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"revoke_tokens": true}');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;

-- an encrypted key with its password; without it, or with a wrong one
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_private_key :'a_enc_key', ADD client_private_key_password 'key-pass-123');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert OPTIONS (SET client_private_key_password 'wrong');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert OPTIONS (DROP client_private_key_password);
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;

-- a wrong key: B's key with A's certificate is refused before anything is sent
SELECT emulator_reset();
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert OPTIONS (SET client_private_key :'b_key');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
-- a key that is not RSA (PS256 signs with RSA)
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate :'ec_crt', SET client_private_key :'ec_key');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
-- a certificate past its validity
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate :'old_crt', SET client_private_key :'old_key');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
-- none of these sent anything
SELECT count(*) AS requests FROM emulator_log();

-- a wrong thumbprint: certificate B and its key, not uploaded to the app
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate :'b_crt', SET client_private_key :'b_key');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;

-- an expired assertion: Entra's clock an hour ahead of the server's
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate :'a_crt', SET client_private_key :'a_key');
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"clock_skew_s": 3600}');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
-- and one not valid yet: Entra's clock an hour behind
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"clock_skew_s": -3600}');
SELECT e.code, e.detail ~ 'AADSTS700024' AS not_in_time, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
SELECT string_agg(line, '') FROM emulator('POST', '/_emulator/config', '{"clock_skew_s": 0}');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';

-- the superuser's file form: a PEM bundle, PKCS#12, and PKCS#12 of an older
-- tool (RC2-40, read with OpenSSL's legacy provider)
DROP USER MAPPING FOR CURRENT_USER SERVER graph_cert;
CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate_file :'a_pem');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate_file :'a_p12', ADD client_certificate_password 'pfx-pass-123');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate_file :'a_legacy_p12');
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert OPTIONS (SET client_certificate_password 'wrong');
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert OPTIONS (DROP client_certificate_password);
SELECT e.*, leaks(concat_ws(' ', e.message, e.detail, e.hint)) AS leaks FROM cert_error() e;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (SET client_certificate_file :'missing_pem');
SELECT code, replace(message, :'dir', '<dir>') AS message, hint FROM cert_error();

-- only a superuser names a file the server reads
CREATE ROLE regress_cert_user LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER callrecords_fdw TO regress_cert_user;
GRANT USAGE ON FOREIGN SERVER graph_cert TO regress_cert_user;
SET ROLE regress_cert_user;
SELECT * FROM expect_error(format($$CREATE USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate_file %L)$$, :'dir' || '/a.pem'));
RESET ROLE;

-- one token cache for all: a role with the same certificate and key takes
-- the token already obtained (no sign-in), one with the certificate but
-- another key gets no token at all
ALTER USER MAPPING FOR CURRENT_USER SERVER graph_cert
  OPTIONS (DROP client_certificate_file, ADD client_certificate :'a_crt', ADD client_private_key :'a_key');
CREATE USER MAPPING FOR regress_cert_user SERVER graph_cert
  OPTIONS (client_id 'test-client', client_certificate :'a_crt', client_private_key :'a_key');
GRANT SELECT ON cert_calls TO regress_cert_user;
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SELECT emulator_reset();
SET ROLE regress_cert_user;
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
RESET ROLE;
SELECT count(*) FILTER (WHERE line ~ 'oauth2') AS sign_ins FROM emulator_log() AS l(line);
ALTER USER MAPPING FOR regress_cert_user SERVER graph_cert OPTIONS (SET client_private_key :'b_key');
-- (the superuser's token again, then the other role)
SELECT count(*) FROM cert_calls WHERE id = 'cafe0000-0000-4000-8000-000000000001';
SET ROLE regress_cert_user;
SELECT code, message, detail FROM cert_error();
RESET ROLE;

DROP SERVER graph_cert CASCADE;
DROP OWNED BY regress_cert_user;
DROP ROLE regress_cert_user;
DROP FUNCTION leaks(text);
DROP FUNCTION cert_error(text);
SELECT sh('rm -rf "$PWD"');
DROP FUNCTION sh(text);
