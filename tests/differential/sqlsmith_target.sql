-- The database sqlsmith queries: the extension, a server on the emulator
-- with a small request budget, and the foreign tables in schema cr, used
-- by an unprivileged role (so that no generated call can read files,
-- signal backends or reach the emulator's control API) whose sessions
-- get a short statement_timeout.
\getenv emulator_url CR_EMULATOR_URL
CREATE EXTENSION callrecords_fdw;
CREATE SERVER graph FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url :'emulator_url', login_url :'emulator_url',
           max_requests '30', request_timeout '5', max_retries '0');
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cr_smith') THEN
    CREATE ROLE cr_smith LOGIN PASSWORD 'cr_smith';
  END IF;
END $$;
GRANT USAGE ON FOREIGN SERVER graph TO cr_smith;
CREATE USER MAPPING FOR cr_smith SERVER graph
  OPTIONS (client_id 'test-client', client_secret 'test-secret');
CREATE SCHEMA cr;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr;
GRANT USAGE ON SCHEMA cr TO cr_smith;
GRANT SELECT ON ALL TABLES IN SCHEMA cr TO cr_smith;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER ROLE cr_smith IN DATABASE :"DBNAME" SET statement_timeout = '3s';
ALTER ROLE cr_smith IN DATABASE :"DBNAME" SET lock_timeout = '1s';
