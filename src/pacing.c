/*-------------------------------------------------------------------------
 *
 * pacing.c
 *		  How many requests a scan keeps in flight: max_concurrency when the
 *		  server sets it, otherwise chosen from the latency the scan
 *		  observes and the rate Graph's tenant limit allows, so that the
 *		  default needs no tuning.
 *
 * Graph's windows allow tenant_rate_limit requests per rate_window; a scan
 * reaches that rate only with rate x latency requests in flight (Little's
 * law), and more in flight gains nothing once the window is full.  So
 * without max_concurrency the count is that product with a quarter more
 * for the variance of latency, never below the old default of 10 (a
 * burst while the window has room) nor above 100, max_concurrency's
 * greatest value; before the first answer it is 10.
 *
 * Rules kept here: the windows themselves are enforced by ratelimit.c
 * (cr_admit), never here: this only decides how many requests may be
 * outstanding.  A 429 halves the count, which grows back by one per page
 * that was not throttled.  A scan that shares responses with other scans
 * fetches one page at a time.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/pacing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "callrecords_fdw.h"

#include "scan_int.h"

/* The count without max_concurrency before any answer, and its floor. */
#define CR_DEFAULT_IN_FLIGHT	10
/* max_concurrency's greatest value (option.c) */
#define CR_MAX_IN_FLIGHT		100

/*
 * The count the scan aims at: max_concurrency if set, else the tenant
 * rate times the mean latency of the answers so far, a quarter more and
 * one more, within [10, 100].
 */
static int
target(CrScanState *st)
{
	const CrOptions *opts = st->opts;
	double		latency_ms;
	double		per_ms;
	double		n;

	if (st->share_responses)
		return 1;
	if (opts->max_concurrency > 0)
		return opts->max_concurrency;
	if (opts->tenant_rate_limit <= 0 || st->stats.responses == 0)
		return CR_DEFAULT_IN_FLIGHT;
	latency_ms = st->stats.wait_ms / st->stats.responses;
	per_ms = opts->tenant_rate_limit / (opts->rate_window * 1000.0);
	n = ceil(per_ms * latency_ms * 1.25) + 1;
	return (int) Min(CR_MAX_IN_FLIGHT, Max(CR_DEFAULT_IN_FLIGHT, n));
}

/* The count at the start of a scan (and of each rescan). */
void
cr_pacing_start(CrScanState *st)
{
	st->in_flight_cap = 0;
	st->concurrency = target(st);
	st->stats.in_flight_auto = !st->share_responses && st->opts->max_concurrency <= 0;
	st->stats.in_flight_chosen = st->concurrency;
}

/*
 * After each answer: halve the count when Graph throttled it (and cap it
 * there), else let the cap grow by one and follow the target, which moves
 * with the latency observed.
 */
void
cr_pacing_observe(CrScanState *st, const CrResponse *resp)
{
	int			goal = target(st);

	if (resp->throttled > 0)
		st->in_flight_cap = Max(1, st->concurrency / 2);
	else if (st->in_flight_cap > 0 && ++st->in_flight_cap >= goal)
		st->in_flight_cap = 0;
	st->concurrency = st->in_flight_cap > 0 ? Min(goal, st->in_flight_cap) : goal;
	st->stats.in_flight_chosen = st->concurrency;
}
