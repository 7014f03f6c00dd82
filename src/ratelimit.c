/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		  Admitting Graph requests: the statement's request budget and
 *		  Graph's throttling limits, checked and counted in one place.
 *
 * Every Graph request (a retry too) passes cr_admit() once, with the
 * scope it reads passed by the caller, which built the URL from it: one
 * call record (its next links included), the call record list, or a log
 * function.  A statement, for the budget here as for the response cache
 * (cache.c), is what cr_statement_number() (statement.c) says it is.
 *
 * Graph limits call record requests per application and tenant (1,500
 * per 20 s), per call record (40 per 20 s, a nextLink chain of one big
 * meeting included) and for the call record list (40 per 20 s), and asks
 * clients to stay under those limits up front rather than run into 429s.
 * The log functions (PSTN call records: getPstnCalls and the others) are
 * counted apart, as Graph counts them: 50 requests per 60 s per function,
 * 200 per application and tenant, 1,000 per tenant for all applications
 * (log_*_rate_limit, log_rate_window).
 * A request waits here until it fits every window that applies to it.
 * 429 handling (Retry-After, halved concurrency) stays as the second line.
 * With the library in shared_preload_libraries, the windows of an
 * application and tenant (Graph host, tenant, client id) are shared by
 * every backend of the cluster; otherwise each backend keeps its own, and
 * Graph, counting every client of the application, may still throttle.
 *
 * Each window is a ring of the send times of the last "limit" requests
 * of its scope: a request fits when the ring has room or its oldest entry
 * is older than the window.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/ratelimit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_graph.h"
#include "compat.h"

#include "foreign/foreign.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define SCOPE_LEN 80
/* past this many scopes, forget those with no request in their window */
#define SWEEP_THRESHOLD 4096

typedef struct CrRateKey
{
	uint64		app;			/* the application and tenant (app_key()) */
	char		scope[SCOPE_LEN];	/* "" (all call record requests), "list", "record:<id>",
									 * "logs" (all log requests), "function:<name>" */
} CrRateKey;

typedef struct CrRateWindow
{
	CrRateKey	key;			/* hash key: must be first */
	int			limit;			/* ring size */
	int			count;			/* entries used, up to limit */
	int			oldest;			/* index of the oldest entry once full */
	TimestampTz last;			/* newest send or lookup */
	TimestampTz *sent;			/* in TopMemoryContext */
	/* how late requests reached Graph, this period and the one before */
	TimestampTz late_period;	/* start of this period (a window long) */
	int			late_n[2];
	float4		late_min_ms[2];
	float4		late_max_ms[2];
} CrRateWindow;

static HTAB *cr_windows = NULL;

/*
 * The windows shared by the backends of the cluster (shared.c): Graph
 * counts every client of an application, so eight backends pacing
 * themselves alone may send eight times the rate.  A fixed table of
 * windows with rings of at most CR_SHARED_RING entries; a scope that
 * finds no room (or a limit above the ring) falls back to the backend's
 * own window.
 */
#define CR_SHARED_WINDOWS	256
#define CR_SHARED_RING		2048

typedef struct CrSharedWindow
{
	bool		used;
	CrRateWindow w;				/* w.sent is set to ring on each use */
	TimestampTz ring[CR_SHARED_RING];
} CrSharedWindow;

typedef struct CrSharedRates
{
	CrSharedWindow windows[CR_SHARED_WINDOWS];
} CrSharedRates;

/* The shared windows, while the lock is held (cr_admit), else NULL. */
static CrSharedRates *cr_shared = NULL;

/* The shared windows' part of the cluster's segment (shared.c). */
static int	rates_part = -1;

/* Register the shared windows' part of the segment, once per backend. */
void
cr_ratelimit_init(void)
{
	rates_part = cr_shared_register("rate windows", sizeof(CrSharedRates));
}

/*
 * The shared window of a key, created empty (taking a slot whose last
 * request left its window long ago), or NULL: no room, or a limit too
 * big for a shared ring.  The caller holds the lock.
 */
static CrRateWindow *
shared_window(const CrRateKey *key, int limit, TimestampTz now, int window_s)
{
	CrSharedWindow *free_slot = NULL;
	int			i;

	if (limit > CR_SHARED_RING)
		return NULL;
	for (i = 0; i < CR_SHARED_WINDOWS; i++)
	{
		CrSharedWindow *sw = &cr_shared->windows[i];

		if (sw->used && memcmp(&sw->w.key, key, sizeof(CrRateKey)) == 0)
		{
			sw->w.sent = sw->ring;
			if (sw->w.limit != limit)
				sw->w.count = sw->w.oldest = 0;
			sw->w.limit = limit;
			/* touched: not given to another scope in this admission */
			sw->w.last = Max(sw->w.last, now);
			return &sw->w;
		}
		/* a window's entries matter for its length and margin (at most half) */
		if (free_slot == NULL &&
			(!sw->used || sw->w.last + (TimestampTz) window_s * USECS_PER_SEC * 3 / 2 < now))
			free_slot = sw;
	}
	if (free_slot == NULL)
		return NULL;
	memset(&free_slot->w, 0, sizeof(CrRateWindow));
	free_slot->used = true;
	free_slot->w.key = *key;
	free_slot->w.limit = limit;
	free_slot->w.last = now;
	free_slot->w.sent = free_slot->ring;
	return &free_slot->w;
}

