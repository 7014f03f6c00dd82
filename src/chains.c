/*-------------------------------------------------------------------------
 *
 * chains.c
 *		  The requests of a scan: turning the pushed-down values into
 *		  request chains when the scan or a rescan reads its first row.
 *
 * A request chain is a first request and the next links that follow it:
 * one per call record id, one for the call record list, one per time
 * window of a log function.  Without ids, the tables below a call record
 * list the call records first; fetch.c makes their chains as the list's
 * pages come.
 *
 * Rules kept here: inclusive time bounds are widened by a microsecond
 * (Graph keeps times to 100 ns, PostgreSQL to the microsecond), and the
 * local recheck drops what that adds; a log function is asked for windows
 * of at most 90 days that neither overlap nor leave a gap; chains live in
 * the scan's chains context, which every rescan resets.  explain.c builds
 * its requests with the same functions, so EXPLAIN shows what is sent.
 *
 * The pages a chain may lead to are checked here too (CrLinkCheck): a
 * next link must stay on graph_url (the bearer token goes with it), in
 * the collection the chain began with, and never lead back to a page of
 * the chain.  fetch.c checks every link before it follows it, a link it
 * follows ahead of need as well as the one of the page being read.
 *
 * Nothing here fetches: this file is below fetch.c and listing.c, which
 * call it, and calls neither.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/chains.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "scan_int.h"

/* Graph serves at most this long a window per log function call. */
#define CR_MAX_WINDOW_USECS		((int64) 90 * USECS_PER_DAY)

/* A bound as sent to Graph: inclusive ones widened by a microsecond. */
TimestampTz
cr_widened(CrQualRole role, TimestampTz t)
{
	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	if (role == CR_QUAL_TIME_GE)
		return t - 1;
	if (role == CR_QUAL_TIME_LE)
		return t + 1;
	return t;
}

/* Raise the lower bound to t if that narrows it; at a tie, strict wins. */
static void
set_lower(CrTimeBounds *b, TimestampTz t, bool strict)
{
	if (!b->has_lower || t > b->lower || (t == b->lower && strict))
	{
		b->lower = t;
		b->lower_strict = strict;
	}
	b->has_lower = true;
}

/* Lower the upper bound to t if that narrows it; at a tie, exclusive wins. */
static void
set_upper(CrTimeBounds *b, TimestampTz t, bool inclusive)
{
	if (!b->has_upper || t < b->upper || (t == b->upper && !inclusive))
	{
		b->upper = t;
		b->upper_inclusive = inclusive;
	}
	b->has_upper = true;
}

/*
 * Whether a time lies before (-1) or after (1) the years 1 to 9999 that
 * Graph's Edm.DateTimeOffset holds, or within them (0).
 */
