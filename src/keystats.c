/*-------------------------------------------------------------------------
 *
 * keystats.c
 *		  What the planner is told about the keys of the foreign tables.
 *
 * A foreign table has no statistics, so the planner takes every column
 * to have 200 distinct values.  For a join on call_record_id that is far
 * off: sessions of all call records joined to a day's call records looked
 * like a hundred thousand rows, and a plan that rescanned a foreign scan
 * per row of that looked cheap next to it.  The shape of the data is
 * known, though: an id is unique, call_record_id repeats once per row of
 * a call record, and the *_index columns count the children of one
 * parent.  get_relation_stats_hook hands the planner those facts as
 * pg_statistic rows that carry only stadistinct (no histogram, no most
 * common values), for the tables of this wrapper only (those planned by
 * plan.c); every other table goes to the previous hook or to pg_statistic
 * as before.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/keystats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_statistic.h"
#include "foreign/fdwapi.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "plan_int.h"

static get_relation_stats_hook_type prev_stats_hook = NULL;

/*
 * stadistinct of a column of a resource, in pg_statistic's encoding (a
 * negative value is minus the share of rows that are distinct, a positive
 * one a count), or 0 when we know nothing better than the default.
 */
static float4
column_distinct(const CrResource *res, const char *name)
{
	const char *key = cr_key_column(res);

	if (strcmp(name, "id") == 0 &&
		(res->fetch == CR_FETCH_RECORDS || res->fetch == CR_FETCH_FUNCTION))
		return -1.0;
	if (key && strcmp(name, key) == 0 && res->fetch == CR_FETCH_RECORD_CHILDREN)
		return (float4) (-1.0 / cr_rows_per_record(res, NULL));
	if (strcmp(name, "session_index") == 0)
		return (float4) CR_EST_SESSIONS_PER_RECORD;
	if (strcmp(name, "participant_index") == 0)
		return (float4) CR_EST_PARTICIPANTS_PER_RECORD;
	if (strcmp(name, "segment_index") == 0 || strcmp(name, "media_index") == 0 ||
		strcmp(name, "stream_index") == 0)
		return 2.0;
	return 0;
}

/* A pg_statistic row that says only how many distinct values a column has. */
static HeapTuple
distinct_only_stats(Oid relid, AttrNumber attnum, float4 distinct)
{
	Relation	rel = table_open(StatisticRelationId, AccessShareLock);
	Datum		values[Natts_pg_statistic];
	bool		nulls[Natts_pg_statistic];
	HeapTuple	tuple;
	int			i;

	memset(values, 0, sizeof(values));
	memset(nulls, false, sizeof(nulls));
	values[Anum_pg_statistic_starelid - 1] = ObjectIdGetDatum(relid);
	values[Anum_pg_statistic_staattnum - 1] = Int16GetDatum(attnum);
	values[Anum_pg_statistic_stainherit - 1] = BoolGetDatum(false);
	values[Anum_pg_statistic_stanullfrac - 1] = Float4GetDatum(0.0);
	values[Anum_pg_statistic_stawidth - 1] = Int32GetDatum(0);
	values[Anum_pg_statistic_stadistinct - 1] = Float4GetDatum(distinct);
	for (i = 0; i < STATISTIC_NUM_SLOTS; i++)
	{
		values[Anum_pg_statistic_stakind1 - 1 + i] = Int16GetDatum(0);
		values[Anum_pg_statistic_staop1 - 1 + i] = ObjectIdGetDatum(InvalidOid);
		values[Anum_pg_statistic_stacoll1 - 1 + i] = ObjectIdGetDatum(InvalidOid);
		nulls[Anum_pg_statistic_stanumbers1 - 1 + i] = true;
		nulls[Anum_pg_statistic_stavalues1 - 1 + i] = true;
	}
	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	table_close(rel, AccessShareLock);
	return tuple;
}

/*
 * The planner's look-up of a column's statistics.  Only columns of this
 * wrapper's tables that have a known shape are answered here; a column
 * whose name the catalogue does not give that meaning (a "path" column,
 * say) keeps the default.
 */
static bool
cr_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
				  VariableStatData *vardata)
{
	RelOptInfo *rel = vardata->rel;
	char	   *name;
	float4		distinct;

	if (rel != NULL && rel->fdwroutine != NULL &&
		rel->fdwroutine->GetForeignRelSize == cr_get_foreign_rel_size &&
		rte->rtekind == RTE_RELATION && attnum > 0 &&
		(name = get_attname(rte->relid, attnum, true)) != NULL &&
		(distinct = column_distinct(cr_relation_resource(rte->relid), name)) != 0)
	{
		vardata->statsTuple = distinct_only_stats(rte->relid, attnum, distinct);
		vardata->freefunc = heap_freetuple;
		vardata->acl_ok = true;
		return true;
	}
	return prev_stats_hook ? prev_stats_hook(root, rte, attnum, vardata) : false;
}

/* Install the hook, once per backend. */
void
cr_install_key_stats_hook(void)
{
	prev_stats_hook = get_relation_stats_hook;
	get_relation_stats_hook = cr_relation_stats;
}
