/*-------------------------------------------------------------------------
 *
 * scan_int.h
 *		  Declarations private to the files that execute a scan: scan.c
 *		  (the FDW callbacks), chains.c (the requests), listing.c (the call
 *		  record list), fetch.c (the pages), pacing.c (how many in flight),
 *		  rows.c (the rows of a page), arena.c (where a page's tree lives)
 *		  and explain.c (EXPLAIN).
 *
 * The pipeline runs one way: scan.c -> rows.c (rows of a page handed
 * down) and fetch.c (the next page) -> listing.c -> chains.c, with
 * pacing.c and arena.c beside; no file calls one to its left.
 *
 * Each group of prototypes is owned by the file named above it.  Only
 * the files of the fetch pipeline and of the scan and EXPLAIN layer
 * include this header; what the planner and the wiring call is in
 * cr_scan.h.  It includes cr_json.h, so it comes after every
 * other PostgreSQL header.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/scan_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef SCAN_INT_H
#define SCAN_INT_H

#include "cr_common.h"
#include "cr_graph.h"
#include "cr_url.h"

#include "executor/tuptable.h"
#include "lib/ilist.h"
#include "nodes/execnodes.h"
#include "utils/hsearch.h"
#include "cr_json.h"

/* prune.c: which members of a page's objects the scan reads */
typedef struct CrPruneSpec
{
	bool		walked[CR_NUM_LEVELS];	/* collections the scan descends into */
	bool		keep_all[CR_NUM_LEVELS];	/* the whole object is read */
	List	   *keep[CR_NUM_LEVELS];	/* else these member names (char *) */
} CrPruneSpec;

extern bool cr_prune_page(const CrPruneSpec *spec, CrLevel root_level, bool collection,
						  const char *text, size_t len, StringInfo out, int64 *marked);

/* How the first page of a chain holds its rows. */
typedef enum CrFirstPage
{
	CR_FIRST_EXPANDED_RECORD,	/* a call record; rows in its expanded child */
	CR_FIRST_SINGLE,			/* one object, which is the row */
	CR_FIRST_COLLECTION			/* "value" array, "@odata.nextLink" */
} CrFirstPage;

/* One request chain. */
typedef struct CrChain
{
	char	   *path;			/* first request, relative to graph_url */
	CrFirstPage first;
	char	   *record_id;		/* call record it reads, in UTF-8 */
	TimestampTz window_from;	/* log functions: the window asked for */
	TimestampTz window_to;
} CrChain;

/*
 * The bounds of the time window: what the query asks for, widened by a
 * microsecond on the inclusive sides.  Graph keeps times to 100 ns and
 * PostgreSQL rounds them to the microsecond, so a row a fraction of a
 * microsecond outside the bound can still match it once rounded; the
 * local recheck drops what the widening adds.
 */
typedef struct CrTimeBounds
{
	bool		has_lower;
	TimestampTz lower;			/* send "from >= lower" (or >, */
	bool		lower_strict;	/* when lower_strict) */
	bool		has_upper;
	TimestampTz upper;			/* fetch rows before upper (or at it, */
	bool		upper_inclusive;	/* when upper_inclusive) */
	bool		empty;			/* no time can satisfy the bounds */
} CrTimeBounds;

/*
 * The pushed-down values of a scan, read (evaluated at execution, or as
 * constants by EXPLAIN) into what they ask Graph for.
 */
typedef struct CrPushedValues
{
	bool		has_key;		/* a key condition: fetch by id */
	List	   *ids;			/* its ids (String nodes), repeats too:
								 * cr_unique_ids() drops them */
	List	   *filters;		/* participant terms of the call record list */
	bool		has_time;		/* some value bounds the time column */
	int			narms;			/* arms of the pushed OR of ranges, or 0 */
	CrTimeBounds *arms;			/* [0]: what every row meets; [k]: arm k */
	bool		none;			/* a NULL value: no row can match */
} CrPushedValues;

/* What a page is, for pruning: a call record with its children, or a collection of rows. */
typedef enum CrPageShape
{
	CR_PAGE_OTHER,				/* not pruned */
	CR_PAGE_RECORD,
	CR_PAGE_COLLECTION
} CrPageShape;

