/*-------------------------------------------------------------------------
 *
 * http.c
 *		  Talking to Microsoft Graph: libcurl transfers, run one at a time
 *		  or several on a multi handle, and retried (the policy and the
 *		  errors of failures are failure.c's).
 *
 * Graph GETs run on one libcurl multi handle per backend, so a scan can
 * keep several in flight; they are retried here on throttling and
 * transient failures, and answers are shared through the statement's
 * cache (cache.c).  The token request (token.c) runs alone, through
 * transfer.c, and the backend waits for it.
 *
 * A transfer the scan's memory budget paused (transfer.c) is resumed
 * here, oldest first, when its scan has room again or waits for it.
 *
 * Rules kept here: the setup and the callbacks of a transfer are
 * transfer.c's, and nothing is thrown from inside them; cancellation is
 * raised with CHECK_FOR_INTERRUPTS() once libcurl has returned, waits
 * sleep on the latch, and neither the client secret nor a token ever
 * appears in a message.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/http.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <curl/curl.h>

#include "cr_common.h"

#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "http_int.h"
#include "lib/ilist.h"


/*
 * What pg_stat_activity shows a backend waiting on Graph as: from 17 on
 * wait events of the extension's own (compat.h), before that Extension.
 * transfer.c names the token request's and the retry delay's.
 */
static uint32 we_response,
			we_rate_limit;

#define WAIT_GRAPH_RESPONSE cr_wait_event("CallrecordsGraphResponse", &we_response)
#define WAIT_GRAPH_RATE_LIMIT cr_wait_event("CallrecordsRateLimit", &we_rate_limit)


/*
 * Asynchronous GETs.  Every Graph GET of the backend runs on one libcurl
 * multi handle, so that a scan can have several requests in flight (the
 * next page of a chain, the first pages of the next call records) while
 * it turns the current page into rows.  A CrFetch lives in a memory
 * context of its own; deleting that context (explicitly, or because the
 * query failed) takes its easy handle off the multi handle first, so no
 * transfer ever writes into freed memory.  Transfers only make progress
 * while some scan waits for one of them.
 */
struct CrFetch
{
	MemoryContext cxt;			/* holds this struct and the body */
	const CrOptions *opts;
	char	   *url;
	int			maxpagesize;
	CrScanStats *stats;
	CrMemoryMeter *meter;		/* the scan's memory budget, or NULL */
	bool		needed;			/* the scan waits for it: never paused */
	dlist_node	active_node;	/* in active_fetches while active */
	bool		active;
	CURL	   *easy;			/* while in flight */
	struct curl_slist *headers;
	CrBodyBuffer buf;
	CrResponse	resp;
	char		errbuf[CURL_ERROR_SIZE];
	instr_time	start;
	instr_time	sent;			/* when libcurl sent the request (if sent_known) */
	bool		sent_known;
	bool		done;			/* the current attempt has finished */
	CURLcode	rc;
	bool		renewed;		/* a 401 already got a new token */
	int			retries;
	double		waited_ms;
	int			throttled;		/* 429 answers seen */
	bool		share;			/* keep the answer for other scans */
	bool		begun;			/* a request was sent (or the cache answered) */
	bool		finished;		/* cr_fetch_wait has its final answer */
	bool		following;		/* waits for another scan's request of the page */
	bool		listed;			/* in shared_fetches */
	dlist_node	shared_node;
	CrRequestScope scope;		/* what it reads, for the rate limits */
	MemoryContextCallback cleanup;
};

/*
 * The requests of answers kept for other scans (share) that have no final
 * answer yet.  A scan that starts a request for the same page follows the
 * one listed instead of sending its own, so that scans sharing responses
 * can ask ahead without asking twice.  A fetch leaves the list when it has
 * its answer (which then is in the statement's cache) or is freed.
 */
static dlist_head shared_fetches = DLIST_STATIC_INIT(shared_fetches);

/*
 * The fetches with a transfer on the multi handle, oldest first: those
 * the memory budget paused are resumed from here, in the order they were
 * started (the order the scan reads them in).
 */
static dlist_head active_fetches = DLIST_STATIC_INIT(active_fetches);

static CURLM *cr_multi = NULL;
static uint64 transfers_done = 0;	/* transfers finished, ever: wakes a pump */

/* how often cr_fetch_progress() looks at the transfers between rows */
#define CR_PROGRESS_INTERVAL_MS 2

