--
-- The catalogue is declared once: IMPORT FOREIGN SCHEMA creates exactly
-- the columns callrecords_fdw_columns() lists, for v1.0 and for beta.
--
SELECT table_name, beta_only, pushed_conditions FROM callrecords_fdw_tables();
SELECT table_name, count(*) AS columns, count(*) FILTER (WHERE beta_only) AS beta_only_columns
  FROM callrecords_fdw_columns() GROUP BY table_name ORDER BY table_name;

-- every imported column is in the catalogue, in the same position and
-- type, and the other way round (with the deprecated columns, which the
-- import leaves out unless asked for: listed below)
CREATE SCHEMA cr_all;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph INTO cr_all OPTIONS (include_deprecated 'true');
CREATE VIEW imported_columns AS
SELECT c.relnamespace::regnamespace::text AS schema, c.relname::text AS table_name,
       a.attnum AS ordinal, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relkind = 'f';
SELECT 'imported, not in catalogue' AS problem, table_name, column_name
  FROM (SELECT table_name, column_name, column_type FROM imported_columns WHERE schema = 'cr_all'
        EXCEPT
        SELECT table_name, column_name, column_type FROM callrecords_fdw_columns() WHERE NOT beta_only) d
UNION ALL
SELECT 'in catalogue, not imported', table_name, column_name
  FROM (SELECT table_name, column_name, column_type FROM callrecords_fdw_columns() WHERE NOT beta_only
        EXCEPT
        SELECT table_name, column_name, column_type FROM imported_columns WHERE schema = 'cr_all') d;
-- same order as the catalogue
SELECT count(*) AS out_of_order
  FROM imported_columns i
  JOIN (SELECT table_name, column_name,
               row_number() OVER (PARTITION BY table_name ORDER BY ordinal) AS n
          FROM callrecords_fdw_columns() WHERE NOT beta_only) c USING (table_name, column_name)
 WHERE i.schema = 'cr_all' AND i.ordinal <> c.n;

-- what a default import leaves out: the properties Graph stopped filling
SELECT table_name, column_name FROM imported_columns WHERE schema = 'cr_all'
EXCEPT
SELECT table_name, column_name FROM imported_columns WHERE schema = 'cr'
ORDER BY 1, 2;

-- beta: the beta-only tables and properties too
CREATE SERVER graph_beta FOREIGN DATA WRAPPER callrecords_fdw
  OPTIONS (tenant_id 'contoso', graph_url 'http://127.0.0.1:9', api_version 'beta');
CREATE SCHEMA cr_beta;
IMPORT FOREIGN SCHEMA callrecords FROM SERVER graph_beta INTO cr_beta OPTIONS (include_deprecated 'true');
SELECT count(*) AS differences
  FROM ((SELECT table_name, ordinal, column_name, column_type FROM imported_columns WHERE schema = 'cr_beta'
         EXCEPT
         SELECT table_name, ordinal, column_name, column_type FROM callrecords_fdw_columns())
        UNION ALL
        (SELECT table_name, ordinal, column_name, column_type FROM callrecords_fdw_columns()
         EXCEPT
         SELECT table_name, ordinal, column_name, column_type FROM imported_columns WHERE schema = 'cr_beta')) d;
SELECT table_name, column_name FROM imported_columns
 WHERE schema = 'cr_beta' AND (table_name, column_name) NOT IN (SELECT table_name, column_name FROM imported_columns WHERE schema = 'cr_all')
 ORDER BY table_name, ordinal;
-- a beta-only table on a v1.0 server says what to change
CREATE FOREIGN TABLE sms_v1 (id text) SERVER graph OPTIONS (resource 'sms_log');
SELECT * FROM sms_v1;
DROP FOREIGN TABLE sms_v1;
DROP SCHEMA cr_beta, cr_all CASCADE;
DROP SERVER graph_beta;
DROP VIEW imported_columns;