/*
 * Where jansson puts the tree of a row page.  A page of 60 sessions is
 * some 100,000 small objects; taking them from a bump allocator and
 * dropping them all at once with the next page, instead of malloc'ing and
 * freeing each one, saves about a third of the time a page costs.  The
 * arena's allocator is installed only while jansson builds the page's
 * tree (jansson's allocator is global to the process), so nothing else
 * ever frees into it, and nothing outside the page may keep pointers into
 * it: the call record kept for the key columns is a deep copy.
 */
typedef struct CrArenaBlock
{
	struct CrArenaBlock *next;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} CrArenaBlock;

typedef struct CrJsonArena
{
	MemoryContext cxt;			/* the blocks, kept from page to page */
	MemoryContext big_cxt;		/* large chunks, dropped with each page */
	CrArenaBlock *first;
	CrArenaBlock *cur;			/* block being filled, NULL before the first */
	char	   *next;			/* free space in it */
	char	   *end;
	size_t		used;			/* bytes handed out for the current page */
	size_t		limit;			/* at most this many (cr_arena_limit) */
	bool		refused;		/* an allocation hit the limit */
	bool		interrupted;	/* one was refused for a pending cancel */
} CrJsonArena;

/* jansson's allocator as it was before cr_arena_enter(). */
typedef struct CrAllocFuncs
{
	json_malloc_t malloc_fn;
	json_free_t free_fn;
} CrAllocFuncs;

/* Where the next links of one request chain may lead (chains.c). */
typedef struct CrLinkCheck
{
	char	   *collection;		/* cr_url_collection() of the chain's pages */
	HTAB	   *seen;			/* uint64 hashes of the pages asked for */
} CrLinkCheck;

/* Execution state of one foreign scan. */
/*
 * What pacing.c keeps to choose a scan's concurrency: the cap a 429 set,
 * and the scan's requests in the last rate window, in buckets of a
 * twentieth of it, for the room the window has left.
 */
#define CR_PACE_BUCKETS 20
typedef struct CrPacing
{
	int			cap;			/* after a 429, the cap growing back, or 0 */
	int64		counted;		/* stats.requests already in a bucket */
	int64		bucket_no[CR_PACE_BUCKETS]; /* which twentieth each counts */
	int			bucket[CR_PACE_BUCKETS];
} CrPacing;