static CURLM *
get_multi(void)
{
	if (cr_multi == NULL)
	{
		cr_multi = curl_multi_init();
		if (cr_multi == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not initialize libcurl")));
	}
	return cr_multi;
}

/* Take a fetch's transfer off the multi handle and free libcurl's part. */
static void
fetch_detach(void *arg)
{
	CrFetch    *f = (CrFetch *) arg;

	if (f->active)
		dlist_delete(&f->active_node);
	f->active = false;
	if (f->easy)
	{
		curl_multi_remove_handle(cr_multi, f->easy);
		curl_easy_cleanup(f->easy);
		f->easy = NULL;
	}
	if (f->headers)
	{
		curl_slist_free_all(f->headers);
		f->headers = NULL;
	}
}

/* Take a fetch off the list of shared requests, if it is there. */
static void
fetch_unlist(CrFetch *f)
{
	if (f->listed)
		dlist_delete(&f->shared_node);
	f->listed = false;
}

/*
 * Give back what a fetch's body counted in its scan's memory budget (the
 * buffer is about to be freed, or was).
 */
static void
uncharge(CrFetch *f)
{
	if (f->buf.meter)
		f->buf.meter->held -= Min(f->buf.charged, f->buf.meter->held);
	f->buf.charged = 0;
}

/*
 * Count a body copied into a fetch (from the cache, or another scan's
 * answer) in its scan's budget, as a body received would be.
 */
static void
charge_copy(CrFetch *f, size_t len)
{
	CrMemoryMeter *m = f->meter;

	f->buf.meter = m;
	if (m == NULL)
		return;
	m->held += len + 1;
	f->buf.charged += len + 1;
	m->peak = Max(m->peak, m->held + m->page);
	m->largest = Max(m->largest, len);
}

/*
 * Resume a transfer the memory budget paused, if it is needed now or its
 * scan has room for what it waits to add.
 */
static void
resume_if_room(CrFetch *f)
{
	CrMemoryMeter *m = f->buf.meter;

	if (f->easy == NULL || !f->buf.paused)
		return;
	if (!f->buf.needed && m && m->held + f->buf.want > m->limit)
		return;
	f->buf.paused = false;
	curl_easy_pause(f->easy, CURLPAUSE_CONT);
}

/* Resume the paused transfers there is room for, oldest first. */
static void
resume_paused(void)
{
	dlist_mutable_iter it;

	dlist_foreach_modify(it, &active_fetches)
		resume_if_room(dlist_container(CrFetch, active_node, it.cur));
}

/*
 * What deleting a fetch's context does: its transfer stops, it is
 * unlisted, and its body leaves the scan's memory budget.
 */
static void
fetch_cleanup(void *arg)
{
	fetch_detach(arg);
	fetch_unlist((CrFetch *) arg);
	uncharge((CrFetch *) arg);
}

/*
 * The request of another scan for the same page as f (same user mapping,
 * URL and page size), still without its final answer, or NULL.
 */
static CrFetch *
shared_leader(CrFetch *f)
{
	dlist_iter	it;

	dlist_foreach(it, &shared_fetches)
	{
		CrFetch    *g = dlist_container(CrFetch, shared_node, it.cur);

		if (g != f && g->opts->umid == f->opts->umid && g->maxpagesize == f->maxpagesize &&
			strcmp(g->url, f->url) == 0)
			return g;
	}
	return NULL;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * libcurl's call just before it sends a request (CURLOPT_PREREQFUNCTION):
 * the send time, for note_lateness().  Only notes the time: nothing may
 * be raised inside a libcurl callback.
 */
static int
sent_callback(void *clientp, char *primary_ip, char *local_ip,
			  int primary_port, int local_port)
{
	CrFetch    *f = (CrFetch *) clientp;

	(void) primary_ip;
	(void) local_ip;
	(void) primary_port;
	(void) local_port;
	INSTR_TIME_SET_CURRENT(f->sent);
	f->sent_known = true;
	return CURL_PREREQFUNC_OK;
}
#endif

/*
 * Have libcurl note when it sends the fetch's request, where it can: the
 * rate windows' margin is the spread of how late requests reach Graph
 * (note_lateness()).
 */
static void
note_send_time(CrFetch *f)
{
	f->sent_known = false;
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(f->easy, CURLOPT_PREREQFUNCTION, sent_callback);
	curl_easy_setopt(f->easy, CURLOPT_PREREQDATA, f);
#endif
}

/* Start (or start again) the transfer of a fetch the rate limits admitted. */
static void
fetch_begin(CrFetch *f)
{
	const char *token = cr_get_token(f->opts);
	char	   *auth = psprintf("Authorization: Bearer %s", token);

	fetch_detach(f);
	uncharge(f);
	if (f->buf.data)
		pfree(f->buf.data);
	memset(&f->buf, 0, sizeof(f->buf));
	f->buf.cxt = f->cxt;
	f->buf.limit = (size_t) f->opts->max_response_bytes;
	f->buf.meter = f->meter;
	f->buf.needed = f->needed;
	memset(&f->resp, 0, sizeof(f->resp));
	f->errbuf[0] = '\0';
	f->done = false;

	f->headers = curl_slist_append(NULL, auth);
	explicit_bzero(auth, strlen(auth));
	pfree(auth);
	f->headers = curl_slist_append(f->headers, "Accept: application/json");
	{
		char		prefer[96];

		/*
		 * Members Graph added to an evolvable enum after unknownFutureValue
		 * (productFamily's azureCommunicationServices) come only to a client
		 * that asks for them; otherwise Graph writes unknownFutureValue.
		 */
		if (f->maxpagesize > 0)
			snprintf(prefer, sizeof(prefer),
					 "Prefer: include-unknown-enum-members, odata.maxpagesize=%d", f->maxpagesize);
		else
			strlcpy(prefer, "Prefer: include-unknown-enum-members", sizeof(prefer));
		f->headers = curl_slist_append(f->headers, prefer);
	}
	f->easy = curl_easy_init();
	f->begun = true;
	if (f->easy == NULL || f->headers == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("could not start a Graph request")));
	cr_setup_transfer(f->easy, f->opts, f->url, f->headers, NULL, &f->buf, &f->resp, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
	note_send_time(f);
	INSTR_TIME_SET_CURRENT(f->start);
	dlist_push_tail(&active_fetches, &f->active_node);
	f->active = true;
	if (curl_multi_add_handle(get_multi(), f->easy) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not start a Graph request")));
	if (f->stats)
		f->stats->requests++;
}

/*
 * Tell the rate windows how late a request reached Graph.  Graph counts
 * it somewhere between the moment libcurl sent it and the first byte of
 * the answer (less the answer's transfer).  The latter also holds Graph's
 * time to build the answer, which varies with the page and would widen
 * the windows' margin for nothing; the former leaves out the waits on
 * Graph's side before it counts.  So the middle of the two where libcurl
 * tells the send time (7.80 on), else the first byte.
 */
static void
note_lateness(CrFetch *f, double elapsed_ms)
{
	curl_off_t	first_byte_us = 0;
	curl_off_t	total_us = 0;
	double		late_ms;

	if (curl_easy_getinfo(f->easy, CURLINFO_STARTTRANSFER_TIME_T, &first_byte_us) != CURLE_OK ||
		curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &total_us) != CURLE_OK)
		return;
	late_ms = elapsed_ms - (total_us - first_byte_us) / 1000.0;
	if (f->sent_known)
	{
		instr_time	sent = f->sent;

		INSTR_TIME_SUBTRACT(sent, f->start);
		late_ms = (late_ms + INSTR_TIME_GET_MILLISEC(sent)) / 2;
	}
	cr_note_lateness(f->opts, late_ms);
}

/*
 * The hosts (scheme, host and port: the URL up to its path) that answered
 * a Graph GET in the current statement, a few of them: a refused
 * connection to one of them is a restart on the way, worth a retry, where
 * one to a host that never answered is a wrong setting (failure.c).
 * Fixed arrays, so that noting one never allocates.
 */
#define CR_ANSWERED_HOSTS	4
#define CR_ORIGIN_LEN		256

static uint64 answered_statement = 0;
static int	answered_count = 0;
static char answered_hosts[CR_ANSWERED_HOSTS][CR_ORIGIN_LEN];

/* The length of a URL's origin ("https://host:port"), 0 if too long. */
static size_t
origin_length(const char *url)
{
	const char *p = strstr(url, "://");
	size_t		len;

	if (p == NULL)
		return 0;
	len = (p + 3 - url) + strcspn(p + 3, "/?#");
	return len < CR_ORIGIN_LEN ? len : 0;
}

/* The slot of url's host among those that answered this statement, or -1. */
static int
answered_slot(const char *url)
{
	size_t		len = origin_length(url);
	int			i;

	if (answered_statement != cr_statement_number())
	{
		answered_statement = cr_statement_number();
		answered_count = 0;
	}
	for (i = 0; len > 0 && i < answered_count; i++)
		if (strlen(answered_hosts[i]) == len && strncmp(answered_hosts[i], url, len) == 0)
			return i;
	return -1;
}

/* Note that url's host answered in this statement. */
static void
note_host_answered(const char *url)
{
	size_t		len = origin_length(url);

	if (len == 0 || answered_slot(url) >= 0)
		return;
	if (answered_count < CR_ANSWERED_HOSTS)
		answered_count++;
	memcpy(answered_hosts[answered_count - 1], url, len);
	answered_hosts[answered_count - 1][len] = '\0';
}

/*
 * Let libcurl move every transfer on, and mark the finished ones done.
 * Never throws while a transfer is half-handled: the outcome is only
 * recorded here and judged by the fetch's waiter.
 */
static void
drive_transfers(void)
{
	int			running;
	int			left;
	CURLMsg    *msg;

	resume_paused();
	curl_multi_perform(get_multi(), &running);
	while ((msg = curl_multi_info_read(cr_multi, &left)) != NULL)
	{
		CrFetch    *f = NULL;
		instr_time	elapsed;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &f);
		if (f == NULL)
			continue;
		f->rc = msg->data.result;
		f->done = true;
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, f->start);
		if (f->stats)
		{
			f->stats->bytes += f->buf.len;
			f->stats->wait_ms += INSTR_TIME_GET_MILLISEC(elapsed);
			f->stats->responses++;
		}
		transfers_done++;
		/* the response code is read before the handle goes */
		if (f->rc == CURLE_OK)
		{
			curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->resp.status);
			note_lateness(f, INSTR_TIME_GET_MILLISEC(elapsed));
			note_host_answered(f->url);
			if (f->meter)
				f->meter->largest = Max(f->meter->largest, f->buf.len);
		}
	}
}

