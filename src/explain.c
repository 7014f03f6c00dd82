/*-------------------------------------------------------------------------
 *
 * explain.c
 *		  EXPLAIN of a scan: the Graph requests it makes, built from the
 *		  pushed-down values, and under ANALYZE what they cost.
 *
 * Rule kept here: EXPLAIN shows what the scan sends.  Constants appear as
 * Graph receives them (widened, escaped, split into windows) because they
 * go through the functions the scan uses (chains.c, deparse.c); a value
 * known only at execution appears as its SQL text in braces.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/explain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "cr_common.h"
#include "cr_scan.h"

#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "scan_int.h"
#include "keep.h"

/*
 * A pushed-down value as EXPLAIN shows it: a constant as Graph receives it,
 * anything else (a parameter, now() - interval ...) as its SQL text in
 * braces, with the widening that execution applies.
 */
static char *
explain_value(CrScanState *st, Node *expr, CrQualRole role)
{
	const char *margin = role == CR_QUAL_TIME_GE ? " - 1 µs" :
		role == CR_QUAL_TIME_LE ? " + 1 µs" : "";

	if (expr == st->outer_value)
		return "{value of the outer row}";
	if (IsA(expr, Param) && *margin == '\0')
		return psprintf("$%d", ((Param *) expr)->paramid);
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		Const	   *c = (Const *) expr;

		if (c->consttype == TIMESTAMPTZOID)
			return cr_odata_timestamp(cr_widened(role, DatumGetTimestampTz(c->constvalue)), false);
		if (c->consttype == TEXTOID || c->consttype == VARCHAROID)
			return cr_url_escape(TextDatumGetCString(c->constvalue));
	}
	return psprintf("{%s%s}", deparse_expression(expr, NIL, false, false), margin);
}

/*
 * The ids of a key value known at plan time: a constant, an array
 * constant, or ARRAY[...] of constants (an OR of id equalities), without
 * repeats and without those that name no record.  False when some id is
 * known only at execution.
 */
