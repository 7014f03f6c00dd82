/*-------------------------------------------------------------------------
 *
 * import.c
 *		  The catalogue as SQL: IMPORT FOREIGN SCHEMA, and the functions
 *		  callrecords_fdw_tables() and callrecords_fdw_columns() that list
 *		  it (README's table reference is generated from them).
 *
 * Rules kept here: the tables created are exactly the catalogue's (names,
 * column names and types from catalog.c, nothing invented here); LIMIT TO
 * and EXCEPT are honoured; the beta-only tables and columns only on a beta
 * server; the properties Graph stopped filling only when asked for with
 * include_deprecated.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_import.h"

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

/*
 * Properties Graph stopped filling (v1.0 removal date 2026-11-06): the
 * call record's organizer and participants and an endpoint's identity,
 * replaced by organizer_v2, participants_v2 and associatedIdentity.  A
 * column of them would be NULL in every row, so IMPORT FOREIGN SCHEMA
 * makes one only with include_deprecated 'true'.
 */
static bool
is_deprecated(const CrColumnDef *col)
{
	size_t		len = col->path ? strlen(col->path) : 0;

	if (col->path == NULL)
		return false;
	if (col->level == CR_LEVEL_RECORD)
		return strcmp(col->path, "organizer") == 0 || strcmp(col->path, "participants") == 0;
	return (strncmp(col->path, "caller.", 7) == 0 || strncmp(col->path, "callee.", 7) == 0) &&
		len > 9 && strcmp(col->path + len - 9, ".identity") == 0;
}

/* The include_deprecated option of IMPORT FOREIGN SCHEMA; others are errors. */
static bool
import_include_deprecated(ImportForeignSchemaStmt *stmt)
{
	bool		include = false;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "include_deprecated") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\" for IMPORT FOREIGN SCHEMA", def->defname),
					 errhint("Valid options: include_deprecated.")));
		if (!parse_bool(defGetString(def), &include))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"include_deprecated\": \"%s\"",
							defGetString(def)),
					 errhint("Give a boolean: 'true' or 'false' (on/off, yes/no and 1/0 are read too).")));
	}
	return include;
}

/* CREATE FOREIGN TABLE for one resource, with the columns of the API version. */
static char *
create_table_command(ImportForeignSchemaStmt *stmt, ForeignServer *server,
					 const CrResource *res, bool beta, bool deprecated)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n",
					 quote_qualified_identifier(stmt->local_schema, res->name));
	foreach(lc, cr_resource_columns(res))
	{
		const CrColumnDef *col = lfirst(lc);

		if ((col->beta_only && !beta) || (!deprecated && is_deprecated(col)))
			continue;
		appendStringInfo(&buf, "%s  %s %s", first ? "" : ",\n",
						 quote_identifier(col->name), cr_pg_type_name(col->type));
		first = false;
	}
	appendStringInfo(&buf, "\n) SERVER %s OPTIONS (resource %s)",
					 quote_identifier(server->servername),
					 quote_literal_cstr(res->name));
	return buf.data;
}

/*
 * IMPORT FOREIGN SCHEMA callrecords: one CREATE FOREIGN TABLE per resource,
 * straight from the catalogue, so imported tables always match what the
 * scan understands.
 */
List *
cr_import_foreign_schema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	bool		beta = false;
	bool		deprecated = import_include_deprecated(stmt);
	List	   *commands = NIL;
	ListCell   *lc;
	int			i;

	if (strcmp(stmt->remote_schema, "callrecords") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("schema \"%s\" is not present on foreign server \"%s\"",
						stmt->remote_schema, server->servername),
				 errhint("callrecords_fdw offers one remote schema: callrecords.")));

	foreach(lc, server->options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "api_version") == 0)
			beta = strcmp(defGetString(def), "beta") == 0;
	}

	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);

		if (res->beta_only && !beta)
			continue;
		commands = lappend(commands, create_table_command(stmt, server, res, beta, deprecated));
	}
	return commands;
}

