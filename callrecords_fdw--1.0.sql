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