static int
outside_graph_years(TimestampTz t)
{
	if (TIMESTAMP_IS_NOBEGIN(t) || t < (date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY)
		return -1;
	if (TIMESTAMP_IS_NOEND(t) || t >= (date2j(10000, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY)
		return 1;
	return 0;
}

/*
 * Narrow the bounds by one condition.  Of several conditions on a side
 * the tightest wins; at an equal upper bound a comparison (exclusive once
 * widened) wins over the window's inclusive toDateTime.  A value outside
 * Graph's years (an infinite one too) is an open end on its own side
 * (>= -infinity, <= infinity hold for every time Graph has) and leaves
 * nothing on the other (>= infinity holds for none).
 */
void
cr_add_time_bound(CrTimeBounds *b, CrQualRole role, TimestampTz t)
{
	bool		lower = (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT ||
						 role == CR_QUAL_WINDOW_FROM);
	int			outside;

	t = cr_widened(role, t);
	if ((outside = outside_graph_years(t)) != 0)
	{
		if (lower ? outside > 0 : outside < 0)
			b->empty = true;
		return;
	}
	if (lower)
		set_lower(b, t, role == CR_QUAL_TIME_GT);
	else if (role == CR_QUAL_TIME_LE || role == CR_QUAL_TIME_LT || role == CR_QUAL_WINDOW_TO)
	{
		/* LE: rows up to t + 0.5 us round to t or less, so t + 1 us, exclusive */
		set_upper(b, t, role == CR_QUAL_WINDOW_TO);
	}
}

/* Whether no time can lie within the bounds. */
static bool
bounds_empty(const CrTimeBounds *b)
{
	return b->empty ||
		(b->has_lower && b->has_upper &&
		 (b->lower > b->upper ||
		  (b->lower == b->upper && (b->lower_strict || !b->upper_inclusive))));
}

/* Start reading pushed values: no ids, no bounds, one arm per OR arm. */
void
cr_pushed_init(CrPushedValues *pv, List *roles)
{
	ListCell   *lc;

	memset(pv, 0, sizeof(*pv));
	foreach(lc, roles)
		pv->narms = Max(pv->narms, CR_ROLE_ARM(lfirst_int(lc)));
	pv->arms = palloc0(sizeof(CrTimeBounds) * (pv->narms + 1));
}

/*
 * Take one pushed value.  A NULL makes its comparison false: with no arms
 * around it, no row can match; in an arm, that arm matches none.
 */
void
cr_pushed_add(CrPushedValues *pv, int r, Datum d, bool isnull)
{
	CrQualRole	role = CR_ROLE_BASE(r);
	int			arm = CR_ROLE_ARM(r);

	if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
	{
		pv->has_key = true;
		if (!isnull)
			pv->ids = cr_add_ids(pv->ids, role, d);
	}
	else if (role == CR_QUAL_PARTICIPANT)
	{
		if (isnull)
			pv->none = true;
		else
			pv->filters = lappend(pv->filters,
								  cr_participant_term(cr_odata_string(TextDatumGetCString(d))));
	}
	else
	{
		pv->has_time = true;
		if (isnull)
			pv->arms[arm].empty = true;
		else
			cr_add_time_bound(&pv->arms[arm], role, DatumGetTimestampTz(d));
	}
}

/* list_sort order of windows: by lower bound, an open one first. */
static int
window_cmp(const ListCell *a, const ListCell *b)
{
	const CrTimeBounds *x = lfirst(a);
	const CrTimeBounds *y = lfirst(b);

	if (x->has_lower != y->has_lower)
		return x->has_lower ? 1 : -1;
	if (!x->has_lower || x->lower == y->lower)
		return (int) x->lower_strict - (int) y->lower_strict;
	return x->lower < y->lower ? -1 : 1;
}

/*
 * Windows that overlap or touch become one (at most an instant more,
 * which the local recheck removes), so the windows fetched are disjoint
 * and no row is read twice.
 */
static List *
merge_windows(List *windows)
{
	List	   *merged = NIL;
	CrTimeBounds *cur = NULL;
	ListCell   *lc;

	list_sort(windows, window_cmp);
	foreach(lc, windows)
	{
		CrTimeBounds *w = lfirst(lc);

		if (cur && (!cur->has_upper || !w->has_lower || w->lower <= cur->upper))
		{
			if (!w->has_upper)
				cur->has_upper = false;
			else if (cur->has_upper && (w->upper > cur->upper ||
										(w->upper == cur->upper && w->upper_inclusive)))
				{
				cur->upper = w->upper;
				cur->upper_inclusive = w->upper_inclusive;
			}
			continue;
		}
		merged = lappend(merged, w);
		cur = w;
	}
	return merged;
}

/*
 * The time windows the pushed values ask for: the bounds every row meets,
 * intersected with each arm of the OR, the empty ones dropped and the
 * rest merged.  NIL when no time can match.
 */
List *
cr_pushed_windows(const CrPushedValues *pv)
{
	List	   *windows = NIL;
	int			arm;

	if (pv->none)
		return NIL;
	for (arm = pv->narms == 0 ? 0 : 1; arm <= pv->narms; arm++)
	{
		CrTimeBounds *w = palloc(sizeof(CrTimeBounds));
		const CrTimeBounds *a = &pv->arms[arm];

		*w = pv->arms[0];
		if (arm > 0)
		{
			w->empty |= a->empty;
			if (a->has_lower)
				set_lower(w, a->lower, a->lower_strict);
			if (a->has_upper)
				set_upper(w, a->upper, a->upper_inclusive);
		}
		if (!bounds_empty(w))
			windows = lappend(windows, w);
	}
	return merge_windows(windows);
}

/* A chain from its first request; log functions add their window. */
CrChain *
cr_make_chain(char *path, CrFirstPage first, char *record_id)
{
	CrChain    *c = palloc0(sizeof(CrChain));

	c->path = path;
	c->first = first;
	c->record_id = record_id;
	return c;
}

/*
 * Whether two call record ids name the same record, as an ordering (0:
 * the same).  The one comparison of ids: de-duplication goes through it.
 * Graph ids are GUIDs, whose letter case carries no meaning: ids that
 * differ only in case are one call record, asked for once (Graph's answer
 * spells it as Graph does).
 */
int
cr_id_cmp(const char *a, const char *b)
{
	return pg_strcasecmp(a, b);
}

/*
 * Whether an id can name a call record at all.  "", "." and ".." would
 * become URL dot segments (curl resolves them, and the request reads the
 * list or another endpoint), so they name nothing: no request, no rows.
 */
bool
cr_id_names_record(const char *id)
{
	return !(id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0);
}

/* Append an id if it can name a call record. */
static List *
add_id(List *ids, char *id)
{
	if (!cr_id_names_record(id))
	{
		pfree(id);
		return ids;
	}
	return lappend(ids, makeString(id));
}

/*
 * Add the ids a key value names (one text, or an array of them), in
 * order, repeats included (cr_unique_ids() drops them once all values
 * are in), ids that name no record left out.  An array of a million ids
 * takes a while, so a cancel is honoured between elements.
 */
List *
cr_add_ids(List *ids, CrQualRole role, Datum d)
{
	if (role == CR_QUAL_KEY)
		return add_id(ids, TextDatumGetCString(d));
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
		{
			if ((i & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (!nulls[i])
				ids = add_id(ids, TextDatumGetCString(elems[i]));
		}
		pfree(elems);
		pfree(nulls);
		return ids;
	}
}

/* An id and where it was first seen, for sorting. */
typedef struct CrIdPos
{
	const char *id;
	int			pos;
} CrIdPos;

/* qsort order: by id (cr_id_cmp), then by position. */
static int
id_pos_cmp(const void *a, const void *b)
{
	const CrIdPos *x = a;
	const CrIdPos *y = b;
	int			c = cr_id_cmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * The ids without repeats, each where it was first seen (the order of the
 * requests and of EXPLAIN's lines).  Sorting keeps it O(n log n): 100,000
 * ids compared pairwise took half a minute, deaf to a cancel.
 */
List *
cr_unique_ids(List *ids)
{
	int			n = list_length(ids);
	CrIdPos    *items;
	bool	   *keep;
	List	   *result = NIL;
	ListCell   *lc;
	int			i;

	if (n < 2)
		return ids;
	items = palloc_extended(sizeof(CrIdPos) * n, MCXT_ALLOC_HUGE);
	keep = palloc_extended(sizeof(bool) * n, MCXT_ALLOC_HUGE);
	foreach(lc, ids)
	{
		i = foreach_current_index(lc);
		items[i].id = strVal(lfirst(lc));
		items[i].pos = i;
	}
	CHECK_FOR_INTERRUPTS();
	qsort(items, n, sizeof(CrIdPos), id_pos_cmp);
	CHECK_FOR_INTERRUPTS();
	for (i = 0; i < n; i++)
		keep[items[i].pos] = (i == 0 || cr_id_cmp(items[i - 1].id, items[i].id) != 0);
	foreach(lc, ids)
	{
		if ((foreach_current_index(lc) & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (keep[foreach_current_index(lc)])
			result = lappend(result, lfirst(lc));
	}
	pfree(items);
	pfree(keep);
	list_free(ids);
	return result;
}

/*
 * Log function calls covering the bounds, in windows of at most 90 days
 * that neither overlap nor leave a gap: where toDateTime is inclusive, a
 * window ends one 100 ns tick before the next one starts.  An inclusive
 * end on a function whose toDateTime is exclusive is sent a microsecond
 * later, and counts in the window's length, so no window is longer than
 * Graph serves.
 */
List *
cr_function_chains(CrScanState *st, const CrTimeBounds *bounds)
{
	List	   *chains = NIL;
	CrTimeBounds b = *bounds;
	TimestampTz from,
				to;

	if (!b.has_upper)
	{
		b.upper = GetCurrentTransactionStartTimestamp();
		b.upper_inclusive = st->res->to_inclusive;
	}
	if (!b.has_lower)
		b.lower = b.upper - CR_MAX_WINDOW_USECS;
	if (b.upper_inclusive && !st->res->to_inclusive)
	{
		b.upper += 1;
		b.upper_inclusive = false;
	}

	for (from = b.lower; from < b.upper || (from == b.upper && b.upper_inclusive);)
	{
		bool		last = (b.upper - from) <= CR_MAX_WINDOW_USECS;
		CrChain    *c;
		char	   *to_text;

		to = last ? b.upper : from + CR_MAX_WINDOW_USECS;
		/* between windows of an inclusive toDateTime: the exact seam */
		to_text = cr_odata_timestamp(to, !last && st->res->to_inclusive);
		c = cr_make_chain(cr_function_path(st->opts, st->res,
										   cr_odata_timestamp(from, false), to_text),
						  CR_FIRST_COLLECTION, NULL);
		c->window_from = from;
		c->window_to = to;
		chains = lappend(chains, c);
		if (last)
			break;
		from = to;
	}
	return chains;
}

/*
 * Why the log function of a scan cannot be called, or NULL if it can: a
 * condition on the time column that gives no lower bound (or that could
 * not be sent at all) asks for rows in windows nobody can enumerate, and
 * reading the implicit 90 days instead would silently leave rows out.
 */
const char *
cr_function_problem(CrScanState *st, const CrPushedValues *pv, List *windows)
{
	ListCell   *lc;

	if (st->res->window_column == NULL)
		return NULL;			/* a report's window: its own rows */
	if (!pv->has_time)
		return st->time_unpushed ? "unpushed" : NULL;
	foreach(lc, windows)
		if (!((CrTimeBounds *) lfirst(lc))->has_lower)
			return "no lower bound";
	return NULL;
}

/* Raise the error for a problem cr_function_problem found. */
static void
report_function_problem(CrScanState *st, const char *problem)
{
	const char *col = st->res->window_column;

	ereport(ERROR,
			(errcode(ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION),
			 strcmp(problem, "unpushed") == 0 ?
			 errmsg("the condition on %s of foreign table \"%s\" cannot be sent to Graph",
					col, RelationGetRelationName(st->rel)) :
			 errmsg("foreign table \"%s\" needs a lower bound on %s",
					RelationGetRelationName(st->rel), col),
			 errdetail("Graph's %s returns the rows of a window of at most 90 days that the request names; without a lower bound the rows could lie in any window.",
					   st->res->function),
			 errhint("Write the condition as a range of the column itself, e.g. %s >= '2026-11-01' AND %s < '2026-12-01'.",
					 col, col)));
}

/*
 * The time terms of a call record list's $filter for one window.  An
 * inclusive upper bound (from <=, already widened) is sent as "lt".
 */
static List *
window_terms(List *filters, const CrTimeBounds *w)
{
	if (w->has_lower)
		filters = lappend(filters,
						  cr_filter_term(w->lower_strict ? CR_QUAL_TIME_GT : CR_QUAL_TIME_GE,
										 cr_odata_timestamp(w->lower, false)));
	if (w->has_upper)
		filters = lappend(filters,
						  cr_filter_term(w->upper_inclusive ? CR_QUAL_TIME_LE : CR_QUAL_TIME_LT,
										 cr_odata_timestamp(w->upper, false)));
	return filters;
}

/*
 * The requests of pushed values, as chains (and, for the tables below a
 * call record without ids, as the call record lists to go through): one
 * per id, one list per time window, or the log function's windows.
 * Shared by the scan and by EXPLAIN, which shows these very requests.
 */
List *
cr_pushed_chains(CrScanState *st, const CrPushedValues *pv, List **list_paths)
{
	List	   *chains = NIL;
	List	   *windows = cr_pushed_windows(pv);
	ListCell   *lc;

	*list_paths = NIL;
	if (st->res->fetch == CR_FETCH_FUNCTION)
	{
		CrTimeBounds none = {0};

		if (!pv->has_time)
			return pv->none ? NIL : cr_function_chains(st, &none);
		foreach(lc, windows)
			chains = list_concat(chains, cr_function_chains(st, lfirst(lc)));
		return chains;
	}
	if (pv->has_key)
	{
		foreach(lc, cr_unique_ids(list_copy(pv->ids)))
		{
			/* a chain names its record as Graph spells ids: in UTF-8 */
			char	   *id = cr_server_to_utf8(strVal(lfirst(lc)));

			if ((foreach_current_index(lc) & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			chains = lappend(chains,
							 cr_make_chain(cr_record_path(st->opts, st->res, cr_url_escape_utf8(id),
														  st->select, st->expand_segments),
										   st->res->fetch == CR_FETCH_RECORDS ?
										   CR_FIRST_SINGLE : CR_FIRST_EXPANDED_RECORD,
										   id));
		}
		return chains;
	}
	foreach(lc, windows)
	{
		char	   *path = cr_list_path(st->opts, window_terms(list_copy(pv->filters), lfirst(lc)),
										st->res->fetch == CR_FETCH_RECORDS ? st->select : "id");

		if (st->res->fetch == CR_FETCH_RECORDS)
			chains = lappend(chains, cr_make_chain(path, CR_FIRST_COLLECTION, NULL));
		else
			*list_paths = lappend(*list_paths, path);
	}
	return chains;
}

/*
 * Say so (once per scan) when a window reaches back further than Graph
 * keeps what the table reads: 30 days of call records, and windows of the
 * log functions over the last 90 days.  Graph answers such a window
 * without an error, with fewer rows or none, which would otherwise look
 * like a wrapper that lost them.  Counted from cr_reference_time(), as
 * the planner's estimate is.
 */
static void
notice_old_window(CrScanState *st, List *windows)
{
	bool		is_log = st->res->fetch == CR_FETCH_FUNCTION;
	int64		days = is_log ? 90 : 30;
	TimestampTz limit = cr_reference_time() - days * USECS_PER_DAY;
	ListCell   *lc;

	foreach(lc, windows)
	{
		CrTimeBounds *w = lfirst(lc);
		TimestampTz start;

		if (w->has_lower)
			start = w->lower;
		else if (w->has_upper && w->upper <= limit)
			start = w->upper;	/* it ends before what Graph keeps */
		else
			continue;
		if (start >= limit)
			continue;
		st->retention_noticed = true;
		ereport(NOTICE,
				(errmsg("the time window of foreign table \"%s\" reaches back more than %d days",
						RelationGetRelationName(st->rel), (int) days),
				 is_log ?
				 errdetail("Graph's %s answers windows of at most 90 days and does not document rows older than 90 days; they may be missing.",
						   st->res->function) :
				 errdetail("Graph keeps call records for 30 days after the call; older ones are not returned."),
				 is_log ? 0 :
				 errhint("To keep calls longer, copy them daily with callrecords_fdw_archive().")));
		return;
	}
}

/*
 * How many of the 30 days Graph keeps the call record lists of a scan
 * cover, counted back from cr_reference_time() as the planner counts: what
 * they list tells the tenant's size (shape.c).  -1 when something other
 * than time narrows the lists.
 */
static double
list_span_days(const CrPushedValues *pv)
{
	TimestampTz end = cr_reference_time();
	TimestampTz start = end - 30 * USECS_PER_DAY;
	double		days = 0;
	ListCell   *lc;

	if (pv->filters != NIL || pv->none)
		return -1;
	foreach(lc, cr_pushed_windows(pv))
	{
		const CrTimeBounds *w = lfirst(lc);
		TimestampTz lo = w->has_lower ? Max(w->lower, start) : start;
		TimestampTz hi = w->has_upper ? Min(w->upper, end) : end;

		if (!w->empty && hi > lo)
			days += (double) (hi - lo) / USECS_PER_DAY;
	}
	return days;
}

/*
 * Mark the hours the scan's one call record list window covers whole, of
 * the 30 days Graph keeps, for the scan to count the records that started
 * in each (shape.c); a list without bounds covers the 30 days.  A scan of
 * several windows, or of something other than time, notes no hour, nor
 * does one while learning is off.
 */
static void
list_whole_hours(CrScanState *st, const CrPushedValues *pv)
{
	TimestampTz end = cr_reference_time();
	List	   *windows = cr_pushed_windows(pv);
	const CrTimeBounds *w;
	TimestampTz lo,
				hi;
	int32		hour;
	/* the chains whose pages and sessions fetch.c counts (count_shape) */
	bool		chains = st->fanout && st->levels[0] == CR_LEVEL_SESSION;

	memset(st->shape_hours, 0, sizeof(st->shape_hours));
	st->hours_covered = false;
	st->chain_hour = NULL;
	if (!cr_learn_tenant_shape || st->list_span_days < 0 || list_length(windows) != 1)
		return;
	w = linitial(windows);
	lo = w->has_lower ? Max(w->lower, end - 30 * USECS_PER_DAY) : end - 30 * USECS_PER_DAY;
	hi = w->has_upper ? Min(w->upper, end) : end;
	if (lo >= hi || cr_shape_hour_number(lo) == 0 || cr_shape_hour_number(hi) == 0)
		return;					/* nothing of the 30 days, or hours not kept */
	for (hour = cr_shape_hour_number(lo); (int64) hour * USECS_PER_HOUR <= hi; hour++)
	{
		CrShapeHour *h = &st->shape_hours[CR_SHAPE_HOUR_SLOT(hour)];

		if ((int64) (hour - 1) * USECS_PER_HOUR < lo)
			continue;			/* the window starts inside the hour */
		h->hour = hour;
		h->pages = h->sessions = chains ? 0 : -1;
		st->hours_covered = true;
	}
}

/*
 * Evaluate the pushed-down values (once per scan or rescan) and turn them
 * into the request chains of the scan.  Everything is built in the chains
 * context, which the next rescan resets, so a nested loop's rescans do not
 * pile up chains in the query's memory.
 */
void
cr_build_chains(CrScanState *st, ExprContext *econtext)
{
	MemoryContext old = MemoryContextSwitchTo(st->chains_cxt);
	CrPushedValues pv;
	const char *problem;
	ListCell   *lv,
			   *lr;

	cr_pushed_init(&pv, st->roles);
	forboth(lv, st->value_states, lr, st->roles)
	{
		bool		isnull = false;
		Datum		d = st->batched && CR_ROLE_BASE(lfirst_int(lr)) == CR_QUAL_KEY_ARRAY ?
			st->batch_keys : ExecEvalExpr((ExprState *) lfirst(lv), econtext, &isnull);

		cr_pushed_add(&pv, lfirst_int(lr), d, isnull);
	}
	if (st->res->fetch == CR_FETCH_FUNCTION &&
		(problem = cr_function_problem(st, &pv, cr_pushed_windows(&pv))) != NULL)
		report_function_problem(st, problem);
	if (!pv.has_key && !st->retention_noticed)
		notice_old_window(st, cr_pushed_windows(&pv));

	st->chains = cr_pushed_chains(st, &pv, &st->list_paths);
	st->list_span_days = pv.has_key || st->res->fetch == CR_FETCH_FUNCTION ? -1 :
		list_span_days(&pv);
	st->listed = 0;
	st->chain_counted = false;
	st->shape_chains = 0;
	st->shape_pages = st->shape_sessions = 0;
	if (st->res->fetch == CR_FETCH_RECORD_CHILDREN && !pv.has_key)
	{
		/* list the call records (in each time window), then each one */
		st->fanout = true;
		st->list_ids = NIL;
		cr_next_list_path(st);
	}
	list_whole_hours(st, &pv);

	MemoryContextSwitchTo(old);
	st->next_chain = list_head(st->chains);
	st->chains_started = st->chains_prefetched = 0;
	st->chains_ready = true;
}

/*
 * What the chains just built ask Graph for, as one string: two runs of a
 * scan with the same string read the same pages (keep.c serves the rows
 * kept from the first to the second).
 */
char *
cr_chains_signature(CrScanState *st)
{
	StringInfoData s;
	ListCell   *lc;

	initStringInfo(&s);
	foreach(lc, st->chains)
		appendStringInfo(&s, "%s\n", ((CrChain *) lfirst(lc))->path);
	if (st->fanout)
	{
		appendStringInfo(&s, "list %s\n", st->list_link ? st->list_link : "");
		foreach(lc, st->list_paths)
			appendStringInfo(&s, "list %s\n", (char *) lfirst(lc));
	}
	return s.data;
}

/*
 * Make the next call record list of a fan-out the one to read (a full URL
 * in the scan's context, as the next links that follow it are); false
 * when every list was read.
 */
bool
cr_next_list_path(CrScanState *st)
{
	char	   *path;

	if (st->list_paths == NIL)
		return false;
	path = linitial(st->list_paths);
	st->list_paths = list_delete_first(st->list_paths);
	st->list_link = MemoryContextStrdup(st->scan_cxt,
										psprintf("%s%s", st->opts->graph_url, path));
	st->list_links_begun = false;	/* its link checks begin at its first page */
	return true;
}


/* Note url as asked for in the chain; whether it already was. */
static bool
link_seen(CrLinkCheck *chk, const char *url)
{
	uint64		h = hash_bytes_extended((const unsigned char *) url, strlen(url), 0);
	bool		found;

	(void) hash_search(chk->seen, &h, HASH_ENTER, &found);
	return found;
}

/*
 * Begin (or begin again) the link checks of a chain whose first request
 * is url.  Its next links must stay in the collection that request reads
 * (for a call record with expanded children, the children's:
 * …/callRecords/{id}/sessions); the hashes of the pages asked for are kept
 * to refuse a loop.
 */
void
cr_links_begin(CrScanState *st, CrLinkCheck *chk, const char *url, const char *child)
{
	char	   *coll = cr_url_collection(url);
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	HASHCTL		ctl;

	if (chk->collection)
		pfree(chk->collection);
	chk->collection = coll == NULL ? NULL :
		child ? psprintf("%s/%s", coll, child) : pstrdup(coll);
	MemoryContextSwitchTo(old);
	if (chk->seen)
		hash_destroy(chk->seen);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(uint64);
	ctl.hcxt = st->scan_cxt;
	chk->seen = hash_create("callrecords_fdw pages of a chain", 16, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	(void) link_seen(chk, url);
}

/*
 * The link checks of a chain of its own, in the scan's context: each
 * chain read ahead has one, which its pages share, and which goes with
 * the chain (cr_links_free).
 */
CrLinkCheck *
cr_links_new(CrScanState *st, const char *url, const char *child)
{
	CrLinkCheck *chk = MemoryContextAllocZero(st->scan_cxt, sizeof(CrLinkCheck));

	cr_links_begin(st, chk, url, child);
	return chk;
}

/* Free the link checks of a chain that was read. */
void
cr_links_free(CrLinkCheck *chk)
{
	if (chk == NULL)
		return;
	if (chk->seen)
		hash_destroy(chk->seen);
	if (chk->collection)
		pfree(chk->collection);
	pfree(chk);
}

/*
 * Why a next link may not be followed, or NULL if it may (and then it is
 * noted as asked for): another host (the bearer token goes with it),
 * another collection (a link to another record or /users would put
 * foreign rows under this record) or a page the chain already asked for
 * (a loop would never end).  *coll is the link's collection, for messages.
 */
static const char *
link_problem(CrScanState *st, const char *url, CrLinkCheck *chk, char **coll)
{
	*coll = NULL;
	if (!cr_same_origin(st->opts->graph_url, url))
		return "host";
	*coll = cr_url_collection(url);
	if (*coll == NULL || chk->collection == NULL || strcmp(*coll, chk->collection) != 0)
		return "collection";
	if (link_seen(chk, url))
		return "seen";
	return NULL;
}

/*
 * Whether a next link found ahead of need (in a page not yet parsed) may
 * be followed now; noted as asked for if so.  A link refused here is not
 * followed ahead: reading its page raises the error then, in the order
 * of the rows.
 */
bool
cr_link_allowed(CrScanState *st, const char *url, CrLinkCheck *chk)
{
	char	   *coll;
	const char *problem = link_problem(st, url, chk, &coll);

	if (coll)
		pfree(coll);
	return problem == NULL;
}

/*
 * The next link of a page as a string in the scan's context, after the
 * checks of link_problem.  NULL when the page is the last.
 */
char *
cr_checked_next_link(CrScanState *st, json_t *link, CrLinkCheck *chk)
{
	const char *url;
	char	   *coll;
	const char *problem;

	if (link == NULL || json_is_null(link))
		return NULL;
	url = cr_json_string(link);
	if (url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("Graph next link is not a string")));
	problem = link_problem(st, url, chk, &coll);
	if (problem && strcmp(problem, "host") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to another host"),
				 errdetail("Next links must stay on graph_url; the link was not requested.")));
	if (problem && strcmp(problem, "collection") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to another collection"),
				 errdetail("The link leads to %s, not to more of %s; it was not requested.",
						   coll ? coll : "an unreadable path",
						   chk->collection ? chk->collection : "the collection asked for")));
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("Graph returned a next link to a page already read"),
				 errdetail("Paging would not end; the result would be incomplete.")));
	pfree(coll);
	return MemoryContextStrdup(st->scan_cxt, url);
}
