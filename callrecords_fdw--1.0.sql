/* callrecords_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION callrecords_fdw" to load this file. \quit

CREATE FUNCTION callrecords_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION callrecords_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER callrecords_fdw
  HANDLER callrecords_fdw_handler
  VALIDATOR callrecords_fdw_validator;

-- The catalogue: the tables IMPORT FOREIGN SCHEMA creates, how each is
-- fetched and which conditions narrow its requests.
CREATE FUNCTION callrecords_fdw_tables(
    OUT table_name text, OUT description text, OUT fetched_by text,
    OUT pushed_conditions text, OUT beta_only boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;

-- Every column of every table: its position, name, type and Graph source.
CREATE FUNCTION callrecords_fdw_columns(
    OUT table_name text, OUT ordinal integer, OUT column_name text,
    OUT column_type text, OUT graph_source text, OUT beta_only boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT STABLE;