static bool
constant_ids(Node *expr, CrQualRole role, List **ids)
{
	ListCell   *lc;

	*ids = NIL;
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		*ids = cr_unique_ids(cr_add_ids(NIL, role, ((Const *) expr)->constvalue));
		return true;
	}
	if (!IsA(expr, ArrayExpr))
		return false;
	foreach(lc, ((ArrayExpr *) expr)->elements)
	{
		Node	   *e = lfirst(lc);

		if ((foreach_current_index(lc) & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		while (IsA(e, RelabelType))
			e = (Node *) ((RelabelType *) e)->arg;
		if (!IsA(e, Const))
			return false;
		if (!((Const *) e)->constisnull)
			*ids = cr_add_ids(*ids, CR_QUAL_KEY, ((Const *) e)->constvalue);
	}
	*ids = cr_unique_ids(*ids);
	return true;
}

/* The requests of a scan over call records named by key values. */
static void
explain_key_requests(CrScanState *st, Node *expr, CrQualRole role, ExplainState *es)
{
	List	   *ids = NIL;
	bool		known = expr != st->outer_value && constant_ids(expr, role, &ids);
	ListCell   *lc;

	foreach(lc, ids)
		ExplainPropertyText("Graph request",
							psprintf("GET %s", cr_record_path(st->opts, st->res,
															  cr_url_escape(strVal(lfirst(lc))),
															  st->select, st->expand_segments)), es);
	if (known && ids == NIL)
		ExplainPropertyText("Graph request", "none: no id names a call record", es);
	if (known)
		return;
	if (role == CR_QUAL_KEY_ARRAY && expr == st->outer_value)
	{
		ExplainPropertyText("Graph request",
							psprintf("GET %s, for each id of a batch of outer rows",
									 cr_record_path(st->opts, st->res, "{id}",
													st->select, st->expand_segments)), es);
		return;
	}
	if (role == CR_QUAL_KEY_ARRAY)
	{
		ExplainPropertyText("Graph request",
							psprintf("GET %s, for each element",
									 cr_record_path(st->opts, st->res,
													explain_value(st, expr, CR_QUAL_KEY),
													st->select, st->expand_segments)), es);
		return;
	}
	ExplainPropertyText("Graph request",
						psprintf("GET %s", cr_record_path(st->opts, st->res,
														  explain_value(st, expr, role),
														  st->select, st->expand_segments)), es);
}

/*
 * Whether an expression is a constant, or a conversion of constants that
 * the planner wrapped around a timestamp or date value (to timestamptz in
 * the session time zone, the day after, the end of a date_trunc bucket):
 * those depend only on the time zone, so EXPLAIN can show their result.
 */
static bool
is_converted_constant(Node *n)
{
	if (n == NULL)
		return false;
	if (IsA(n, Const))
		return true;
	if (IsA(n, RelabelType))
		return is_converted_constant((Node *) ((RelabelType *) n)->arg);
	if (IsA(n, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) n;
		ListCell   *lc;

		if (f->funcid != F_TIMESTAMPTZ_DATE && f->funcid != F_TIMESTAMPTZ_TIMESTAMP &&
			f->funcid != F_DATE_PLI && f->funcid != F_TIMESTAMPTZ_PL_INTERVAL)
			return false;
		foreach(lc, f->args)
			if (!is_converted_constant(lfirst(lc)))
				return false;
		return true;
	}
	return false;
}

/* The value of an expression is_converted_constant accepted. */
static Datum
converted_constant(Node *n, bool *isnull)
{
	ExprContext *econtext;
	ExprState  *state;
	Datum		d;

	if (IsA(n, Const))
	{
		*isnull = ((Const *) n)->constisnull;
		return ((Const *) n)->constvalue;
	}
	econtext = CreateStandaloneExprContext();
	state = ExecInitExpr((Expr *) n, NULL);
	d = ExecEvalExpr(state, econtext, isnull);
	FreeExprContext(econtext, true);
	return d;
}

/*
 * The pushed values as constants, when every one that is not a key is
 * one (as the scan would read them); false otherwise.
 */
static bool
constant_values(CrScanState *st, List *exprs, CrPushedValues *pv)
{
	ListCell   *le,
			   *lr;

	cr_pushed_init(pv, st->roles);
	forboth(le, exprs, lr, st->roles)
	{
		Node	   *e = lfirst(le);
		CrQualRole	role = CR_ROLE_BASE(lfirst_int(lr));
		Datum		d;
		bool		isnull;

		if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
			continue;
		if (e == st->outer_value || !is_converted_constant(e))
			return false;
		d = converted_constant(e, &isnull);
		cr_pushed_add(pv, lfirst_int(lr), d, isnull);
	}
	return true;
}

/*
 * The requests of constant values, exactly as the scan makes them (the
 * same functions build them); false when they depend on the time of the
 * query (an open window of a log function ends now).
 */
static bool
explain_constant_requests(CrScanState *st, const CrPushedValues *pv, ExplainState *es)
{
	List	   *windows = cr_pushed_windows(pv);
	List	   *list_paths;
	const char *problem;
	ListCell   *lc;

	if (st->res->fetch == CR_FETCH_FUNCTION)
	{
		if (!pv->has_time)
			return false;
		foreach(lc, windows)
			if (!((CrTimeBounds *) lfirst(lc))->has_upper)
				return false;
		if ((problem = cr_function_problem(st, pv, windows)) != NULL)
		{
			ExplainPropertyText("Graph request",
								psprintf("none: %s on %s (an error at execution)",
										 problem, st->res->window_column), es);
			return true;
		}
	}
	foreach(lc, cr_pushed_chains(st, pv, &list_paths))
		ExplainPropertyText("Graph request",
							psprintf("GET %s", ((CrChain *) lfirst(lc))->path), es);
	foreach(lc, list_paths)
		ExplainPropertyText("Graph request", psprintf("GET %s", (char *) lfirst(lc)), es);
	if (windows == NIL && !(st->res->fetch == CR_FETCH_FUNCTION && !pv->has_time))
		ExplainPropertyText("Graph request", "none: no time can match", es);
	return true;
}

/*
 * The requests of values known only at execution, one template per arm
 * of an OR of ranges, with the SQL text of the values.
 */
static void
explain_template_requests(CrScanState *st, List *exprs, ExplainState *es)
{
	int			narms = 0,
				arm;
	ListCell   *le,
			   *lr;

	foreach(lr, st->roles)
		narms = Max(narms, CR_ROLE_ARM(lfirst_int(lr)));
	for (arm = narms == 0 ? 0 : 1; arm <= narms; arm++)
	{
		List	   *filters = NIL;
		char	   *from = NULL,
				   *to = NULL;

		forboth(le, exprs, lr, st->roles)
		{
			CrQualRole	role = CR_ROLE_BASE(lfirst_int(lr));
			Node	   *e = lfirst(le);
			char	   *shown;

			if ((CR_ROLE_ARM(lfirst_int(lr)) != 0 && CR_ROLE_ARM(lfirst_int(lr)) != arm) ||
				role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
				continue;
			if (role == CR_QUAL_PARTICIPANT)
			{
				filters = lappend(filters, cr_participant_term(
								  IsA(e, Const) && !((Const *) e)->constisnull ?
								  cr_odata_string(TextDatumGetCString(((Const *) e)->constvalue)) :
								  explain_value(st, e, role)));
				continue;
			}
			shown = explain_value(st, e, role);
			if (st->res->fetch != CR_FETCH_FUNCTION)
				filters = lappend(filters, cr_filter_term(role, shown));
			else if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT || role == CR_QUAL_WINDOW_FROM)
				from = from ? psprintf("max(%s, %s)", from, shown) : shown;
			else
				to = to ? psprintf("min(%s, %s)", to, shown) : shown;
		}
		if (st->res->fetch == CR_FETCH_FUNCTION)
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_function_path(st->opts, st->res,
																	from ? from : "{toDateTime - 90 days}",
																	to ? to : "{now()}")), es);
		else
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_list_path(st->opts, filters,
																st->res->fetch == CR_FETCH_RECORDS ?
																st->select : "id")), es);
	}
	if (narms > 0)
		ExplainPropertyText("Graph windows",
							"one per arm of the OR, overlapping ones merged at execution", es);
}