/*
 * Move the transfers in flight on without waiting, between the rows of a
 * page: answers that came are marked done, so that the scan follows their
 * next links and uses their slots while it is busy with a page, not only
 * when it next waits for one.  At most every CR_PROGRESS_INTERVAL_MS, and
 * libcurl reads the sockets only when poll() says one has something.
 * Returns true when it looked (the caller then tops its requests up).
 */
bool
cr_fetch_progress(void)
{
	static instr_time last;
	instr_time	now;
	int			ready = 0;

	if (cr_multi == NULL)
		return false;
	INSTR_TIME_SET_CURRENT(now);
	if (!INSTR_TIME_IS_ZERO(last))
	{
		instr_time	since = now;

		INSTR_TIME_SUBTRACT(since, last);
		if (INSTR_TIME_GET_MILLISEC(since) < CR_PROGRESS_INTERVAL_MS)
			return false;
	}
	last = now;
	if (curl_multi_wait(cr_multi, NULL, 0, 0, &ready) == CURLM_OK && ready > 0)
		drive_transfers();
	return true;
}

/*
 * Admit a fetch's request against the budget and Graph's limits
 * (ratelimit.c) with the token at hand: a request is counted in the
 * windows when admitted, and a token request between the two would send
 * it a round trip later than counted, so Graph, counting arrivals, could
 * see more in its window than the wrapper did.
 */
