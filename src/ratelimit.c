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
 * Each window is a ring of the last "limit" requests of its scope, in the
 * order they were admitted, each with the latest time Graph can have
 * counted it: Graph counts a request when it arrives, and it cannot
 * answer before that, so a request's first byte of answer bounds it
 * (cr_rate_answered()).  A request fits when the ring has room or its
 * oldest entry was counted a window (and a hundredth, for clocks) ago:
 * it is sent after that, so it arrives after.  No margin for how late
 * requests arrive is guessed.  Until its answer, an entry holds minus its
 * admission time; one whose answer never came (its backend gone) is taken
 * as counted a window after its admission.
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

#define SCOPE_LEN CR_RATE_SCOPE_LEN
/* past this many scopes, forget those with no request in their window */
#define SWEEP_THRESHOLD 4096
/* how often an admission looks again while the entry it waits for is in flight */
#define PENDING_POLL_MS 5

typedef struct CrRateWindow
{
	CrRateKey	key;			/* hash key: must be first */
	int			limit;			/* ring size */
	int			count;			/* entries used, up to limit */
	int			oldest;			/* index of the oldest entry once full */
	TimestampTz last;			/* newest admission, answer or lookup */
	TimestampTz *sent;			/* in TopMemoryContext: when Graph counted each
								 * request at the latest, or minus its
								 * admission until its answer */
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
		/* a window's entries matter for two lengths (one in flight) */
		if (free_slot == NULL &&
			(!sw->used || sw->w.last + (TimestampTz) window_s * USECS_PER_SEC * 2 < now))
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
		w->sent = MemoryContextAlloc(TopMemoryContext, sizeof(TimestampTz) * limit);
		w->limit = limit;
	}
	return w;
}

/*
 * Milliseconds until the window has room for one more request: until its
 * oldest entry was counted a window ago, with a hundredth of a window
 * more for Graph's clock, or a short poll while that entry is in flight.
 */
static double
window_delay_ms(CrRateWindow *w, TimestampTz now, int window_s)
{
	TimestampTz window = (TimestampTz) window_s * USECS_PER_SEC;
	TimestampTz oldest;
	TimestampTz free_at;

	if (w->count < w->limit)
		return 0;
	oldest = w->sent[w->oldest];
	if (oldest < 0)
	{
		free_at = -oldest + 2 * window + window / 100;
		return free_at > now ? Min(PENDING_POLL_MS, (free_at - now) / 1000.0) : 0;
	}
	free_at = oldest + window + window / 100;
	return free_at > now ? (free_at - now) / 1000.0 : 0;
}

/* Count an admitted request in a window, in flight; returns its slot. */
static int
window_note(CrRateWindow *w, TimestampTz now)
{
	int			slot;

	if (w->count < w->limit)
		slot = w->count++;
	else
	{
		slot = w->oldest;
		w->oldest = (w->oldest + 1) % w->limit;
	}
	w->sent[slot] = -now;
	w->last = now;
	return slot;
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
		if (w->last + (TimestampTz) window_s * USECS_PER_SEC * 2 < now)
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
 * fit.  A limit of 0 turns its window off.  An admitted request's place
 * in its windows goes into *ticket, for its answer (cr_rate_answered()).
 */
double
cr_admit(const CrOptions *opts, const CrRequestScope *scope, int reserve,
		 CrRateTicket *ticket)
{
	TimestampTz now;
	char		key[SCOPE_LEN];
	LWLock	   *lock;
	CrRateWindow *applies[CR_RATE_TICKET_WINDOWS];
	int			n;
	int			i;
	int			window_s;
	double		delay = 0;
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
	for (i = 0; i < n; i++)
		delay = Max(delay, window_delay_ms(applies[i], now, window_s));
	ticket->n = 0;
	if (delay <= 0)
	{
		ticket->admitted = now;
		for (i = 0; i < n; i++)
		{
			ticket->keys[i] = applies[i]->key;
			ticket->slots[i] = window_note(applies[i], now);
		}
		ticket->n = n;
	}
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
 * The window of a key that holds a request's entry, or NULL: the shared
 * one (the caller holds the lock), else the backend's own.
 */
static CrRateWindow *
window_of_entry(const CrRateKey *key, int slot, TimestampTz admitted)
{
	CrRateWindow *w = NULL;
	int			i;

	for (i = 0; cr_shared && i < CR_SHARED_WINDOWS; i++)
	{
		CrSharedWindow *sw = &cr_shared->windows[i];

		if (sw->used && memcmp(&sw->w.key, key, sizeof(CrRateKey)) == 0)
		{
			sw->w.sent = sw->ring;
			w = &sw->w;
			break;
		}
	}
	if (w == NULL || slot >= w->count || w->sent[slot] != -admitted)
		w = cr_windows ? hash_search(cr_windows, key, HASH_FIND, NULL) : NULL;
	if (w == NULL || w->sent == NULL || slot >= w->count || w->sent[slot] != -admitted)
		return NULL;
	return w;
}

/*
 * A request admitted with *ticket has its answer (or is given up): Graph
 * counted it by "counted" at the latest (the first byte of its answer, or
 * now), and its windows may count from there.  An entry since given to
 * another request, or in a window forgotten since, is left alone.  Also
 * called while a transaction aborts (a fetch's context going), so it
 * raises nothing and allocates nothing.
 */
void
cr_rate_answered(CrRateTicket *ticket, TimestampTz counted)
{
	LWLock	   *lock;
	int			i;

	if (ticket->n == 0)
		return;
	lock = cr_shared_lock();
	cr_shared = lock ? cr_shared_part(rates_part) : NULL;
	for (i = 0; i < ticket->n; i++)
	{
		CrRateWindow *w = window_of_entry(&ticket->keys[i], ticket->slots[i], ticket->admitted);

		if (w == NULL)
			continue;
		w->sent[ticket->slots[i]] = Max(counted, ticket->admitted);
		w->last = Max(w->last, counted);
	}
	if (lock)
		cr_shared_unlock(lock);
	cr_shared = NULL;
	ticket->n = 0;
}
