/*-------------------------------------------------------------------------
 *
 * pacing.c
 *		  How many requests a scan keeps in flight: max_concurrency when the
 *		  server sets it, otherwise chosen from the latency the scan
 *		  observes and the rate Graph's tenant limit allows, so that the
 *		  default needs no tuning.
 *
 * Graph's windows allow tenant_rate_limit requests per rate_window.
 * Without max_concurrency the count is the larger of two: what the window
 * still has room for (the remaining budget: sending those now costs no
 * more of it than later, and a burst at the start of the window sets the
 * pattern every later window repeats, as each slot comes free a window
 * after it was used), and the rate times the mean latency of the answers
 * so far with a quarter more (Little's law: what keeps the window's pace
 * once it is full).  Never below 10, the old default, nor above 100,
 * max_concurrency's greatest value.  The room is the scan's own estimate
 * (its requests in the last window, in twentieths of it); requests of
 * other scans fill the window too, and then ratelimit.c holds back what
 * does not fit.
 *
 * Whatever the count, no more than the scan's memory budget has room for:
 * the answers' part of it (fetch.c) over the largest answer so far (or
 * the largest length an answer announced, as soon as its headers came),
 * so that a scan of 10 MB pages keeps a few in flight, not a hundred.
 * Until a size is known, a first wave of CR_FIRST_WAVE (a round trip:
 * the first answers announce their length) when the count is chosen
 * here, so that a scan of big pages does not start more transfers than
 * can finish within its budget; max_concurrency, when set, is the first
 * wave itself.
 *
 * Rules kept here: the windows themselves are enforced by ratelimit.c
 * (cr_admit), never here: this only decides how many requests may be
 * outstanding.  A 429 halves the count, which grows back by one per page
 * that was not throttled.  A scan that shares responses with other scans
 * asks ahead like any other: a page another scan of the statement has
 * asked for already is not asked for again (http.c follows that request).
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

#include "cr_common.h"

#include "utils/timestamp.h"
#include "scan_int.h"

/* The count without max_concurrency and a tenant rate limit, and its floor. */
#define CR_DEFAULT_IN_FLIGHT	10
/* max_concurrency's greatest value (option.c) */
#define CR_MAX_IN_FLIGHT		100
/* requests in flight at most before the size of an answer is known */
#define CR_FIRST_WAVE			10

/*
 * The scan's requests in the last rate window, its newly begun ones
 * counted into the current twentieth of it.
 */
static int
window_requests(CrScanState *st)
{
	CrPacing   *p = &st->pacing;
	int64		width_us = (int64) st->opts->rate_window * USECS_PER_SEC / CR_PACE_BUCKETS;
	int64		now_no = GetCurrentTimestamp() / Max(1, width_us);
	int			i = (int) (now_no % CR_PACE_BUCKETS);
	int			n = 0;

	if (p->bucket_no[i] != now_no)
	{
		p->bucket_no[i] = now_no;
		p->bucket[i] = 0;
	}
	p->bucket[i] += (int) (st->stats.requests - p->counted);
	p->counted = st->stats.requests;
	for (i = 0; i < CR_PACE_BUCKETS; i++)
		if (p->bucket_no[i] > now_no - CR_PACE_BUCKETS)
			n += p->bucket[i];
	return n;
}

/*
 * The size the scan expects an answer to have: the largest that came, or
 * that announced its length (Content-Length) before coming, so far; 0
 * before any did.  The largest, not the mean: a scan of big pages must
 * not start more transfers than the budget lets finish.
 */
size_t
cr_answer_size(const CrScanState *st)
{
	return Max(st->meter.largest, st->meter.announced);
}

/*
 * The most requests the memory budget has room for in flight: the
 * answers' part of it (fetch.c) over the size an answer is expected to
 * have.  Before any size is known, a first wave of CR_FIRST_WAVE when
 * pacing chooses the count: with big pages a hundred transfers started
 * at once would share the budget, those past it would pause, and all
 * would come late, none early; the first answers announce their length
 * a round trip later.  A count the server sets (max_concurrency) goes at
 * once, as the DBA asked: the budget still pauses what does not fit, and
 * bounds the count as soon as a size is known.
 *
 * When pacing chooses, half of that: the budget is a ceiling, not a
 * target.  Answers big enough for the budget to bound the count (over a
 * megabyte with the default) take about as long to come as the round
 * trip, so more of them at once share the same bytes per second: each
 * comes later, none sooner, and they hold twice the memory (10 MB pages,
 * bench f: 24 in flight took 1.4 times as long as 12).  The other half is
 * room for the answers that come together and wait to be read, so that
 * new requests still start meanwhile.  Never below 10, the count without
 * pacing (or what the budget has room for, if less): a few answers in
 * flight still need each other to hide the round trip.
 */
