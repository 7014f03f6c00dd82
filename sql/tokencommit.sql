--
-- The cluster's tokens (token.c) are dropped when the transaction that
-- altered a server or user mapping commits: not when the ALTER runs (a
-- backend could store a token of the old settings again before the new
-- ones are visible), and not at all when it rolls back.  The other
-- session is a psql run by the server; the emulator's log counts the
-- logins.
--
\setenv PGDATABASE :DBNAME
CREATE FUNCTION token_requests() RETURNS bigint LANGUAGE sql
AS $$ SELECT count(*) FROM emulator_log() l WHERE l LIKE 'POST %/oauth2/v2.0/token 200' $$;
-- a token in the cluster's memory
SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000011';
SELECT emulator_reset();

-- 1. an ALTER rolled back: the other session keeps using the token,
-- while the ALTER is open and after the rollback
BEGIN;
ALTER SERVER graph OPTIONS (ADD connect_timeout '11');
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000012'"
ROLLBACK;
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000013'"
SELECT token_requests();

-- 2. in a savepoint rolled back, the rest committed: still kept
BEGIN;
SAVEPOINT s;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
ROLLBACK TO SAVEPOINT s;
COMMIT;
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000014'"
SELECT token_requests();

-- 3. an ALTER committed: kept until the commit, dropped by it
BEGIN;
ALTER USER MAPPING FOR CURRENT_USER SERVER graph OPTIONS (SET client_secret 'test-secret');
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000015'"
SELECT token_requests();
COMMIT;
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000016'"
SELECT token_requests();

-- 4. in a savepoint released, then committed: dropped
BEGIN;
SAVEPOINT s;
ALTER SERVER graph OPTIONS (ADD connect_timeout '11');
RELEASE SAVEPOINT s;
COMMIT;
\! psql -X -q -At -c "SELECT count(*) FROM cr.call_records WHERE id = 'cafe0000-0000-4000-8000-000000000017'"
SELECT token_requests();
ALTER SERVER graph OPTIONS (DROP connect_timeout);
DROP FUNCTION token_requests();