static HTAB *
windows(void)
{
	if (cr_windows == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(CrRateKey);
		ctl.entrysize = sizeof(CrRateWindow);
		cr_windows = hash_create("callrecords_fdw rate windows", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	}
	return cr_windows;
}

/* The key of a scope's window: "list", "record:<id>" or "function:<name>". */
static void
scope_key(const CrRequestScope *scope, char *key)
{
	size_t		i;

	key[0] = '\0';
	switch (scope->kind)
	{
		case CR_SCOPE_LIST:
			strlcpy(key, "list", SCOPE_LEN);
			break;
		case CR_SCOPE_RECORD:
			/* ids that differ in letter case name one record */
			snprintf(key, SCOPE_LEN, "record:%s", scope->name);
			for (i = 7; key[i]; i++)
				key[i] = pg_tolower((unsigned char) key[i]);
			break;
		case CR_SCOPE_FUNCTION:
			snprintf(key, SCOPE_LEN, "function:%s", scope->name);
			break;
		case CR_SCOPE_OTHER:
			break;
	}
}

/*
 * The application and tenant as Graph counts them: the Graph host, the
 * tenant and the client id, whichever user mapping or database names
 * them.
 */
static uint64
app_key(const CrOptions *opts)
{
	char	   *s = psprintf("%s|%s|%s", opts->graph_url, opts->tenant_id,
							 opts->client_id ? opts->client_id : "");
	uint64		h = hash_bytes_extended((const unsigned char *) s, strlen(s), 0);

	pfree(s);
	return h;
}

/*
 * The tenant as Graph counts it for the limits of all its applications
 * together: the Graph host and the tenant, whatever the client id.
 */
static uint64
tenant_key(const CrOptions *opts)
{
	char	   *s = psprintf("%s|%s", opts->graph_url, opts->tenant_id);
	uint64		h = hash_bytes_extended((const unsigned char *) s, strlen(s), 0);

	pfree(s);
	return h;
}

/*
 * The window of a scope: the shared one when there is one (the caller
 * then holds the lock), else the backend's, created empty; its ring
 * follows a changed limit.
 */
static CrRateWindow *
get_window(uint64 app, const char *scope, int limit, TimestampTz now, int window_s)
{
	CrRateKey	key;
	CrRateWindow *w;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.app = app;
	strlcpy(key.scope, scope, SCOPE_LEN);
	if (cr_shared && (w = shared_window(&key, limit, now, window_s)) != NULL)
		return w;
	w = hash_search(windows(), &key, HASH_ENTER, &found);
	if (!found || w->limit != limit)
	{
		if (found && w->sent)
			pfree(w->sent);
		w->sent = NULL;
		w->limit = 0;			/* until the ring exists (the allocation may fail) */
		w->count = 0;
		w->oldest = 0;
		w->last = 0;
		w->late_period = 0;
		w->late_n[0] = w->late_n[1] = 0;
		w->sent = MemoryContextAlloc(TopMemoryContext, sizeof(TimestampTz) * limit);
		w->limit = limit;
	}
	return w;
}

/*
 * The margin a window keeps past its length.  A request is counted here
 * when admitted and by Graph when it arrives, a little later, and the
 * windows must hold however late each arrives: what matters is how much
 * later one request arrives than another, so the margin is the spread of
 * the delays seen (admission to first byte, less the same for the
 * quickest), with room to spare; a tenth of the window until delays were
 * seen, at least a fiftieth, at most a half.
 */
static double
window_margin_ms(const CrRateWindow *app, int window_s)
{
	double		w_ms = window_s * 1000.0;
	double		lo = 0,
				hi = 0;
	int			i;
	bool		seen = false;

	for (i = 0; app && i < 2; i++)
	{
		if (app->late_n[i] == 0)
			continue;
		lo = seen ? Min(lo, app->late_min_ms[i]) : app->late_min_ms[i];
		hi = seen ? Max(hi, app->late_max_ms[i]) : app->late_max_ms[i];
		seen = true;
	}
	if (!seen)
		return w_ms / 10;
	return Min(Max((hi - lo) * 1.5 + 10, w_ms / 50), w_ms / 2);
}

/* Milliseconds until the window has room for one more request. */
static double
window_delay_ms(CrRateWindow *w, TimestampTz now, int window_s, double margin_ms)
{
	TimestampTz free_at;

	if (w->count < w->limit)
		return 0;
	free_at = w->sent[w->oldest] + (TimestampTz) window_s * USECS_PER_SEC +
		(TimestampTz) (margin_ms * 1000);
	return free_at > now ? (free_at - now) / 1000.0 : 0;
}

static void
window_note(CrRateWindow *w, TimestampTz now)
{
	if (w->count < w->limit)
		w->sent[w->count++] = now;
	else
	{
		w->sent[w->oldest] = now;
		w->oldest = (w->oldest + 1) % w->limit;
	}
	w->last = now;
}

/* Forget scopes whose last request left the window long ago. */
static void
sweep(TimestampTz now, int window_s)
{
	HASH_SEQ_STATUS status;
	CrRateWindow *w;

	if (hash_get_num_entries(windows()) < SWEEP_THRESHOLD)
		return;
	hash_seq_init(&status, windows());
	while ((w = hash_seq_search(&status)) != NULL)
	{
		if (w->last + (TimestampTz) window_s * USECS_PER_SEC * 3 / 2 < now)
		{
			if (w->sent)
				pfree(w->sent);
			hash_search(windows(), &w->key, HASH_REMOVE, NULL);
		}
	}
}

/* Requests admitted in the current statement, for the budget. */
static uint64 budget_statement = 0;
static int64 budget_spent = 0;

/* Requests admitted by this backend since it started, for progress reports. */
static int64 requests_admitted = 0;

/* The requests the statement has made so far. */
static int64
budget_used(void)
{
	if (budget_statement != cr_statement_number())
	{
		budget_statement = cr_statement_number();
		budget_spent = 0;
	}
	return budget_spent;
}

/* Stop a runaway plan before it hammers Graph. */
static void
report_budget_exceeded(const CrOptions *opts)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("statement exceeds the Graph request budget of %d requests",
					opts->max_requests),
			 errdetail("Server \"%s\" allows max_requests %d per statement.",
					   GetForeignServer(opts->serverid)->servername,
					   opts->max_requests),
			 errhint("Narrow the query with conditions on call_record_id, start_date_time or call_start_date_time, or raise max_requests with ALTER SERVER.")));
}

