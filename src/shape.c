/*-------------------------------------------------------------------------
 *
 * shape.c
 *		  The shape of a tenant's call records as the scans saw it: how
 *		  many call records 30 days hold, and how many sessions and pages
 *		  of sessions one call record has.
 *
 * The planner's estimates of rows and requests (estimate.c) need both.
 * Without them it assumes a tenant of 10,000 call records in 30 days of 8
 * sessions each, which is off by orders of magnitude for most tenants, and
 * so is EXPLAIN's estimate of the Graph requests a query will make.
 *
 * Two kinds of scan teach: a scan that read the call record list of a
 * known time window to its end, with no other condition on the list (the
 * records of 30 days, scaled from the window's share of them), and a scan
 * that read the sessions of the records it listed (a fair sample, unlike
 * records fetched by id, which are whatever a user picked, the biggest
 * meeting perhaps), at least CR_SHAPE_MIN_CHAINS of them to their end.
 * What the latest such scan saw replaces what was known.
 *
 * The same scans tell the tenant's hours apart: calls are not spread
 * evenly over 30 days (office hours, weekends, holidays, a tenant's first
 * weeks), so for each hour a list window covered whole, the records that
 * started then and, when the scan read their chains, their pages and
 * sessions.  A window of a day or two, in any time zone, is estimated from
 * its own hours, the mean hour standing in for those no scan covered.
 *
 * Kept per Graph host and tenant, shared by the backends of the cluster
 * when the segment exists (shared.c), else in each backend.
 * callrecords_fdw.learn_tenant_shape off neither notes nor uses them.
 *
 * Rules kept here: these are hints for the planner only; nothing here
 * changes the requests a scan makes or the rows it returns.  The lock is
 * held only around plain copies.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/shape.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_graph.h"

#include "common/hashfn.h"
#include "storage/lwlock.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/* tenants known at once: each keeps the hours of 31 days (12 kB) */
#define CR_SHAPES	16

/* a list of a shorter window says too little of 30 days */
#define CR_SHAPE_MIN_SPAN_DAYS	1.0
/* fewer listed call records read say too little of the others */
#define CR_SHAPE_MIN_CHAINS		5

typedef struct CrShape
{
	uint64		tenant;			/* tenant_key(); 0: a free slot */
	TimestampTz seen;			/* last noted, to reuse the oldest slot */
	double		records;		/* call records in 30 days, or < 0 */
	double		pages;			/* pages of sessions per call record, or < 0 */
	double		sessions;		/* sessions per call record, or < 0 */
	CrShapeHour hours[CR_SHAPE_HOURS];	/* by CR_SHAPE_HOUR_SLOT() */
} CrShape;

typedef struct CrShapes
{
	CrShape		shape[CR_SHAPES];
} CrShapes;

/* the backend's own, when the backends share no segment */
static CrShapes local_shapes;

/* The shapes' part of the cluster's segment (shared.c). */
static int	shapes_part = -1;

/* Register the shapes' part of the segment, once per backend. */
void
cr_shape_init(void)
{
	shapes_part = cr_shared_register("tenant shapes", sizeof(CrShapes));
}

/*
 * The tenant whose data a server reads: the Graph host and the tenant,
 * whichever application or role reads it.
 */
static uint64
tenant_key(const CrOptions *opts)
{
	char	   *s = psprintf("%s|%s", opts->graph_url, opts->tenant_id);
	uint64		h = hash_bytes_extended((const unsigned char *) s, strlen(s), 0);

	pfree(s);
	return h ? h : 1;
}

/* The slot of a tenant, or NULL; with create, a new one in the oldest slot. */
static CrShape *
find_shape(CrShapes *shapes, uint64 tenant, bool create)
{
	CrShape    *oldest = &shapes->shape[0];
	int			i;

	for (i = 0; i < CR_SHAPES; i++)
	{
		CrShape    *s = &shapes->shape[i];

		if (s->tenant == tenant)
			return s;
		if (s->tenant == 0 || (oldest->tenant != 0 && s->seen < oldest->seen))
			oldest = s;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(CrShape));
	oldest->tenant = tenant;
	oldest->records = oldest->pages = oldest->sessions = -1;
	return oldest;
}

/*
 * Copy a tenant's shape out, or in (with note: the fields of *in that are
 * >= 0 replace what was known).  Returns whether a shape was found.
 */
static bool
exchange(const CrOptions *opts, CrShape *out, const CrShape *note)
{
	uint64		tenant = tenant_key(opts);
	TimestampTz now = GetCurrentTimestamp();
	LWLock	   *lock = cr_shared_lock();
	CrShapes   *shapes = lock ? cr_shared_part(shapes_part) : &local_shapes;
	CrShape    *s = find_shape(shapes, tenant, note != NULL);

	if (s && note)
	{
		s->seen = now;
		if (note->records >= 0)
			s->records = note->records;
		if (note->pages >= 0)
			s->pages = note->pages;
		if (note->sessions >= 0)
			s->sessions = note->sessions;
	}
	if (s && out)
		*out = *s;
	if (lock)
		cr_shared_unlock(lock);
	return s != NULL;
}