static double
admit(CrFetch *f, int reserve)
{
	(void) cr_get_token(f->opts);
	return cr_admit(f->opts, &f->scope, reserve);
}

/*
 * Start a GET of url (a Graph path joined to graph_url, or a next link)
 * that reads scope.  The answer comes from the statement's cache if it has
 * it, and goes into it when share is set.  A request started ahead of need
 * passes how many requests of the budget it must leave (reserve) and gets
 * NULL when they are not there.  The fetch lives in a new context under
 * the current one.
 */
CrFetch *
cr_fetch_start(const CrOptions *opts, const char *url, const CrRequestScope *scope,
			   int reserve, int maxpagesize, bool share, CrScanStats *stats,
			   CrMemoryMeter *meter)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "callrecords_fdw fetch",
											  ALLOCSET_DEFAULT_SIZES);
	CrFetch    *f = MemoryContextAllocZero(cxt, sizeof(CrFetch));
	CrCachedPage *hit;
	double		delay;

	f->cxt = cxt;
	f->opts = opts;
	f->url = MemoryContextStrdup(cxt, url);
	f->maxpagesize = maxpagesize;
	f->scope.kind = scope->kind;
	f->scope.name = scope->name ? MemoryContextStrdup(cxt, scope->name) : NULL;
	f->share = share;
	f->stats = stats;
	f->meter = meter;
	f->cleanup.func = fetch_cleanup;
	f->cleanup.arg = f;
	MemoryContextRegisterResetCallback(cxt, &f->cleanup);

	hit = cr_cache_lookup(opts->umid, url, maxpagesize);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	/* the fuzz harness (tests/libfuzzer) answers instead of the network */
	if (!hit)
	{
		cr_fuzz_answer(url, cxt, &f->resp);
		f->rc = CURLE_OK;
		f->done = true;
		f->begun = true;
		return f;
	}