/* How a resource is fetched, for documentation. */
static const char *
fetched_by(const CrResource *res)
{
	switch (res->fetch)
	{
		case CR_FETCH_RECORDS:
			return "GET /communications/callRecords (60 a page) or /callRecords/{id}";
		case CR_FETCH_RECORD_CHILDREN:
			return res->level == CR_LEVEL_PARTICIPANT ?
				"GET /callRecords/{id}?$expand=participants_v2, then participants_v2@odata.nextLink (130 a page)" :
				"GET /callRecords/{id}?$expand=sessions($expand=segments), then sessions@odata.nextLink (60 sessions a page)";
		case CR_FETCH_FUNCTION:
			return psprintf("GET /communications/callRecords/%s(fromDateTime=…,toDateTime=…) (1,000 a page, windows of at most 90 days)",
							res->function);
	}
	return "";
}

/* Which conditions narrow the requests, for documentation. */
static const char *
pushed_conditions(const CrResource *res)
{
	switch (res->fetch)
	{
		case CR_FETCH_RECORDS:
			return "id = / IN / = ANY (one GET per id); start_date_time < <= > >= ($filter)";
		case CR_FETCH_RECORD_CHILDREN:
			return "call_record_id = / IN / = ANY (required; one request chain per id)";
		case CR_FETCH_FUNCTION:
			if (res->window_column)
				return psprintf("%s < <= = >= > (fromDateTime/toDateTime; without a range, the last 90 days)",
								res->window_column);
			return "from_date_time =, to_date_time = (the report window; without them, the last 90 days)";
	}
	return "";
}

PG_FUNCTION_INFO_V1(callrecords_fdw_tables);
PG_FUNCTION_INFO_V1(callrecords_fdw_columns);

/*
 * callrecords_fdw_tables(): the tables of the catalogue, so that users
 * (and the README) can see what exists and how it is fetched.
 */
Datum
callrecords_fdw_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = CStringGetTextDatum(res->name);
		values[1] = CStringGetTextDatum(res->description);
		values[2] = CStringGetTextDatum(fetched_by(res));
		values[3] = CStringGetTextDatum(pushed_conditions(res));
		values[4] = BoolGetDatum(res->beta_only);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* The Graph type of a level's objects. */
static const char *
graph_type_name(CrLevel level)
{
	static const char *const names[CR_NUM_LEVELS] = {
		[CR_LEVEL_RECORD] = "callRecord",
		[CR_LEVEL_SESSION] = "session",
		[CR_LEVEL_SEGMENT] = "segment",
		[CR_LEVEL_MEDIA] = "media",
		[CR_LEVEL_STREAM] = "mediaStream",
		[CR_LEVEL_PARTICIPANT] = "participant",
		[CR_LEVEL_PSTN_CALL] = "pstnCallLogRow",
		[CR_LEVEL_DIRECT_ROUTING_CALL] = "directRoutingLogRow",
		[CR_LEVEL_SMS] = "smsLogRow",
		[CR_LEVEL_BLOCKED_USER] = "pstnBlockedUsersLogRow",
		[CR_LEVEL_DIALOUT_REPORT] = "pstnOnlineMeetingDialoutReport",
	};

	return names[level];
}

/* The Graph path of a column as documentation shows it. */
static char *
column_source(const CrColumnDef *col)
{
	switch (col->type)
	{
		case CR_GT_POSITION:
			return psprintf("position in %s (1-based)", cr_child_key(col->level));
		case CR_GT_RAW:
			return "the row's JSON object, without child collections";
		case CR_GT_WINDOW_FROM:
			return "fromDateTime of the request";
		case CR_GT_WINDOW_TO:
			return "toDateTime of the request";
		default:
			return psprintf("%s.%s", graph_type_name(col->level), col->path);
	}
}

/*
 * callrecords_fdw_columns(): every column of every table, with its type
 * and the Graph property it comes from.
 */
Datum
callrecords_fdw_columns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < cr_resource_count(); i++)
	{
		const CrResource *res = cr_resource_at(i);
		ListCell   *lc;

		foreach(lc, cr_resource_columns(res))
		{
			const CrColumnDef *col = lfirst(lc);
			Datum		values[6];
			bool		nulls[6] = {0};

			values[0] = CStringGetTextDatum(res->name);
			values[1] = Int32GetDatum(foreach_current_index(lc) + 1);
			values[2] = CStringGetTextDatum(col->name);
			values[3] = CStringGetTextDatum(cr_pg_type_name(col->type));
			values[4] = CStringGetTextDatum(column_source(col));
			values[5] = BoolGetDatum(col->beta_only || res->beta_only);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
