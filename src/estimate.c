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
				 &shape->records, &shape->pages, &shape->sessions, shape->hours);
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
 * The time the bounds of arm 0 and the given arm leave of the reference
 * span (the 30 days Graph keeps call records, or a log function's 90-day
 * window, which a log function's lower bound may reach beyond): at least
 * an hour.  False when the planner cannot guess a bound.
 */
static bool
arm_time_window(PlannerInfo *root, CrRelInfo *info, int arm, double span_days,
				TimestampTz *lower, TimestampTz *upper)
{
	TimestampTz now = cr_reference_time();
	ListCell   *le,
			   *lr;

	*lower = now - (TimestampTz) (span_days * USECS_PER_DAY);
	*upper = now;
	forboth(le, info->exprs, lr, info->roles)
	{
		int			r = lfirst_int(lr);
		CrQualRole	role = CR_ROLE_BASE(r);
		TimestampTz t;

		if ((CR_ROLE_ARM(r) != 0 && CR_ROLE_ARM(r) != arm) ||
			role < CR_QUAL_TIME_GE || role > CR_QUAL_TIME_LT)
			continue;
		if (!guess_time(root, lfirst(le), &t))
			return false;
		else if (TIMESTAMP_NOT_FINITE(t))
			continue;
		else if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT)
			*lower = (info->res->fetch == CR_FETCH_FUNCTION || t > *lower) ? t : *lower;
		else
			*upper = Min(*upper, t);
	}
	*upper = Max(*upper, *lower + USECS_PER_HOUR);
	return true;
}

/*
 * The share of the reference span that the bounds of arm 0 and the given
 * arm cover; more than 1 for a long range of a log function.  A bound the
 * planner cannot guess counts as half the span.
 */
static double
arm_time_fraction(PlannerInfo *root, CrRelInfo *info, int arm, double span_days)
{
	TimestampTz lower,
				upper;

	if (!arm_time_window(root, info, arm, span_days, &lower, &upper))
		return 0.5;
	return (double) (upper - lower) / (span_days * USECS_PER_DAY);
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

/*
 * Call records, their pages of sessions and their sessions in a window of
 * the 30 days, hour by hour: an hour a scan listed whole counts what it
 * held (shape.c), any other hour the tenant's mean hour.  Calls are not
 * spread evenly (office hours, weekends, a tenant's first weeks), and a
 * day or two is what most queries read.  An hour whose chains no scan read
 * gets the mean pages and sessions of a record for each of its records.
 */
static void
window_shape(const CrShapeHint *shape, TimestampTz lower, TimestampTz upper,
			 double mean_pages, double mean_sessions,
			 double *records, double *pages, double *sessions)
{
	double		mean_hour = shape->records / (30.0 * 24);
	TimestampTz now = cr_reference_time();
	TimestampTz t = Max(lower, now - 31 * USECS_PER_DAY);
	TimestampTz end;
	double		outside;

	/*
	 * No hour outside the days Graph keeps is known, nor any of days whose
	 * hours are not kept (cr_shape_hour_number): the mean hour there (in
	 * double: the span of two far bounds may not fit in a TimestampTz)
	 */
	upper = Max(upper, lower);
	end = Min(upper, now);
	if (end < t || cr_shape_hour_number(t) == 0 || cr_shape_hour_number(end) == 0)
		end = t;
	outside = ((double) upper - (double) lower - (double) (end - t)) / USECS_PER_HOUR;
	*records = outside * mean_hour;
	*pages = *records * mean_pages;
	*sessions = *records * mean_sessions;
	while (t < end)
	{
		int32		hour = cr_shape_hour_number(t);
		TimestampTz hour_end = (TimestampTz) hour * USECS_PER_HOUR;
		double		part = (double) (Min(end, hour_end) - t) / USECS_PER_HOUR;
		const CrShapeHour *h = cr_shape_find_hour(shape->hours, hour);
		double		r = h ? h->records : mean_hour;
		bool		chains = h && h->pages >= 0;

		*records += part * r;
		*pages += part * (chains ? h->pages : r * mean_pages);
		*sessions += part * (chains ? h->sessions : r * mean_sessions);
		t = Min(end, hour_end);
	}
}

/*
 * Arms that overlap count their common time twice: no window holds more
 * than the 30 days do, so scale what was counted down to those.
 */
static void
cap_to_span(const CrShapeHint *shape, double *records, double *requests, double *rows)
{
	TimestampTz now = cr_reference_time();
	double		all,
				p,
				s;

	window_shape(shape, now - 30 * USECS_PER_DAY, now, 0, 0, &all, &p, &s);
	if (*records > all && *records > 0)
	{
		*requests *= all / *records;
		*rows *= all / *records;
		*records = all;
	}
}

/*
 * Call records and the requests and rows of their chains, over the pushed
 * time window (all arms together), for a scan that lists call records.
 */
static void
listed_shape(PlannerInfo *root, CrRelInfo *info, double *records, double *requests,
			 double *rows)
{
	const CrShapeHint *shape = &info->shape;
	const CrResource *res = info->res;
	/* the chains' own pages are those of sessions only */
	bool		sessions = res->fetch == CR_FETCH_RECORD_CHILDREN &&
		res->level != CR_LEVEL_PARTICIPANT;
	double		per_record = cr_requests_per_record(res, shape);
	double		rows_per_session = cr_rows_per_record(res, shape) / Max(shape->sessions, 1e-3);
	int			arm = info->time_arms == 0 ? 0 : 1;

	*records = *requests = *rows = 0;
	for (; arm <= info->time_arms; arm++)
	{
		TimestampTz lower,
					upper;
		double		r,
					p,
					s;

		if (!arm_time_window(root, info, arm, 30.0, &lower, &upper))
		{
			r = shape->records * 0.5;
			p = r * per_record;
			s = r * shape->sessions;
		}
		else
			window_shape(shape, lower, upper, per_record, shape->sessions, &r, &p, &s);
		*records += r;
		*requests += sessions ? p : r * per_record;
		*rows += sessions ? s * rows_per_session : r * cr_rows_per_record(res, shape);
	}
	cap_to_span(shape, records, requests, rows);
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
	else
	{
		/* list the call records, then (but for call_records) fetch each */
		double		records,
					chain_requests,
					rows;

		listed_shape(root, info, &records, &chain_requests, &rows);
		if (res->fetch == CR_FETCH_RECORDS)
		{
			info->fetched_rows = records;
			info->requests = 1.0 + records / cr_page_size(res);
		}
		else
		{
			info->fetched_rows = rows;
			info->requests = Max(1.0, ceil(records / cr_page_size(cr_find_resource("call_records")))) +
				chain_requests;
		}
	}
}
