/*-------------------------------------------------------------------------
 *
 * estimate.c
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
 * common values), for the tables of this wrapper only; every other table
 * goes to the previous hook or to pg_statistic as before.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/estimate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cr_common.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/table.h"
#include "catalog/pg_statistic.h"
#include "foreign/fdwapi.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/selfuncs.h"
#include "utils/timestamp.h"
#include "plan_int.h"

/* Rough shape of the data, for estimates (and see cr_common.h). */
#define CR_EST_RECORDS_IN_TENANT	10000.0 /* 30 days of call records */
#define CR_EST_LOG_ROWS				10000.0 /* rows of a log function window */

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
		return (float4) (-1.0 / cr_rows_per_record(res));
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
cr_install_estimate_hooks(void)
{
	prev_stats_hook = get_relation_stats_hook;
	get_relation_stats_hook = cr_relation_stats;
}

/* Rows one call record yields for a table fetched per call record. */
double
cr_rows_per_record(const CrResource *res)
{
	double		rows;
	CrLevel		level;

	if (res->level == CR_LEVEL_RECORD)
		return 1.0;
	if (res->level == CR_LEVEL_PARTICIPANT)
		return CR_EST_PARTICIPANTS_PER_RECORD;
	rows = CR_EST_SESSIONS_PER_RECORD;
	for (level = res->level; level != CR_LEVEL_SESSION; level = cr_parent_level(level))
		rows *= CR_EST_CHILDREN_PER_PARENT;
	return rows;
}

/* How many distinct keys a key condition names, as far as planning knows. */
static double
key_count(List *exprs, List *roles)
{
	ListCell   *le,
			   *lr;

	forboth(le, exprs, lr, roles)
	{
		Node	   *e = lfirst(le);

		if (lfirst_int(lr) == CR_QUAL_KEY)
			return 1.0;
		if (lfirst_int(lr) == CR_QUAL_KEY_ARRAY)
		{
			if (IsA(e, Const) && !((Const *) e)->constisnull)
				return Max(1, ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) e)->constvalue)),
											 ARR_DIMS(DatumGetArrayTypeP(((Const *) e)->constvalue))));
			if (IsA(e, ArrayExpr))
				return Max(1, list_length(((ArrayExpr *) e)->elements));
			return 10.0;
		}
	}
	return 0.0;
}

/*
 * A pushed time value as the planner can guess it: constants, and stable
 * expressions such as now() - interval '7 days' folded for the estimate.
 * False when it cannot tell (a parameter of a generic plan, say).
 */
static bool
guess_time(PlannerInfo *root, Expr *value, TimestampTz *t)
{
	Node	   *n = estimate_expression_value(root, (Node *) value);

	if (!IsA(n, Const) || ((Const *) n)->constisnull ||
		((Const *) n)->consttype != TIMESTAMPTZOID)
		return false;
	*t = DatumGetTimestampTz(((Const *) n)->constvalue);
	return true;
}

/*
 * The share of the reference span (the 30 days Graph keeps call records,
 * or a log function's 90-day window) that the bounds of arm 0 and the
 * given arm cover; more than 1 for a long range of a log function.  A
 * bound the planner cannot guess counts as half the span.
 */
static double
arm_time_fraction(PlannerInfo *root, CrRelInfo *info, int arm, double span_days)
{
	TimestampTz now = cr_reference_time();
	double		span = span_days * USECS_PER_DAY;
	TimestampTz lower = now - (TimestampTz) span,
				upper = now;
	bool		guessed = true;
	ListCell   *le,
			   *lr;

	forboth(le, info->exprs, lr, info->roles)
	{
		int			r = lfirst_int(lr);
		CrQualRole	role = CR_ROLE_BASE(r);
		TimestampTz t;

		if ((CR_ROLE_ARM(r) != 0 && CR_ROLE_ARM(r) != arm) ||
			role < CR_QUAL_TIME_GE || role > CR_QUAL_TIME_LT)
			continue;
		if (!guess_time(root, lfirst(le), &t))
			guessed = false;
		else if (TIMESTAMP_NOT_FINITE(t))
			continue;
		else if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT)
			lower = (info->res->fetch == CR_FETCH_FUNCTION || t > lower) ? t : lower;
		else
			upper = Min(upper, t);
	}
	if (!guessed)
		return 0.5;
	return Max(upper - lower, USECS_PER_HOUR) / span;
}

/* The share of the span the pushed time conditions cover, all arms together. */
static double
time_fraction(PlannerInfo *root, CrRelInfo *info, double span_days)
{
	double		f = 0;
	int			arm;

	if (info->time_arms == 0)
		return arm_time_fraction(root, info, 0, span_days);
	for (arm = 1; arm <= info->time_arms; arm++)
		f += arm_time_fraction(root, info, arm, span_days);
	return f;
}

/* Estimate rows fetched and requests made, before local conditions. */
void
cr_estimate_fetch(PlannerInfo *root, CrRelInfo *info, RelOptInfo *baserel)
{
	const CrResource *res = info->res;
	double		keys = key_count(info->exprs, info->roles);

	if (res->fetch == CR_FETCH_FUNCTION)
	{
		double		windows = Max(1.0, ceil(time_fraction(root, info, 90.0)));

		info->fetched_rows = CR_EST_LOG_ROWS * time_fraction(root, info, 90.0);
		info->requests = windows + info->fetched_rows / cr_page_size(res);
	}
	else if (keys > 0)
	{
		info->fetched_rows = keys * cr_rows_per_record(res);
		info->requests = keys * (res->fetch == CR_FETCH_RECORDS ? 1.0 :
								 1.0 + cr_rows_per_record(res) / cr_page_size(res));
	}
	else if (res->fetch == CR_FETCH_RECORDS)
	{
		info->fetched_rows = CR_EST_RECORDS_IN_TENANT * Min(1.0, time_fraction(root, info, 30.0));
		info->requests = 1.0 + info->fetched_rows / cr_page_size(res);
	}
	else
	{
		/* list the call records, then fetch each: the expensive plan */
		double		records = CR_EST_RECORDS_IN_TENANT * Min(1.0, time_fraction(root, info, 30.0));

		info->fetched_rows = records * cr_rows_per_record(res);
		info->requests = records / cr_page_size(cr_find_resource("call_records")) +
			records * (1.0 + cr_rows_per_record(res) / cr_page_size(res));
	}
}
