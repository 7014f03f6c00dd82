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
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/chains.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "callrecords_fdw.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "scan_int.h"

/* Graph serves at most this long a window per log function call. */
#define CR_MAX_WINDOW_USECS		((int64) 90 * USECS_PER_DAY)

/* A bound as sent to Graph: inclusive ones widened by a microsecond. */
TimestampTz
cr_widened(CrQualRole role, TimestampTz t)
{
	if (role == CR_QUAL_TIME_GE)
		return t - 1;
	if (role == CR_QUAL_TIME_LE)
		return t + 1;
	return t;
}

/*
 * Narrow the bounds by one condition.  Of several conditions on a side
 * the tightest wins; at an equal upper bound a comparison (exclusive once
 * widened) wins over the window's inclusive toDateTime.
 */
void
cr_add_time_bound(CrTimeBounds *b, CrQualRole role, TimestampTz t)
{
	t = cr_widened(role, t);
	switch (role)
	{
		case CR_QUAL_TIME_GE:
		case CR_QUAL_WINDOW_FROM:
		case CR_QUAL_TIME_GT:
			if (!b->has_lower || t > b->lower)
				b->lower = t;
			b->has_lower = true;
			break;
		case CR_QUAL_TIME_LE:
			/* rows up to t + 0.5 us round to t or less: fetch < t + 1 us */
		case CR_QUAL_TIME_LT:
		case CR_QUAL_WINDOW_TO:
			if (!b->has_upper || t < b->upper ||
				(t == b->upper && role != CR_QUAL_WINDOW_TO))
			{
				b->upper = t;
				b->upper_inclusive = (role == CR_QUAL_WINDOW_TO);
			}
			b->has_upper = true;
			break;
		default:
			break;
	}
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

/* Add the ids a key value names (one text, or an array of them). */
List *
cr_add_ids(List *ids, CrQualRole role, Datum d)
{
	if (role == CR_QUAL_KEY)
		return list_append_unique(ids, makeString(TextDatumGetCString(d)));
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(d);
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				ids = list_append_unique(ids, makeString(TextDatumGetCString(elems[i])));
		return ids;
	}
}

/*
 * Log function calls covering the bounds, in windows of at most 90 days
 * that neither overlap nor leave a gap: where toDateTime is inclusive, a
 * window ends one 100 ns tick before the next one starts.
 */
List *
cr_function_chains(CrScanState *st, CrTimeBounds *b)
{
	List	   *chains = NIL;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz from,
				to;
	bool		to_inclusive;

	if (!b->has_upper)
	{
		b->upper = now;
		b->upper_inclusive = true;
	}
	if (!b->has_lower)
		b->lower = b->upper - CR_MAX_WINDOW_USECS;

	for (from = b->lower; from < b->upper || (from == b->upper && b->upper_inclusive);)
	{
		bool		last = (b->upper - from) <= CR_MAX_WINDOW_USECS;
		CrChain    *c;
		char	   *to_text;

		to = last ? b->upper : from + CR_MAX_WINDOW_USECS;
		to_inclusive = last ? b->upper_inclusive : false;
		if (!last && st->res->to_inclusive)
			to_text = cr_odata_timestamp(to, true); /* exact seam between windows */
		else if (st->res->to_inclusive || !to_inclusive)
			to_text = cr_odata_timestamp(to, false);	/* at most one instant more */
		else
			to_text = cr_odata_timestamp(to + 1, false);
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
 * Evaluate the pushed-down values (once per scan or rescan) and turn them
 * into the request chains of the scan.  Everything is built in the chains
 * context, which the next rescan resets, so a nested loop's rescans do not
 * pile up chains in the query's memory.
 */
void
cr_build_chains(CrScanState *st, ExprContext *econtext)
{
	MemoryContext old = MemoryContextSwitchTo(st->chains_cxt);
	List	   *ids = NIL;
	bool		has_key = false;
	List	   *filters = NIL;
	CrTimeBounds bounds = {0};
	ListCell   *lv,
			   *lr;

	st->chains = NIL;
	forboth(lv, st->value_states, lr, st->roles)
	{
		CrQualRole	role = lfirst_int(lr);
		bool		isnull;
		Datum		d = ExecEvalExpr((ExprState *) lfirst(lv), econtext, &isnull);

		if (role == CR_QUAL_KEY || role == CR_QUAL_KEY_ARRAY)
		{
			has_key = true;
			if (!isnull)
				ids = cr_add_ids(ids, role, d);
			continue;
		}
		if (role == CR_QUAL_PARTICIPANT)
		{
			if (!isnull)
				filters = lappend(filters, cr_participant_term(cr_odata_string(TextDatumGetCString(d))));
			continue;
		}
		if (isnull)
		{
			/* a comparison with NULL matches no row: fetch nothing */
			MemoryContextSwitchTo(old);
			st->chains_ready = true;
			st->next_chain = NULL;
			return;
		}
		cr_add_time_bound(&bounds, role, DatumGetTimestampTz(d));
		if (st->res->fetch != CR_FETCH_FUNCTION)
		{
			TimestampTz t = cr_widened(role, DatumGetTimestampTz(d));

			filters = lappend(filters, cr_filter_term(role, cr_odata_timestamp(t, false)));
		}
	}

	if (st->res->fetch == CR_FETCH_FUNCTION)
		st->chains = cr_function_chains(st, &bounds);
	else if (has_key)
	{
		ListCell   *lc;

		foreach(lc, ids)
		{
			char	   *id = strVal(lfirst(lc));

			st->chains = lappend(st->chains,
								 cr_make_chain(cr_record_path(st->opts, st->res, cr_url_escape(id),
														  st->select, st->expand_segments),
											st->res->fetch == CR_FETCH_RECORDS ?
											CR_FIRST_SINGLE : CR_FIRST_EXPANDED_RECORD,
											id));
		}
	}
	else if (st->res->fetch == CR_FETCH_RECORDS)
		st->chains = list_make1(cr_make_chain(cr_list_path(st->opts, filters, st->select),
										   CR_FIRST_COLLECTION, NULL));
	else
	{
		/* list the call records (in the start time range), then each one */
		st->fanout = true;
		st->list_link = MemoryContextStrdup(st->scan_cxt,
											psprintf("%s%s", st->opts->graph_url,
													 cr_list_path(st->opts, filters, "id")));
		st->list_ids = NIL;
		st->list_next = NULL;
	}

	MemoryContextSwitchTo(old);
	st->next_chain = list_head(st->chains);
	st->chains_started = st->chains_prefetched = 0;
	st->chains_ready = true;
	if (st->concurrency > 1)
		cr_fill_prefetch(st);
}
