/*-------------------------------------------------------------------------
 *
 * estimate.c
 *		  How many rows a scan fetches and how many requests it makes, as
 *		  the planner can tell from what is pushed down.
 *
 * Graph keeps call records for 30 days and a log function reads windows
 * of up to 90; the pushed time bounds give the share of that span a scan
 * reads, the pushed keys how many call records it fetches by id, and the
 * rough shape of the data (plan_int.h) the rows each call record yields.
 * plan.c costs its paths from these; keystats.c tells the planner the
 * keys' distinct counts from the same shape.
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
#include "cr_graph.h"

#include "access/xact.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/timestamp.h"
#include "plan_int.h"

/* Rough shape of the data, for estimates (and see plan_int.h). */
#define CR_EST_RECORDS_IN_TENANT	10000.0 /* 30 days of call records */
#define CR_EST_LOG_ROWS				10000.0 /* rows of a log function window */

/*
 * The tenant's shape for a table's estimates: what earlier scans of its
 * server's tenant saw (shape.c), else the rough guesses above.
 */
void
cr_shape_hint(Oid foreigntableid, CrShapeHint *shape)
{
	shape->records = CR_EST_RECORDS_IN_TENANT;
	shape->pages = -1;
	shape->sessions = CR_EST_SESSIONS_PER_RECORD;
	cr_shape_get(cr_get_options(foreigntableid, InvalidOid, false),
				 &shape->records, &shape->pages, &shape->sessions);
}

/*
 * Rows one call record yields for a table fetched per call record; shape
 * NULL for the rough guesses.
 */
double
cr_rows_per_record(const CrResource *res, const CrShapeHint *shape)
{
	double		rows;
	CrLevel		level;

	if (res->level == CR_LEVEL_RECORD)
		return 1.0;
	if (res->level == CR_LEVEL_PARTICIPANT)
		return CR_EST_PARTICIPANTS_PER_RECORD;
	rows = shape ? shape->sessions : CR_EST_SESSIONS_PER_RECORD;
	for (level = res->level; level != CR_LEVEL_SESSION; level = cr_parent_level(level))
		rows *= CR_EST_CHILDREN_PER_PARENT;
	return rows;
}

/*
 * Requests one call record costs a table fetched by id: one for
 * call_records; for the tables below, the chain of the record's pages,
 * which are pages of sessions (or of participants) whatever the table's
 * level: segments, media and streams come inside their sessions.  So the
 * tables of one tree cost the same requests per record, as they share one
 * chain, and a pushed join costs what one of its tables does.
 */
double
cr_requests_per_record(const CrResource *res, const CrShapeHint *shape)
{
	if (res->fetch == CR_FETCH_RECORDS)
		return 1.0;
	if (res->level == CR_LEVEL_PARTICIPANT)
		return 1.0 + floor(CR_EST_PARTICIPANTS_PER_RECORD / cr_page_size(res));
	if (shape && shape->pages > 0)
		return shape->pages;
	return 1.0 + floor((shape ? shape->sessions : CR_EST_SESSIONS_PER_RECORD) /
					   cr_page_size(res));
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
		info->fetched_rows = keys * cr_rows_per_record(res, &info->shape);
		info->requests = keys * cr_requests_per_record(res, &info->shape);
	}
	else if (res->fetch == CR_FETCH_RECORDS)
	{
		info->fetched_rows = info->shape.records * Min(1.0, time_fraction(root, info, 30.0));
		info->requests = 1.0 + info->fetched_rows / cr_page_size(res);
	}
	else
	{
		/* list the call records, then fetch each: the expensive plan */
		double		records = info->shape.records * Min(1.0, time_fraction(root, info, 30.0));

		info->fetched_rows = records * cr_rows_per_record(res, &info->shape);
		info->requests = Max(1.0, ceil(records / cr_page_size(cr_find_resource("call_records")))) +
			records * cr_requests_per_record(res, &info->shape);
	}
}