/* The time window a log function reads, and why. */
static void
explain_function_window(CrScanState *st, bool has_time, ExplainState *es)
{
	if (st->res->window_column && !has_time && st->time_unpushed)
		ExplainPropertyText("Graph window",
							psprintf("none: the condition on %s cannot be sent to Graph (an error at execution)",
									 st->res->window_column), es);
	else if (st->res->window_column && !has_time)
		ExplainPropertyText("Graph window",
							psprintf("implicit: the 90 days up to now, as the query has no condition on %s",
									 st->res->window_column), es);
	else
		ExplainPropertyText("Graph window",
							psprintf("split into windows of at most 90 days at execution; toDateTime %s",
									 st->res->to_inclusive ? "inclusive" : "exclusive"), es);
}

/*
 * The scan's memory against its budget (fetch.c): the budget, and with
 * TIMING (they vary from run to run) the most its answers (in flight and
 * waiting) and the page parsed held at once, the transfers the budget
 * paused, and how many next links were followed as soon as their page
 * came.
 */
static void
explain_memory(CrScanState *st, ExplainState *es)
{
	StringInfoData s;

	initStringInfo(&s);
	if (es->timing)
		appendStringInfo(&s, "at most %zu kB of ", (st->meter.peak + 1023) / 1024);
	appendStringInfo(&s, "memory_budget %zu MB (answers in flight and waiting, the page parsed)",
					 st->memory_budget / (1024 * 1024));
	if (es->timing)
		appendStringInfo(&s, "; %lld transfers paused, %lld next links followed as their page came",
						 (long long) st->meter.pauses, (long long) st->links_ahead);
	ExplainPropertyText("Graph memory", s.data, es);
}

/*
 * How many requests the scan kept in flight and why (pacing.c), for a scan
 * of more than one request: the count it ended with, chosen from the
 * latency and the tenant rate, set by max_concurrency, or as many as the
 * memory budget has room for (with big answers); with TIMING the
 * latency it saw and the most in flight at once, which vary from run to
 * run.
 */
