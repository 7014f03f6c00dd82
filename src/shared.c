/*-------------------------------------------------------------------------
 *
 * shared.c
 *		  The memory the backends of a cluster share: one segment, under one
 *		  lock, in parts that other files register (ratelimit.c its rate
 *		  windows, token.c its access tokens).
 *
 * Graph counts requests per application and tenant, not per connection,
 * and one token serves every connection of an application: a cluster
 * whose backends each keep their own windows and tokens sends N times the
 * rate and N token requests.  So both live in one segment, under one
 * lock.  Each module registers its part (cr_shared_register(), from its
 * init function, called by _PG_init) and gets back a handle to find it
 * by; this file asks nobody for sizes.  The segment is found in one of
 * two ways:
 *
 * - with the library in shared_preload_libraries, in the main shared
 *	 memory, requested at postmaster start (every version);
 * - otherwise, on PostgreSQL 17 and later, in a segment of the DSM
 *	 registry, created by the first backend that needs it.
 *
 * On 15 and 16 without preloading there is no segment: cr_shared_lock()
 * returns NULL and each backend keeps its own windows and tokens, as
 * README says.  The segment is zeroed when created; zero is every part's
 * "empty".  The lock is held only for short lookups that raise no error.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/shared.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_graph.h"
#include "compat.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#define CR_SHARED_NAME CR_NAME

typedef struct CrSharedHeader
{
	LWLock		lock;
	int			tranche_id;
} CrSharedHeader;

static CrSharedHeader *cr_segment = NULL;	/* attached segment, or NULL */

/* The parts registered, in the order of registration. */
#define CR_SHARED_PARTS 8

typedef struct CrSharedPart
{
	const char *name;
	Size		size;
} CrSharedPart;

static CrSharedPart parts[CR_SHARED_PARTS];
static int	nparts = 0;
static bool sized = false;		/* the segment's size was asked for */

static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;

/*
 * Register a part of the segment, once per backend, before the segment is
 * sized: from _PG_init (its size is the same in every backend, so every
 * backend finds each part at the same place).  Returns the part's handle,
 * for cr_shared_part().
 */
int
cr_shared_register(const char *name, Size size)
{
	if (sized || nparts >= CR_SHARED_PARTS)
		elog(ERROR, "shared memory part \"%s\" registered too late", name);
	parts[nparts].name = name;
	parts[nparts].size = size;
	return nparts++;
}

/* Where a part starts in the segment (past the header and those before it). */
static Size
part_offset(int part)
{
	Size		offset = MAXALIGN(sizeof(CrSharedHeader));
	int			i;

	for (i = 0; i < part; i++)
		offset += MAXALIGN(parts[i].size);
	return offset;
}

/* The segment's size: every part registered; no more may come. */
static Size
segment_size(void)
{
	sized = true;
	return part_offset(nparts);
}

/* A new segment: every part empty, the lock in a tranche of its own. */
static void
init_segment(void *ptr)
{
	CrSharedHeader *h = (CrSharedHeader *) ptr;

	memset(ptr, 0, segment_size());
	h->tranche_id = LWLockNewTrancheId();
	LWLockInitialize(&h->lock, h->tranche_id);
}

/* Ask for the segment in the main shared memory (preloaded only). */
static void
cr_shmem_request(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(segment_size());
}

/* Create the segment, or find it, once the shared memory exists. */
static void
cr_shmem_startup(void)
{
	bool		found;
	void	   *ptr;

	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ptr = ShmemInitStruct(CR_SHARED_NAME, segment_size(), &found);
	if (!found)
		init_segment(ptr);
	LWLockRelease(AddinShmemInitLock);
	cr_segment = (CrSharedHeader *) ptr;
}

/* Install the hooks that set up the segment when preloaded. */
void
cr_shared_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = cr_shmem_request;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = cr_shmem_startup;
}

/*
 * The segment, attached on first use: the preloaded one, else (17+) the
 * DSM registry's, else NULL.  The lock's tranche is named in each backend
 * so that wait events show it.
 */
static CrSharedHeader *
segment(void)
{
	static bool named = false;

#ifdef CR_HAVE_DSM_REGISTRY
	if (cr_segment == NULL && IsUnderPostmaster)
	{
		bool		found;

		cr_segment = GetNamedDSMSegment(CR_SHARED_NAME, segment_size(),
										init_segment, &found);
	}
#endif
	if (cr_segment != NULL && !named)
	{
		LWLockRegisterTranche(cr_segment->tranche_id, CR_SHARED_NAME);
		named = true;
	}
	return cr_segment;
}

/*
 * Lock the segment and return it, or return NULL when the backends share
 * nothing (15 and 16 without preloading).  The caller must release the
 * lock with cr_shared_unlock() before anything can raise an error.
 */
LWLock *
cr_shared_lock(void)
{
	CrSharedHeader *h = segment();

	if (h == NULL)
		return NULL;
	LWLockAcquire(&h->lock, LW_EXCLUSIVE);
	return &h->lock;
}

void
cr_shared_unlock(LWLock *lock)
{
	LWLockRelease(lock);
}

/* A registered part of the segment; call only with the lock held. */
void *
cr_shared_part(int part)
{
	Assert(part >= 0 && part < nparts);
	return (char *) cr_segment + part_offset(part);
}

/*
 * Whether the backends share windows and tokens, for EXPLAIN ANALYZE: a
 * user who sees 429s wants to know whether the limiter sees every
 * session.  The mechanism (preloaded or DSM registry) does not matter to
 * the user, so both read alike.
 */
const char *
cr_shared_mode(void)
{
	return segment() ? "shared by the cluster" : "per backend";
}