typedef struct CrScanState
{
	CrOptions  *opts;
	const CrResource *res;
	Relation	rel;
	char	   *select;			/* $select of call_records, or NULL */
	int			page_size_hint; /* Prefer: odata.maxpagesize, or 0 */
	bool		expand_segments;	/* sessions asked with their segments */
	bool		share_responses;	/* keep pages for other scans */
	bool		limited;		/* a LIMIT may stop the scan early */
	Datum		batch_keys;		/* a batched join's keys (text[]), set by it */
	bool		batched;		/* they stand in for the outer_value below */
	Node	   *outer_value;	/* the fdw_expr a parameterized path gets
								 * from its outer row, or NULL */

	/* per attribute (0-based); NULL where the query does not read it */
	TupleDesc	tupdesc;		/* the scan tuple's: the table's, or a
								 * pushed join's fdw_scan_tlist */
	const CrColumnDef **defs;
	CrColumnConv **convs;
	char	  **attr_rels;		/* a pushed join: each column's table name */
	char	   *relations;		/* a pushed join: its tables, for EXPLAIN */
	bool		rel_opened;		/* rel is a pushed join's table, opened here */

	/* levels walked below a page: levels[0] holds the page's rows */
	CrLevel		levels[CR_NUM_LEVELS];
	int			nlevels;

	/*
	 * A pushed join's left joins (rows.c): at a depth where a nullable side
	 * begins, whether the object above has had a row of it yet; when not,
	 * the walk makes one row with the nullable side's columns NULL
	 * (null_from: the depth they begin at, or -1).
	 */
	int			depth_of[CR_NUM_LEVELS];	/* depth of a level in the walk, or -1 */
	bool		bound_start[CR_NUM_LEVELS]; /* by depth: a nullable side begins */
	int			bound_of_end[CR_NUM_LEVELS];	/* by depth: the start of the side
												 * whose deepest table is here, or -1 */
	bool		matched[CR_NUM_LEVELS]; /* by start depth: a row was made */
	int			null_from;
	CrPruneSpec *prune;			/* what pages keep before parsing, or NULL */

	/* the pushed-down values and the chains they give */
	List	   *value_states;	/* ExprState per fdw_expr */
	List	   *roles;			/* CrQualRole per fdw_expr */
	List	   *chains;			/* of CrChain *, built at the first row */
	ListCell   *next_chain;
	bool		chains_ready;
	MemoryContext chains_cxt;	/* holds them; reset at each rescan */
	CrChain    *chain;			/* the chain being read */

	/* without ids, the tables below a call record list the records first */
	bool		fanout;
	char	   *list_link;		/* next page of the call record list */
	List	   *list_paths;		/* lists of the other time windows, to read next */
	bool		time_unpushed;	/* a local-only condition reads the time column */
	bool		retention_noticed;	/* told that a window is older than Graph keeps */
	List	   *list_ids;		/* ids listed, from chains_started on unread */
	MemoryContext list_cxt;		/* reset per list page, or renewed (fetch.c) */
	bool		list_links_begun;	/* list_links check the list being read */

	/*
	 * The pages a chain may lead to: its next links must stay in the
	 * collection the chain began with and never come back to a page of it
	 * (hashes of the links followed).  The same for the call record list.
	 */
	CrLinkCheck *chain_links;	/* the chain's, begun at its first page */
	CrLinkCheck list_links;

	/* the call record whose children are read */
	json_t	   *record;			/* its properties, without the children */
	char	   *next_link;		/* next page of the chain, or NULL */
	int64		page_base;		/* rows on the chain's earlier pages */

	/*
	 * Requests started ahead of need, in scan_cxt: the next page of the
	 * chain being read, the first pages of the chains after it, the pages
	 * their next links lead to and the list's next page; at most
	 * concurrency of them unanswered and as many answered but unread
	 * (pacing.c chooses concurrency), their answers within the scan's
	 * memory budget (meter).
	 */
	List	   *prefetch;		/* of CrAhead * (fetch.c) */
	int			concurrency;	/* unanswered requests at most (pacing.c) */
	CrPacing	pacing;			/* what chooses concurrency sees (pacing.c) */
	bool		waiting;		/* the scan waits for a page (one more unanswered) */
	bool		list_link_ahead;	/* list_link is the list's next page, unread */
	bool		next_prefetched;	/* the next link is among them */
	dlist_node	reader_node;	/* in fetch.c's list readers while listed */
	bool		reader_listed;	/* ... which it is */
	bool		reader_callback;	/* leaves them when its memory goes */
	int			chains_started; /* chains (or listed records) begun */
	int			chains_prefetched;	/* ... or asked for ahead */

	/*
	 * What the scan saw of the tenant's shape (shape.c): the share of 30
	 * days its lists cover (< 0: not a plain time window), the records
	 * listed, and the pages and sessions of the listed records' chains
	 * read to their end.
	 */
	double		list_span_days;
	int64		listed;
	bool		chain_counted;	/* st->chain is a listed record's, being counted */
	int			chain_pages;
	int64		chain_sessions;
	int			shape_chains;
	double		shape_pages;
	double		shape_sessions;
	bool		hours_covered;	/* shape_hours holds the whole hours listed */
	CrShapeHour shape_hours[CR_SHAPE_HOURS];	/* by CR_SHAPE_HOUR_SLOT() */
	CrShapeHour *chain_hour;	/* the hour st->chain's record started, or NULL */

	int64		links_ahead;	/* next links followed as their page came */

	/*
	 * The scan's memory budget (memory_budget): the answers' part of it,
	 * counted by the Graph client, and the most a page cost to parse (its
	 * pruned text and tree), kept back from the answers for the next one.
	 */
	CrMemoryMeter meter;
	size_t		memory_budget;
	size_t		page_cost_peak;

	/* the current page and the cursor into its tree */
	MemoryContext page_cxt;
	CrJsonArena arena;			/* holds the page's tree */
	json_t	   *page;
	CrFirstPage page_kind;		/* how it holds its rows (fetch.c says) */
	bool		page_starts_chain;	/* the first page of st->chain */

	double		est_requests;	/* what the planner estimated (EXPLAIN), or < 0 */
	bool		est_per_outer_row;	/* ... for each outer row */
	json_t	   *arr[CR_NUM_LEVELS];
	json_t	   *obj[CR_NUM_LEVELS];
	int64		pos[CR_NUM_LEVELS];

	/* rows kept for rescans (keep.c, above this layer), or NULL */
	struct CrKept *kept;

	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext tuple_cxt;	/* reset per row */
	int			cur_attr;		/* attribute being converted, or -1 */
	CrScanStats stats;
} CrScanState;