#endif
	if (hit)
	{
		/* a copy: the cache may drop the page before the fetch is read */
		f->resp.status = 200;
		f->resp.body = MemoryContextAlloc(cxt, hit->body_len + 1);
		memcpy(f->resp.body, hit->body, hit->body_len + 1);
		f->resp.body_len = hit->body_len;
		charge_copy(f, hit->body_len);
		f->rc = CURLE_OK;
		f->done = true;
		f->begun = true;
		f->easy = NULL;
		f->buf.cxt = cxt;
		if (stats)
			stats->cache_hits++;
		return f;
	}
	/* another scan asked for the page already: its answer will serve */
	if (share && shared_leader(f) != NULL)
	{
		f->following = true;
		return f;
	}

	/*
	 * A request ahead of need that the budget has no room for is not
	 * started at all; one that must wait for Graph's limits is sent when
	 * they admit it (cr_fetch_try_begin) or when waited for.
	 */
	delay = admit(f, reserve);
	if (delay < 0)
	{
		MemoryContextDelete(cxt);
		return NULL;
	}
	if (share)
	{
		dlist_push_tail(&shared_fetches, &f->shared_node);
		f->listed = true;
	}
	if (delay > 0)
	{
		INSTR_TIME_SET_CURRENT(f->start);	/* held since */
		return f;
	}
	fetch_begin(f);
	drive_transfers();
	return f;
}

/* The URL a fetch asks for. */
const char *
cr_fetch_url(CrFetch *f)
{
	return f->url;
}

/*
 * Where a fetch is, so a scan can count its requests in flight: not yet
 * sent (Graph's limits held it back), in flight, or answered.
 */
CrFetchState
cr_fetch_state(CrFetch *f)
{
	if (f->following)
	{
		CrFetch    *leader = shared_leader(f);

		if (leader)
			return cr_fetch_state(leader);
		return cr_cache_lookup(f->opts->umid, f->url, f->maxpagesize) ?
			CR_FETCH_ANSWERED : CR_FETCH_HELD;
	}
	if (!f->begun)
		return CR_FETCH_HELD;
	return f->done ? CR_FETCH_ANSWERED : CR_FETCH_IN_FLIGHT;
}

/*
 * A fetch that followed another scan's request for its page, whose
 * request went without an answer in the cache (that scan dropped it):
 * true when it must now be a request of its own, which is listed for
 * others to follow.  False while it still has something to follow.
 */
static bool
stop_following(CrFetch *f)
{
	if (shared_leader(f) != NULL ||
		cr_cache_lookup(f->opts->umid, f->url, f->maxpagesize) != NULL)
		return false;
	f->following = false;
	dlist_push_tail(&shared_fetches, &f->shared_node);
	f->listed = true;
	return true;
}

/*
 * Send a fetch that Graph's limits held back if they admit it now, so it
 * need not wait until the scan reaches it.  Returns 0 when it was sent (or
 * already was), else the milliseconds until it may be.
 */
double
cr_fetch_try_begin(CrFetch *f)
{
	double		delay;

	if (f->following && !stop_following(f))
		return 0;
	if (f->begun)
		return 0;
	delay = admit(f, 0);
	if (delay > 0)
		return delay;
	if (f->stats)
	{
		instr_time	held;

		INSTR_TIME_SET_CURRENT(held);
		INSTR_TIME_SUBTRACT(held, f->start);
		f->stats->rate_waits++;
		f->stats->rate_wait_ms += INSTR_TIME_GET_MILLISEC(held);
	}
	fetch_begin(f);
	drive_transfers();
	return 0;
}