static void
explain_in_flight(CrScanState *st, ExplainState *es)
{
	const CrOptions *opts = st->opts;
	StringInfoData s;

	if (st->stats.requests <= 1)
		return;
	initStringInfo(&s);
	appendStringInfo(&s, "%d", st->stats.in_flight_chosen);
	if (st->stats.in_flight_memory)
		appendStringInfoString(&s, " (as many as memory_budget has room for)");
	else if (!st->stats.in_flight_auto)
		appendStringInfoString(&s, " (max_concurrency)");
	else if (opts->tenant_rate_limit <= 0)
		appendStringInfoString(&s, " (the default: no tenant rate limit)");
	else if (es->timing && st->stats.responses > 0)
		appendStringInfo(&s, " chosen from %.0f ms latency and %d requests per %d s",
						 st->stats.wait_ms / st->stats.responses,
						 opts->tenant_rate_limit, opts->rate_window);
	else
		appendStringInfo(&s, " chosen from latency and %d requests per %d s",
						 opts->tenant_rate_limit, opts->rate_window);
	if (es->timing)
		appendStringInfo(&s, "; at most %d at once", st->stats.in_flight_peak);
	ExplainPropertyText("Graph in flight", s.data, es);
	explain_memory(st, es);
}

/*
 * The rescans served from the rows a scan kept (keep.c) instead of Graph's
 * pages, when there were any, and how many rows they returned (looked up
 * by the scan's "column = parameter" conditions when it has some).
 */
static void
explain_kept(CrScanState *st, ExplainState *es)
{
	int64		rescans,
				rows;
	int			probes;

	cr_keep_counts(st->kept, &rescans, &rows, &probes);
	if (rescans == 0)
		return;
	ExplainPropertyText("Graph rescans from kept rows",
						psprintf("%lld, %lld rows returned%s", (long long) rescans, (long long) rows,
								 probes > 0 ? psprintf(", looked up by %d condition%s", probes,
													   probes > 1 ? "s" : "") : ""), es);
}

/*
 * The limit that paces the scan's requests and its window: for a log
 * function, the narrowest of Graph's log limits (they share one window
 * length); else the application and tenant's.  0 when none is set.
 */
static int
pacing_limit(const CrScanState *st, int *window_s)
{
	const CrOptions *opts = st->opts;
	const int	logs[] = {opts->log_function_rate_limit, opts->log_app_rate_limit,
	opts->log_tenant_rate_limit};
	int			limit = 0;
	int			i;

	if (st->res->fetch != CR_FETCH_FUNCTION)
	{
		*window_s = opts->rate_window;
		return opts->tenant_rate_limit;
	}
	*window_s = opts->log_rate_window;
	for (i = 0; i < (int) lengthof(logs); i++)
		if (logs[i] > 0 && (limit == 0 || logs[i] < limit))
			limit = logs[i];
	return limit;
}

/*
 * Graph's limits of the log functions, which pace a log table's requests
 * apart from the call records' (an option set to 0 is left out).
 */
static void
explain_log_limits(CrScanState *st, ExplainState *es)
{
	const CrOptions *opts = st->opts;
	StringInfoData s;

	if (st->res->fetch != CR_FETCH_FUNCTION)
		return;
	initStringInfo(&s);
	if (opts->log_function_rate_limit > 0)
		appendStringInfo(&s, "%d per function", opts->log_function_rate_limit);
	if (opts->log_app_rate_limit > 0)
		appendStringInfo(&s, "%s%d per application", s.len ? ", " : "", opts->log_app_rate_limit);
	if (opts->log_tenant_rate_limit > 0)
		appendStringInfo(&s, "%s%d per tenant", s.len ? ", " : "", opts->log_tenant_rate_limit);
	ExplainPropertyText("Graph log rate limits",
						s.len ? psprintf("%s, per %d s", s.data, opts->log_rate_window) : "off", es);
}

/*
 * What executing the scan cost, for EXPLAIN ANALYZE: what was sent and
 * received, and where the time went.  The bytes parsed show only when
 * pages are pruned, the counters that are usually zero (cache hits,
 * retries, rate limit waits) only when they are not, and times only with
 * TIMING, so that plans stay stable where nothing unusual happened.  The
 * rate windows' sharing always shows: a DBA checks it there.
 */