/*
 * A scan read the call record list of windows covering span_days of the
 * 30 days Graph keeps, to its end, with no other condition: listed
 * records there.
 */
void
cr_shape_note_list(const CrOptions *opts, double listed, double span_days)
{
	CrShape		note = {0, 0, -1, -1, -1};

	if (!cr_learn_tenant_shape || span_days < CR_SHAPE_MIN_SPAN_DAYS)
		return;
	note.records = listed * 30.0 / Min(span_days, 30.0);
	exchange(opts, NULL, &note);
}

/*
 * A scan read the sessions of chains listed call records to their end:
 * pages and sessions in all.
 */
void
cr_shape_note_chains(const CrOptions *opts, int chains, double pages, double sessions)
{
	CrShape		note = {0, 0, -1, -1, -1};

	if (!cr_learn_tenant_shape || chains < CR_SHAPE_MIN_CHAINS)
		return;
	note.pages = pages / chains;
	note.sessions = sessions / chains;
	exchange(opts, NULL, &note);
}

/*
 * What is known of a tenant: each of records, pages and sessions is set
 * when known (>= 0) and left alone otherwise; hours (CR_SHAPE_HOURS of
 * them, or NULL) gets the hours known, the others zeroed.
 */
void
cr_shape_get(const CrOptions *opts, double *records, double *pages, double *sessions,
			 CrShapeHour *hours)
{
	CrShape		s;

	if (hours)
		memset(hours, 0, sizeof(CrShapeHour) * CR_SHAPE_HOURS);
	if (!cr_learn_tenant_shape || !exchange(opts, &s, NULL))
		return;
	if (s.records >= 0)
		*records = s.records;
	if (s.pages >= 0)
		*pages = s.pages;
	if (s.sessions >= 0)
		*sessions = s.sessions;
	if (hours)
		memcpy(hours, s.hours, sizeof(s.hours));
}

/*
 * A scan listed whole hours (their slots in hours, hour 0 where not):
 * they replace what was known of those hours.  An hour seen again without
 * its chains keeps the pages and sessions known of it while its count of
 * records is unchanged, since those are still its calls.
 */
void
cr_shape_note_hours(const CrOptions *opts, const CrShapeHour *hours)
{
	uint64		tenant = tenant_key(opts);
	LWLock	   *lock;
	CrShapes   *shapes;
	CrShape    *s;
	int			i;

	if (!cr_learn_tenant_shape)
		return;
	lock = cr_shared_lock();
	shapes = lock ? cr_shared_part(shapes_part) : &local_shapes;
	s = find_shape(shapes, tenant, true);
	s->seen = GetCurrentTimestamp();
	for (i = 0; i < CR_SHAPE_HOURS; i++)
	{
		CrShapeHour *old = &s->hours[i];
		CrShapeHour h = hours[i];

		if (h.hour == 0)
			continue;
		if (h.pages < 0 && old->hour == h.hour && old->records == h.records)
		{
			h.pages = old->pages;
			h.sessions = old->sessions;
		}
		*old = h;
	}
	if (lock)
		cr_shared_unlock(lock);
}

/*
 * The number an hour is known by (CrShapeHour.hour), for a time in it; 0
 * for a time before 2000 or past the hours an int32 counts (a reference
 * time set far off), whose hours are never kept.
 */
int32
cr_shape_hour_number(TimestampTz t)
{
	if (t < 0 || t / USECS_PER_HOUR >= PG_INT32_MAX)
		return 0;
	return (int32) (t / USECS_PER_HOUR + 1);
}

/*
 * The hour number of a Graph time ("2026-11-26T10:00:00Z"), from its date
 * and hour, or 0 if it does not start with them or is not UTC ("Z"), as
 * Graph's times are.
 * Never raises: it runs on whatever a page holds, only to learn from it.
 */
int32
cr_shape_hour_of_text(const char *iso)
{
	int			y,
				m,
				d,
				h;

	if (iso == NULL || strlen(iso) < 13 || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T' ||
		iso[strlen(iso) - 1] != 'Z' ||
		sscanf(iso, "%4d-%2d-%2dT%2d", &y, &m, &d, &h) != 4 ||
		y < 2000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 || h < 0 || h > 23)
		return 0;
	return (date2j(y, m, d) - POSTGRES_EPOCH_JDATE) * 24 + h + 1;
}

/* The entry of an hour among CR_SHAPE_HOURS, or NULL when it is not known. */
const CrShapeHour *
cr_shape_find_hour(const CrShapeHour *hours, int32 hour)
{
	const CrShapeHour *h;

	if (hour <= 0)
		return NULL;
	h = &hours[CR_SHAPE_HOUR_SLOT(hour)];
	return h->hour == hour ? h : NULL;
}
