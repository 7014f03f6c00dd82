/*-------------------------------------------------------------------------
 *
 * ratelimit.c
 *		  Keeping a backend's Graph requests within Graph's throttling limits.
 *
 * Graph limits call record requests per application and tenant (1,500
 * per 20 s), per call record (40 per 20 s, a nextLink chain of one big
 * meeting included) and for the call record list (40 per 20 s), and asks
 * clients to stay under those limits up front rather than run into 429s.
 * A request waits here until it fits every window that applies to it.
 * 429 handling (Retry-After, halved concurrency) stays as the second line:
 * the windows are per backend, while Graph counts every client of the
 * application.
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

#include "callrecords_fdw.h"

#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define SCOPE_LEN 80
/* past this many scopes, forget those with no request in their window */
#define SWEEP_THRESHOLD 4096

typedef struct CrRateKey
{
	Oid			umid;			/* the application and tenant, as a user mapping */
	char		scope[SCOPE_LEN];	/* "" (all requests), "list", "record:<id>", "function:<name>" */
} CrRateKey;

typedef struct CrRateWindow
{
	CrRateKey	key;			/* hash key: must be first */
	int			limit;			/* ring size */
	int			count;			/* entries used, up to limit */
	int			oldest;			/* index of the oldest entry once full */
	TimestampTz last;			/* newest send */
	TimestampTz *sent;			/* in TopMemoryContext */
} CrRateWindow;

static HTAB *cr_windows = NULL;

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

/*
 * The scope of a Graph URL beyond the application as a whole: one call
 * record (its id, from ".../callRecords/{id}..." or the next links'
 * ".../callRecords('{id}')..."), the call record list, or a log function.
 * Empty when the URL is none of these.
 */
static void
url_scope(const char *url, char *scope)
{
	const char *p = strstr(url, "communications/callRecords");
	size_t		n;

	scope[0] = '\0';
	if (p == NULL)
		return;
	p += strlen("communications/callRecords");
	if (*p == '\0' || *p == '?')
	{
		strlcpy(scope, "list", SCOPE_LEN);
		return;
	}
	if (p[0] == '(' && p[1] == '\'')
		p += 2;
	else if (*p == '/')
		p++;
	else
		return;
	n = strcspn(p, "/?(')");
	if (p[n] == '(' && n > 0)
		snprintf(scope, SCOPE_LEN, "function:%.*s", (int) Min(n, SCOPE_LEN - 10), p);
	else if (n > 0 && n < SCOPE_LEN - 8)
	{
		size_t		i;

		snprintf(scope, SCOPE_LEN, "record:%.*s", (int) n, p);
		for (i = 7; scope[i]; i++)
			scope[i] = pg_tolower((unsigned char) scope[i]);
	}
}

/* The window of a scope, created empty; its ring follows a changed limit. */
static CrRateWindow *
get_window(Oid umid, const char *scope, int limit)
{
	CrRateKey	key;
	CrRateWindow *w;
	bool		found;

	memset(&key, 0, sizeof(key));
	key.umid = umid;
	strlcpy(key.scope, scope, SCOPE_LEN);
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

/* Milliseconds until the window has room for one more request. */
static double
window_delay_ms(CrRateWindow *w, TimestampTz now, int window_s)
{
	TimestampTz free_at;

	if (w->count < w->limit)
		return 0;
	free_at = w->sent[w->oldest] + (TimestampTz) window_s * USECS_PER_SEC;
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
		if (w->last + (TimestampTz) window_s * USECS_PER_SEC < now)
		{
			if (w->sent)
				pfree(w->sent);
			hash_search(windows(), &w->key, HASH_REMOVE, NULL);
		}
	}
}

/*
 * Admit a request for url if it fits every window that applies to it: it
 * is then counted in them, and 0 is returned.  Otherwise nothing is
 * counted and the result is the milliseconds until it would fit.  A limit
 * of 0 turns its window off.
 */
double
cr_rate_admit(const CrOptions *opts, const char *url)
{
	TimestampTz now = GetCurrentTimestamp();
	char		scope[SCOPE_LEN];
	CrRateWindow *applies[2];
	int			n = 0;
	int			i;
	double		delay = 0;

	sweep(now, opts->rate_window);
	if (opts->tenant_rate_limit > 0)
		applies[n++] = get_window(opts->umid, "", opts->tenant_rate_limit);
	url_scope(url, scope);
	if (scope[0] && opts->record_rate_limit > 0)
		applies[n++] = get_window(opts->umid, scope, opts->record_rate_limit);
	for (i = 0; i < n; i++)
		delay = Max(delay, window_delay_ms(applies[i], now, opts->rate_window));
	if (delay == 0)
		for (i = 0; i < n; i++)
			window_note(applies[i], now);
	return delay;
}