static void
explain_costs(CrScanState *st, ExplainState *es)
{
	ExplainPropertyInteger("Graph requests", NULL, st->stats.requests, es);
	ExplainPropertyInteger("Graph pages", NULL, st->stats.pages, es);
	ExplainPropertyInteger("Graph bytes", NULL, st->stats.bytes, es);
	if (st->prune)
		ExplainPropertyInteger("Graph bytes parsed", NULL, st->stats.parsed_bytes, es);
	if (st->stats.cache_hits > 0)
		ExplainPropertyInteger("Graph pages from cache", NULL, st->stats.cache_hits, es);
	if (st->stats.retries > 0)
		ExplainPropertyInteger("Graph retries", NULL, st->stats.retries, es);
	if (st->stats.retries > 0 && es->timing)
		ExplainPropertyFloat("Graph retry wait", "ms", st->stats.retry_wait_ms, 3, es);
	if (st->stats.rate_waits > 0)
		ExplainPropertyInteger("Graph requests held for rate limits", NULL, st->stats.rate_waits, es);
	/* always: whether the windows see the other sessions' requests too */
	ExplainPropertyText("Graph rate windows", cr_shared_mode(), es);
	explain_log_limits(st, es);
	if (st->stats.rate_waits > 0 && es->timing)
		ExplainPropertyFloat("Graph rate limit wait", "ms", st->stats.rate_wait_ms, 3, es);
	explain_in_flight(st, es);
	explain_kept(st, es);
	if (es->timing)
		ExplainPropertyFloat("Graph wait", "ms", st->stats.wait_ms, 3, es);
}

/*
 * The requests the planner estimated for the scan (estimate.c: the
 * numbers its costs come from), and the least time Graph's tenant limit
 * allows for them at its steady rate, before anything runs; per outer row
 * for a parameterized scan.  A cost, so shown with COSTS.
 */
static void
explain_estimate(CrScanState *st, ExplainState *es)
{
	double		n = st->est_requests;
	double		secs;
	int			window_s;
	int			limit = pacing_limit(st, &window_s);

	if (n < 0)
		return;
	secs = limit > 0 ? Max(1.0, rint(n)) * window_s / limit : 0;
	if (st->est_per_outer_row)
		ExplainPropertyText("Graph requests (estimate)",
							psprintf("%.1f per outer row", n), es);
	else if (limit > 0)
		ExplainPropertyText("Graph requests (estimate)",
							psprintf("%.0f, at least %.*f s at %d per %d s", Max(1.0, rint(n)),
									 secs < 0.1 ? 2 : 1, secs, limit, window_s), es);
	else
		ExplainPropertyText("Graph requests (estimate)",
							psprintf("%.0f", Max(1.0, rint(n))), es);
}

/*
 * The Graph requests of the scan as the plan determines them (exact for
 * constants, a template with the SQL text of the other values), and under
 * ANALYZE what executing them cost.
 */
void
cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	CrScanState *st = node->fdw_state;
	CrPushedValues pv;
	bool		keyed = false;
	bool		has_time = false;
	bool		exact;
	ListCell   *le,
			   *lr;

	if (st->relations)
		ExplainPropertyText("Relations", st->relations, es);
	ExplainPropertyText("Graph resource", st->res->name, es);

	forboth(le, fsplan->fdw_exprs, lr, st->roles)
	{
		CrQualRole	role = CR_ROLE_BASE(lfirst_int(lr));

		if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
		{
			explain_key_requests(st, lfirst(le), role, es);
			keyed = true;
		}
		else if (role != CR_QUAL_PARTICIPANT)
			has_time = true;
	}
	exact = !keyed && constant_values(st, fsplan->fdw_exprs, &pv) &&
		explain_constant_requests(st, &pv, es);
	if (!keyed && !exact)
		explain_template_requests(st, fsplan->fdw_exprs, es);
	if (st->res->fetch == CR_FETCH_FUNCTION && !exact)
		explain_function_window(st, has_time, es);
	if (!keyed && st->res->fetch == CR_FETCH_RECORD_CHILDREN)
		ExplainPropertyText("Graph request",
							psprintf("GET %s, for each listed call record",
									 cr_record_path(st->opts, st->res, "{id}", NULL,
													st->expand_segments)), es);
	if (st->res->fetch == CR_FETCH_RECORD_CHILDREN)
		ExplainPropertyText("Graph paging",
							psprintf("%s@odata.nextLink, %d %s a page",
									 cr_child_key(st->levels[0]),
									 cr_page_size(st->res),
									 cr_child_key(st->levels[0])), es);

	if (st->page_size_hint > 0)
		ExplainPropertyText("Graph page size hint",
							psprintf("Prefer: odata.maxpagesize=%d (from LIMIT)", st->page_size_hint), es);
	if (es->costs)
		explain_estimate(st, es);

	if (es->analyze)
		explain_costs(st, es);
}