/*
 * The longest of Graph's windows: a window's entries are kept (and its
 * shared slot not given away) for as long as any window may still need
 * them.
 */
static int
longest_window(const CrOptions *opts)
{
	return Max(opts->rate_window, opts->log_rate_window);
}

/*
 * The windows a request of the call record family passes: per application
 * and tenant, and per call record or for the list.  *window_s is set to
 * their length.
 */
static int
record_windows(const CrOptions *opts, uint64 app, const char *key, TimestampTz now,
			   CrRateWindow **applies, int *window_s)
{
	int			n = 0;

	*window_s = opts->rate_window;
	if (opts->tenant_rate_limit > 0)
		applies[n++] = get_window(app, "", opts->tenant_rate_limit, now, longest_window(opts));
	if (key[0] && opts->record_rate_limit > 0)
		applies[n++] = get_window(app, key, opts->record_rate_limit, now, longest_window(opts));
	return n;
}

/*
 * The windows a request of a log function passes: Graph counts the log
 * functions (PSTN call records) apart from the call records, per tenant
 * for all applications, per application and tenant, and per function
 * ("per collection"), all over log_rate_window.
 */
static int
log_windows(const CrOptions *opts, uint64 app, const char *key, TimestampTz now,
			CrRateWindow **applies, int *window_s)
{
	int			n = 0;

	*window_s = opts->log_rate_window;
	if (opts->log_tenant_rate_limit > 0)
		applies[n++] = get_window(tenant_key(opts), "logs", opts->log_tenant_rate_limit, now,
								  longest_window(opts));
	if (opts->log_app_rate_limit > 0)
		applies[n++] = get_window(app, "logs", opts->log_app_rate_limit, now, longest_window(opts));
	if (opts->log_function_rate_limit > 0)
		applies[n++] = get_window(app, key, opts->log_function_rate_limit, now, longest_window(opts));
	return n;
}

/*
 * Refuse, before it sends anything, a scan that needs more requests than
 * the statement's budget has left: needed is what the scan knows it will
 * make at least (one per id of a key list, one per list or log window).
 * A list of 1,200 ids would otherwise spend 1,000 requests, most of the
 * tenant's window, and fail anyway.  The hint gives the budget that would
 * do.
 */
