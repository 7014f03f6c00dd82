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

#include "callrecords_fdw.h"

#include "catalog/pg_type.h"
#include "utils/ruleutils.h"
#include "utils/timestamp.h"
#include "scan_int.h"

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

/* The requests of a scan over call records named by key values. */
static void
explain_key_requests(CrScanState *st, Node *expr, CrQualRole role, ExplainState *es)
{
	if (role == CR_QUAL_KEY_ARRAY && IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		List	   *ids = cr_add_ids(NIL, role, ((Const *) expr)->constvalue);
		ListCell   *lc;

		foreach(lc, ids)
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_record_path(st->opts, st->res,
																  cr_url_escape(strVal(lfirst(lc))),
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
 * The log function calls of a scan.  With constant bounds they are the
 * exact requests, windows and all; otherwise a template with the SQL text
 * of the values.
 */
static void
explain_function_requests(CrScanState *st, List *exprs, ExplainState *es)
{
	CrTimeBounds bounds = {0};
	bool		all_const = true;
	char	   *from = NULL,
			   *to = NULL;
	ListCell   *le,
			   *lr;

	forboth(le, exprs, lr, st->roles)
	{
		Node	   *e = lfirst(le);

		if (IsA(e, Const) && !((Const *) e)->constisnull)
			cr_add_time_bound(&bounds, lfirst_int(lr),
						   DatumGetTimestampTz(((Const *) e)->constvalue));
		else
			all_const = false;
	}

	if (all_const && bounds.has_upper)
	{
		ListCell   *lc;

		foreach(lc, cr_function_chains(st, &bounds))
			ExplainPropertyText("Graph request",
								psprintf("GET %s", ((CrChain *) lfirst(lc))->path), es);
		return;
	}

	forboth(le, exprs, lr, st->roles)
	{
		CrQualRole	role = lfirst_int(lr);
		char	   *text = explain_value(st, lfirst(le), role);

		if (role == CR_QUAL_TIME_GE || role == CR_QUAL_TIME_GT || role == CR_QUAL_WINDOW_FROM)
			from = from ? psprintf("max(%s, %s)", from, text) : text;
		else
			to = to ? psprintf("min(%s, %s)", to, text) : text;
	}
	ExplainPropertyText("Graph request",
						psprintf("GET %s", cr_function_path(st->opts, st->res,
															from ? from : "{toDateTime - 90 days}",
															to ? to : "{now()}")), es);
	ExplainPropertyText("Graph window",
						psprintf("split into windows of at most 90 days at execution; toDateTime %s",
								 st->res->to_inclusive ? "inclusive" : "exclusive"), es);
}

/*
 * What executing the scan cost, for EXPLAIN ANALYZE: what was sent and
 * received, and where the time went.  The bytes parsed show only when
 * pages are pruned, the counters that are usually zero (cache hits,
 * retries, rate limit waits) only when they are not, and times only with
 * TIMING, so that plans stay stable where nothing unusual happened.
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
	if (st->stats.rate_waits > 0 && es->timing)
		ExplainPropertyFloat("Graph rate limit wait", "ms", st->stats.rate_wait_ms, 3, es);
	if (es->timing)
		ExplainPropertyFloat("Graph wait", "ms", st->stats.wait_ms, 3, es);
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
	List	   *filters = NIL;
	bool		keyed = false;
	ListCell   *le,
			   *lr;

	ExplainPropertyText("Graph resource", st->res->name, es);

	if (st->res->fetch == CR_FETCH_FUNCTION)
		explain_function_requests(st, fsplan->fdw_exprs, es);
	else
	{
		forboth(le, fsplan->fdw_exprs, lr, st->roles)
		{
			CrQualRole	role = lfirst_int(lr);

			if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
			{
				explain_key_requests(st, lfirst(le), role, es);
				keyed = true;
			}
			else if (role == CR_QUAL_PARTICIPANT)
			{
				Node	   *e = lfirst(le);

				filters = lappend(filters, cr_participant_term(
															   IsA(e, Const) && !((Const *) e)->constisnull ?
															   cr_odata_string(TextDatumGetCString(((Const *) e)->constvalue)) :
															   explain_value(st, e, role)));
			}
			else
			{
				filters = lappend(filters, cr_filter_term(role, explain_value(st, lfirst(le), role)));
			}
		}
		if (!keyed)
			ExplainPropertyText("Graph request",
								psprintf("GET %s", cr_list_path(st->opts, filters,
																st->res->fetch == CR_FETCH_RECORDS ?
																st->select : "id")), es);
		if (!keyed && st->res->fetch == CR_FETCH_RECORD_CHILDREN)
			ExplainPropertyText("Graph request",
								psprintf("GET %s, for each listed call record",
										 cr_record_path(st->opts, st->res, "{id}", NULL,
														st->expand_segments)), es);
		if (st->res->fetch == CR_FETCH_RECORD_CHILDREN)
			ExplainPropertyText("Graph paging",
								psprintf("%s@odata.nextLink, %d %s a page",
										 cr_child_key(st->levels[0]),
										 st->levels[0] == CR_LEVEL_PARTICIPANT ? 130 : 60,
										 cr_child_key(st->levels[0])), es);
	}

	if (st->page_size_hint > 0)
		ExplainPropertyText("Graph page size hint",
							psprintf("Prefer: odata.maxpagesize=%d (from LIMIT)", st->page_size_hint), es);

	if (es->analyze)
		explain_costs(st, es);
}