static int
memory_cap(CrScanState *st)
{
	size_t		size = cr_answer_size(st);
	size_t		n;

	if (size == 0)
		return st->opts->max_concurrency > 0 ? CR_MAX_IN_FLIGHT : CR_FIRST_WAVE;
	n = st->meter.limit / size;
	if (st->opts->max_concurrency <= 0)
		n = Max(Min(n, CR_DEFAULT_IN_FLIGHT), n / 2);
	return (int) Max(1, Min(CR_MAX_IN_FLIGHT, n));
}

/*
 * The count Graph's limits and the latency call for: max_concurrency if
 * set, else the larger of the window's room and the tenant rate times the
 * mean latency (a quarter more, one more), within [10, 100].
 */
static int
rate_target(CrScanState *st)
{
	const CrOptions *opts = st->opts;
	double		n = CR_DEFAULT_IN_FLIGHT;

	if (opts->max_concurrency > 0)
		return opts->max_concurrency;
	if (opts->tenant_rate_limit <= 0)
		return CR_DEFAULT_IN_FLIGHT;
	n = Max(n, opts->tenant_rate_limit - window_requests(st));
	if (st->stats.responses > 0)
	{
		double		latency_ms = st->stats.wait_ms / st->stats.responses;
		double		per_ms = opts->tenant_rate_limit / (opts->rate_window * 1000.0);

		n = Max(n, ceil(per_ms * latency_ms * 1.25) + 1);
	}
	return (int) Min(CR_MAX_IN_FLIGHT, n);
}

/*
 * The count the scan aims at: max_concurrency if set, else the larger of
 * the window's room and the tenant rate times the mean latency (a quarter
 * more, one more), within [10, 100]; either way no more than the memory
 * budget has room for.
 */
static int
target(CrScanState *st)
{
	return Min(rate_target(st), memory_cap(st));
}

/*
 * Follow the target, under the cap a 429 set, and note for EXPLAIN
 * ANALYZE the count and whether the memory budget is what bounds it
 * (once an answer's size is known: the first wave is no bound of the
 * budget's), so that a count the budget lowered is not shown as the
 * DBA's or the pacing's.
 */
static void
set_count(CrScanState *st)
{
	int			rate = rate_target(st);
	int			mem = memory_cap(st);
	int			goal = Min(rate, mem);

	st->concurrency = st->pacing.cap > 0 ? Min(goal, st->pacing.cap) : goal;
	st->stats.in_flight_chosen = st->concurrency;
	st->stats.in_flight_memory = cr_answer_size(st) > 0 && mem < rate &&
		st->concurrency == mem;
}

/* The count at the start of a scan (and of each rescan). */
void
cr_pacing_start(CrScanState *st)
{
	st->pacing.cap = 0;
	st->stats.in_flight_auto = st->opts->max_concurrency <= 0;
	set_count(st);
}

/* Follow the target, under the cap a 429 set. */
void
cr_pacing_update(CrScanState *st)
{
	set_count(st);
}

/*
 * After each answer: halve the count when Graph throttled it (and cap it
 * there), else let the cap grow by one, then follow the target, which
 * moves with the latency observed and the window's room.
 */
void
cr_pacing_observe(CrScanState *st, const CrResponse *resp)
{
	CrPacing   *p = &st->pacing;

	/*
	 * Halve the count the scan would use now: the answer may be the first
	 * whose size is known, which ends the first wave (memory_cap), and a
	 * 429 must not halve that wave's count instead, by chance of timing.
	 */
	set_count(st);
	if (resp->throttled > 0)
		p->cap = Max(1, st->concurrency / 2);
	else if (p->cap > 0 && ++p->cap >= target(st))
		p->cap = 0;
	cr_pacing_update(st);
}
