/*-------------------------------------------------------------------------
 *
 * cr_graph.h
 *		  The Graph client's face to the layers above: requests started,
 *		  waited for and answered (http.c), Graph's errors (failure.c), the
 *		  statement's cache (cache.c), admission (ratelimit.c), statements
 *		  (statement.c) and the cluster's shared memory (shared.c).
 *
 * Each group of prototypes is owned by the file named above it.  What
 * only the client's own files share is in http_int.h.  Nothing here
 * knows the planner or the executor: a scan's counters (CrScanStats) are
 * filled in as plain numbers.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_graph.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_GRAPH_H
#define CR_GRAPH_H

#include "cr_common.h"

#include "storage/lwlock.h"

/* Outcome of one HTTP request. */
typedef struct CrResponse
{
	long		status;
	char	   *body;			/* NUL-terminated, palloc'd */
	size_t		body_len;
	char		request_id[64]; /* "request-id" response header, or "" */
	char		retry_after[32];	/* "Retry-After" response header, or "" */
	int			retries;		/* retries made before this answer */
	double		refused_wait_ms;	/* a wait not made: beyond max_retry_wait */
	int			throttled;		/* 429 answers seen on the way */
	int			transport_rc;	/* libcurl error when status is 0 */
	bool		host_answered;	/* its host answered earlier in the statement */
	char		transport_error[256];	/* its message */
} CrResponse;

/* Counters shown by EXPLAIN ANALYZE. */
typedef struct CrScanStats
{
	int64		requests;
	int64		pages;
	int64		bytes;
	int64		parsed_bytes;	/* of them, what was parsed after pruning */
	int64		cache_hits;		/* pages served from the statement's cache */
	int64		retries;		/* requests repeated after 429/5xx/transport errors */
	int64		rate_waits;		/* requests held back to stay within Graph's limits */
	double		rate_wait_ms;	/* time they waited */
	double		retry_wait_ms;	/* time spent waiting before them */
	double		wait_ms;
	int64		responses;		/* requests answered, for their mean latency */
	int			in_flight_chosen;	/* the scan's in-flight count at its end */
	int			in_flight_peak; /* most requests in flight at once */
	bool		in_flight_auto; /* chosen by pacing.c (max_concurrency unset) */
	bool		in_flight_memory;	/* ... bounded by the memory budget */
} CrScanStats;

/*
 * The memory of one scan's answers, against its budget (fetch.c sets the
 * limit, http.c and transfer.c count).  A transfer whose body would take
 * the answers past limit is paused (libcurl holds its data, TCP holds the
 * rest at Graph) until the scan frees memory or waits for that very
 * answer: the one the scan waits for is never held back.  Plain numbers,
 * written by the write callback without raising.
 */
typedef struct CrMemoryMeter
{
	size_t		limit;			/* bytes the answers may hold */
	size_t		held;			/* bytes their buffers hold now */
	size_t		page;			/* bytes of the page parsed (fetch.c) */
	size_t		peak;			/* most of held + page at once */
	size_t		largest;		/* largest answer so far */
	size_t		announced;		/* largest length an answer announced
								 * (Content-Length), before it came */
	int64		pauses;			/* transfers paused for the budget */
} CrMemoryMeter;

/*
 * What a Graph request reads, as Graph's throttling counts it: one call
 * record (name: its id), the call record list, or a log function (name:
 * the function).
 */
typedef enum CrScopeKind
{
	CR_SCOPE_OTHER,
	CR_SCOPE_RECORD,
	CR_SCOPE_LIST,
	CR_SCOPE_FUNCTION
} CrScopeKind;

typedef struct CrRequestScope
{
	CrScopeKind kind;
	const char *name;
} CrRequestScope;

/* in http.c */
extern void cr_http_init(void);
typedef struct CrFetch CrFetch;
extern CrFetch *cr_fetch_start(const CrOptions *opts, const char *url,
							   const CrRequestScope *scope, int reserve,
							   int maxpagesize, bool share, CrScanStats *stats,
							   CrMemoryMeter *meter);
typedef enum CrFetchState
{
	CR_FETCH_HELD,				/* not sent yet: Graph's limits held it back */
	CR_FETCH_IN_FLIGHT,
	CR_FETCH_ANSWERED
} CrFetchState;

/* started while a scan waits: ms until it wants to run again, or <= 0 */
typedef double (*CrFetchPump) (void *arg);
extern void cr_fetch_wait(CrFetch *f, CrResponse *resp, CrFetchPump pump, void *pump_arg);
extern void cr_fetch_free(CrFetch *f);
extern const char *cr_fetch_url(CrFetch *f);
extern CrFetchState cr_fetch_state(CrFetch *f);
extern double cr_fetch_try_begin(CrFetch *f);
extern bool cr_fetch_peek(CrFetch *f, const char **body, size_t *len);
extern size_t cr_fetch_bytes(CrFetch *f);
extern bool cr_fetch_progress(void);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* tests/libfuzzer/harness.c: the answer to every Graph GET of a fuzz build */
extern void cr_fuzz_answer(const char *url, MemoryContext cxt, CrResponse *resp);
#endif

/* in failure.c */
extern void cr_report_graph_error(const CrResponse *resp, const char *what);

/* in cache.c */
extern bool cr_graph_cached(const CrOptions *opts, const char *url, int maxpagesize);

/* in statement.c */
extern void cr_statement_init(void);
extern uint64 cr_statement_number(void);

/* in ratelimit.c */
extern void cr_ratelimit_init(void);
extern double cr_admit(const CrOptions *opts, const CrRequestScope *scope, int reserve);
extern void cr_budget_check(const CrOptions *opts, int64 needed);
extern void cr_note_lateness(const CrOptions *opts, double late_ms);
extern int64 cr_requests_made(void);

/* in shape.c */

/*
 * One hour of a tenant's calls as a scan saw them: the call records that
 * started in it, with the pages and sessions of their chains (< 0 when the
 * scan did not read the chains).  hour: the hour's number since
 * PostgreSQL's epoch plus one; 0, an hour not known.  The hours of 31 days
 * are kept, as Graph keeps 30.
 */
#define CR_SHAPE_HOURS	(31 * 24)
typedef struct CrShapeHour
{
	int32		hour;
	float4		records;
	float4		pages;
	float4		sessions;
} CrShapeHour;

/* where an hour is kept among CR_SHAPE_HOURS */
#define CR_SHAPE_HOUR_SLOT(hour)	((hour) % CR_SHAPE_HOURS)

extern void cr_shape_init(void);
extern void cr_shape_note_list(const CrOptions *opts, double listed, double span_days);
extern void cr_shape_note_chains(const CrOptions *opts, int chains, double pages, double sessions);
extern void cr_shape_note_hours(const CrOptions *opts, const CrShapeHour *hours);
extern void cr_shape_get(const CrOptions *opts, double *records, double *pages, double *sessions,
						 CrShapeHour *hours);
extern int32 cr_shape_hour_number(TimestampTz t);
extern int32 cr_shape_hour_of_text(const char *iso);
extern const CrShapeHour *cr_shape_find_hour(const CrShapeHour *hours, int32 hour);

/* in shared.c */
extern void cr_shared_init(void);
extern int	cr_shared_register(const char *name, Size size);
extern LWLock *cr_shared_lock(void);
extern void cr_shared_unlock(LWLock *lock);
extern void *cr_shared_part(int part);
extern const char *cr_shared_mode(void);

#endif							/* CR_GRAPH_H */