/* Forget a fetch: its transfer stops and its memory goes. */
void
cr_fetch_free(CrFetch *f)
{
	MemoryContextDelete(f->cxt);
}

/*
 * Sleep for ms while the transfers in flight go on, waking for interrupts
 * at least every 100 ms.
 */
static void
wait_driving_transfers(double ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) ceil(ms));

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		drive_transfers();
		cr_poll_transfers(get_multi(), (int) Min(left, 100), WAIT_GRAPH_RATE_LIMIT);
	}
}

/*
 * Send a fetch's request once it fits Graph's limits (ratelimit.c),
 * waiting interruptibly until then; transfers already in flight go on.
 */
static void
begin_within_limits(CrFetch *f)
{
	double		delay;
	bool		waited = false;

	while ((delay = admit(f, 0)) > 0)
	{
		instr_time	start,
					elapsed;

		INSTR_TIME_SET_CURRENT(start);
		wait_driving_transfers(delay);
		INSTR_TIME_SET_CURRENT(elapsed);
		INSTR_TIME_SUBTRACT(elapsed, start);
		if (f->stats)
			f->stats->rate_wait_ms += INSTR_TIME_GET_MILLISEC(elapsed);
		waited = true;
	}
	if (waited && f->stats)
		f->stats->rate_waits++;
	fetch_begin(f);
}

static bool wait_following(CrFetch *f, CrResponse *resp, CrFetchPump pump, void *pump_arg);

/* A waiting scan's pump and when it runs next. */
typedef struct CrPumpState
{
	CrFetchPump pump;
	void	   *arg;
	uint64		seen;			/* transfers_done when it last ran */
	TimestampTz due;			/* when it asked to run again, or 0 */
} CrPumpState;

/*
 * Let the waiting scan start more requests: when a transfer has finished
 * since the pump last ran (a slot in flight is free), or when the time it
 * asked for has come (Graph's limits may now admit a request it holds).
 * Returns how long to poll before calling again, at most 100 ms so that
 * interrupts are serviced.
 */
static int
pump_transfers(CrPumpState *ps)
{
	TimestampTz now = GetCurrentTimestamp();
	double		next;

	if (ps->pump == NULL)
		return 100;
	if (ps->seen == transfers_done && (ps->due == 0 || now < ps->due))
		return ps->due == 0 ? 100 :
			(int) Min(100, Max(1, TimestampDifferenceMilliseconds(now, ps->due)));
	ps->seen = transfers_done;
	next = ps->pump(ps->arg);
	drive_transfers();
	ps->due = next > 0 ? TimestampTzPlusMilliseconds(now, (int64) ceil(next)) : 0;
	return next > 0 ? (int) Min(100, Max(1, ceil(next))) : 100;
}

/*
 * Wait until a fetch has its final answer, applying the policy for
 * failures: a new token once after a 401, then up to max_retries retries
 * of retryable answers, waiting at most max_retry_wait seconds in all.
 * Other transfers go on meanwhile, and the caller's pump (if any) may
 * start more.  resp points into the fetch's memory.
 */