void
cr_budget_check(const CrOptions *opts, int64 needed)
{
	int64		used = budget_used();

	if (used + needed <= opts->max_requests)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("statement exceeds the Graph request budget of %d requests",
					opts->max_requests),
			 errdetail("The scan needs at least " INT64_FORMAT " requests and " INT64_FORMAT " are left of max_requests %d of server \"%s\"; the scan sent none.",
					   needed, Max(0, opts->max_requests - used), opts->max_requests,
					   GetForeignServer(opts->serverid)->servername),
			 errhint("Narrow the query, or raise max_requests to at least " INT64_FORMAT " with ALTER SERVER.",
					 used + needed)));
}

/*
 * Admit a request of the given scope.  The statement's budget comes
 * first: a request it has no room for is an error, or, for a request
 * started ahead of need (reserve > 0), refused (-1) while fewer than
 * reserve requests would be left, since it may never be needed.  Then
 * Graph's windows: if the request fits every window that applies to it,
 * it is counted in them and in the budget, and 0 is returned; otherwise
 * nothing is counted and the result is the milliseconds until it would
 * fit.  A limit of 0 turns its window off.
 */
double
cr_admit(const CrOptions *opts, const CrRequestScope *scope, int reserve)
{
	TimestampTz now;
	char		key[SCOPE_LEN];
	LWLock	   *lock;
	CrRateWindow *applies[3];
	CrRateWindow *lateness;
	int			n;
	int			i;
	int			window_s;
	double		delay = 0;
	double		margin;
	uint64		app;

	if (budget_used() + reserve >= opts->max_requests)
	{
		if (reserve > 0)
			return -1;
		report_budget_exceeded(opts);
	}
	app = app_key(opts);
	scope_key(scope, key);
	/*
	 * The shared windows' lock is held from lookup to note (an error
	 * meanwhile, only out of memory in a backend's own window, releases
	 * it with the transaction).  The time is read under the lock, so that
	 * the rings of the shared windows stay in the order of sending.
	 */
	lock = cr_shared_lock();
	cr_shared = lock ? cr_shared_part(rates_part) : NULL;
	now = GetCurrentTimestamp();
	sweep(now, longest_window(opts));
	if (scope->kind == CR_SCOPE_FUNCTION)
		n = log_windows(opts, app, key, now, applies, &window_s);
	else
		n = record_windows(opts, app, key, now, applies, &window_s);
	/* how late requests arrive is noted in the application's window */
	lateness = opts->tenant_rate_limit > 0 ?
		get_window(app, "", opts->tenant_rate_limit, now, longest_window(opts)) : NULL;
	margin = window_margin_ms(lateness, window_s);
	for (i = 0; i < n; i++)
		delay = Max(delay, window_delay_ms(applies[i], now, window_s, margin));
	if (delay <= 0)
		for (i = 0; i < n; i++)
			window_note(applies[i], now);
	if (lock)
		cr_shared_unlock(lock);
	cr_shared = NULL;
	if (delay > 0)
		return delay;
	budget_spent++;
	requests_admitted++;
	return 0;
}

/*
 * The Graph requests this backend has made (retries included), so that a
 * long procedure such as the archive can report what its work cost.
 */
int64
cr_requests_made(void)
{
	return requests_admitted;
}

/*
 * Note how late a request of the application reached Graph: from its
 * admission to the first byte of the answer, less the answer's transfer
 * (late_ms).  The delays of one period and the one before give the
 * windows' margin (window_margin_ms()); they are kept in the window of the
 * application and tenant, shared where the backends share windows, since
 * one backend's late request and another's early one are what collide.
 */
void
cr_note_lateness(const CrOptions *opts, double late_ms)
{
	TimestampTz now;
	LWLock	   *lock;
	CrRateWindow *w;

	if (opts->tenant_rate_limit <= 0 || late_ms < 0)
		return;
	lock = cr_shared_lock();
	cr_shared = lock ? cr_shared_part(rates_part) : NULL;
	now = GetCurrentTimestamp();
	w = get_window(app_key(opts), "", opts->tenant_rate_limit, now, longest_window(opts));
	if (now - w->late_period >= (TimestampTz) opts->rate_window * USECS_PER_SEC)
	{
		w->late_n[1] = w->late_n[0];
		w->late_min_ms[1] = w->late_min_ms[0];
		w->late_max_ms[1] = w->late_max_ms[0];
		w->late_n[0] = 0;
		w->late_period = now;
	}
	w->late_min_ms[0] = w->late_n[0] ? Min(w->late_min_ms[0], late_ms) : late_ms;
	w->late_max_ms[0] = w->late_n[0] ? Max(w->late_max_ms[0], late_ms) : late_ms;
	w->late_n[0]++;
	if (lock)
		cr_shared_unlock(lock);
	cr_shared = NULL;
}