/* in chains.c */
extern TimestampTz cr_widened(CrQualRole role, TimestampTz t);
extern void cr_add_time_bound(CrTimeBounds *b, CrQualRole role, TimestampTz t);
extern CrChain *cr_make_chain(char *path, CrFirstPage first, char *record_id);
extern List *cr_add_ids(List *ids, CrQualRole role, Datum d);
extern List *cr_unique_ids(List *ids);
extern int	cr_id_cmp(const char *a, const char *b);
extern bool cr_id_names_record(const char *id);
extern List *cr_function_chains(CrScanState *st, const CrTimeBounds *b);
extern void cr_pushed_init(CrPushedValues *pv, List *roles);
extern void cr_pushed_add(CrPushedValues *pv, int role, Datum d, bool isnull);
extern List *cr_pushed_windows(const CrPushedValues *pv);
extern const char *cr_function_problem(CrScanState *st, const CrPushedValues *pv, List *windows);
extern List *cr_pushed_chains(CrScanState *st, const CrPushedValues *pv, List **list_paths);
extern bool cr_next_list_path(CrScanState *st);
extern void cr_build_chains(CrScanState *st, ExprContext *econtext);
extern char *cr_chains_signature(CrScanState *st);
extern void cr_links_begin(CrScanState *st, CrLinkCheck *chk, const char *url,
						   const char *child);
extern CrLinkCheck *cr_links_new(CrScanState *st, const char *url, const char *child);
extern void cr_links_free(CrLinkCheck *chk);
extern bool cr_link_allowed(CrScanState *st, const char *url, CrLinkCheck *chk);
extern char *cr_checked_next_link(CrScanState *st, json_t *link, CrLinkCheck *chk);

/* in fetch.c */
extern void cr_drop_prefetch(CrScanState *st);
extern void cr_fill_prefetch(CrScanState *st);
extern void cr_check_known_requests(CrScanState *st);
extern void cr_memory_start(CrScanState *st);
extern bool cr_next_page(CrScanState *st);

/*
 * in listing.c: a fan-out reads the call record list ahead while fewer
 * than CR_LIST_AHEAD of its ids are still to be read, and keeps the ids
 * not yet read in a fresh context once CR_LIST_COMPACT were read
 */
#define CR_LIST_AHEAD	200
#define CR_LIST_COMPACT 240
extern void cr_list_take_page(CrScanState *st, json_t *root, bool replace);
extern const char *cr_list_next_url(CrScanState *st);
extern CrChain *cr_list_next_chain(CrScanState *st);

/* in pacing.c */
extern size_t cr_answer_size(const CrScanState *st);
extern void cr_pacing_start(CrScanState *st);
extern void cr_pacing_observe(CrScanState *st, const CrResponse *resp);
extern void cr_pacing_update(CrScanState *st);

/* in rows.c */
extern void cr_leave_page(CrScanState *st);
extern void cr_take_page(CrScanState *st);
extern json_t *cr_without_children(json_t *obj, CrLevel level, bool deep);
extern bool cr_next_at(CrScanState *st, int d);
extern bool cr_next_row(CrScanState *st);
extern void cr_store_row(CrScanState *st, TupleTableSlot *slot);

/* in arena.c */
extern void cr_arena_reset(CrJsonArena *a);
extern void cr_arena_limit(CrJsonArena *a, size_t page_len);
extern void cr_arena_enter(CrJsonArena *a, CrAllocFuncs *saved);
extern void cr_arena_leave(const CrAllocFuncs *saved);

#endif							/* SCAN_INT_H */