void
cr_fetch_wait(CrFetch *f, CrResponse *resp, CrFetchPump pump, void *pump_arg)
{
	CrPumpState ps = {pump, pump_arg, transfers_done - 1, 0};	/* runs at once */

	if (f->finished)
	{
		*resp = f->resp;
		return;
	}
	/* the answer waited for is never held back by the memory budget */
	f->needed = f->buf.needed = true;
	resume_if_room(f);
	if (f->following && wait_following(f, resp, pump, pump_arg))
		return;
	/* the other transfers move on at each page, even one already answered */
	drive_transfers();
	if (!f->begun)
		begin_within_limits(f);
	for (;;)
	{
		double		delay;

		while (!f->done)
		{
			drive_transfers();
			if (f->done)
				break;
			cr_poll_transfers(cr_multi, pump_transfers(&ps), WAIT_GRAPH_RESPONSE);
			CHECK_FOR_INTERRUPTS();
		}
		if (f->easy != NULL)
		{
			/* a network answer: judge it, then let the handle go */
			cr_finish_transfer(f->easy, f->rc, &f->buf, &f->resp, f->errbuf, f->url);
			f->resp.host_answered = answered_slot(f->url) >= 0;
			fetch_detach(f);
		}
		if (f->resp.status == 429)
			f->throttled++;
		if (f->resp.status == 401 && !f->renewed)
		{
			cr_forget_token(f->opts);
			f->renewed = true;
			begin_within_limits(f);
			continue;
		}
		if (!cr_is_retryable(&f->resp) || f->retries >= f->opts->max_retries)
			break;
		delay = cr_retry_delay_ms(&f->resp, f->retries);
		if (f->waited_ms + delay > f->opts->max_retry_wait * 1000.0)
		{
			f->resp.refused_wait_ms = delay;
			break;
		}
		cr_wait_interruptibly(delay);
		f->waited_ms += delay;
		f->retries++;
		if (f->stats)
		{
			f->stats->retries++;
			f->stats->retry_wait_ms += delay;
		}
		begin_within_limits(f);
	}
	f->resp.retries = f->retries;
	f->resp.throttled = f->throttled;
	f->finished = true;
	fetch_unlist(f);
	*resp = f->resp;
	if (resp->status == 200 && f->buf.data != NULL && f->share)
		cr_cache_store(f->opts->umid, f->url, f->maxpagesize, resp);
	if (resp->status == 0)
		cr_report_transport_error(resp, "GET", f->url);
}

/* Make f's answer a copy of resp, in f's memory. */
static void
copy_answer(CrFetch *f, const CrResponse *resp, const char *body, size_t len)
{
	f->resp = *resp;
	if (body)
	{
		f->resp.body = MemoryContextAlloc(f->cxt, len + 1);
		memcpy(f->resp.body, body, len);
		f->resp.body[len] = '\0';
		f->resp.body_len = len;
		charge_copy(f, len);
	}
	f->begun = f->done = f->finished = true;
	f->following = false;
	if (f->stats)
		f->stats->cache_hits++;
}

/*
 * Wait for the page a fetch follows: the other scan's request (its
 * retries and all, the pump of this scan running meanwhile), or the
 * cache once that request has its answer.  False when neither is left
 * and the fetch must send its own request.
 */
static bool
wait_following(CrFetch *f, CrResponse *resp, CrFetchPump pump, void *pump_arg)
{
	CrFetch    *leader = shared_leader(f);
	CrCachedPage *hit;

	if (leader)
	{
		CrResponse	lr;

		cr_fetch_wait(leader, &lr, pump, pump_arg);
		copy_answer(f, &lr, lr.body, lr.body_len);
		*resp = f->resp;
		return true;
	}
	hit = cr_cache_lookup(f->opts->umid, f->url, f->maxpagesize);
	if (hit)
	{
		CrResponse	r = {0};

		r.status = 200;
		copy_answer(f, &r, hit->body, hit->body_len);
		*resp = f->resp;
		return true;
	}
	(void) stop_following(f);
	return false;
}

/*
 * The body of a fetch whose request has come back with a 200 (before the
 * scan reads it: a page answered ahead), to look into without waiting;
 * false while there is none, or when the answer is not a 200 (a retry may
 * follow).
 */
bool
cr_fetch_peek(CrFetch *f, const char **body, size_t *len)
{
	if (f->following)
	{
		CrFetch    *leader = shared_leader(f);
		CrCachedPage *hit;

		if (leader)
			return cr_fetch_peek(leader, body, len);
		hit = cr_cache_lookup(f->opts->umid, f->url, f->maxpagesize);
		if (hit == NULL)
			return false;
		*body = hit->body;
		*len = hit->body_len;
		return true;
	}
	if (!f->begun || !f->done || f->resp.status != 200)
		return false;
	if (f->easy == NULL && f->resp.body)
	{
		*body = f->resp.body;	/* from the cache, or final */
		*len = f->resp.body_len;
		return true;
	}
	if (f->rc != CURLE_OK || f->buf.data == NULL || f->buf.too_large || f->buf.out_of_memory)
		return false;
	*body = f->buf.data;
	*len = f->buf.len;
	return true;
}

/* The bytes of its answer a fetch holds so far (none while it follows). */
size_t
cr_fetch_bytes(CrFetch *f)
{
	if (f->following)
		return 0;
	return Max(f->buf.len, f->resp.body_len);
}

/* Callbacks that live as long as the backend. */
void
cr_http_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("could not initialize libcurl")));
	cr_token_init();
	cr_cache_init();
}
