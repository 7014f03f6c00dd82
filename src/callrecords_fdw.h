/*-------------------------------------------------------------------------
 *
 * callrecords_fdw.h
 *		  Declarations shared by the files of callrecords_fdw.
 *
 * Each group of prototypes is owned by the file named above it.  The
 * HTTP layer and the catalogue know nothing about planner or executor
 * structures; the scan and plan files know nothing about libcurl.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/callrecords_fdw.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CALLRECORDS_FDW_H
#define CALLRECORDS_FDW_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"
#include "datatype/timestamp.h"
#include "storage/lwlock.h"
#include "compat.h"

/*
 * The name of the settings and of the shared memory.  A fuzz build
 * (tests/libfuzzer) is loaded into a server where the library itself may
 * be preloaded, so it names its own.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CR_NAME "callrecords_fuzz"
#else
#define CR_NAME "callrecords_fdw"
#endif

/*
 * jansson's json_t; files that use jansson include cr_json.h, which also
 * keeps its json_object() apart from PostgreSQL's SQL function of that name.
 */
typedef struct json_t json_t;

/*
 * The kinds of Graph object a row can come from.  The first six form the
 * call-record tree (parent_level() gives the shape); the log rows of the
 * PSTN functions stand alone.
 */
typedef enum CrLevel
{
	CR_LEVEL_RECORD = 0,
	CR_LEVEL_SESSION,
	CR_LEVEL_SEGMENT,
	CR_LEVEL_MEDIA,
	CR_LEVEL_STREAM,
	CR_LEVEL_PARTICIPANT,
	CR_LEVEL_PSTN_CALL,
	CR_LEVEL_DIRECT_ROUTING_CALL,
	CR_LEVEL_SMS,
	CR_LEVEL_BLOCKED_USER,
	CR_LEVEL_DIALOUT_REPORT
} CrLevel;

#define CR_NUM_LEVELS (CR_LEVEL_DIALOUT_REPORT + 1)
#define CR_NO_LEVEL ((CrLevel) -1)

/* Graph (OData) types of the properties in the catalogue. */
typedef enum CrGraphType
{
	CR_GT_STRING,
	CR_GT_DATETIME,				/* Edm.DateTimeOffset */
	CR_GT_DURATION,				/* Edm.Duration */
	CR_GT_INT32,
	CR_GT_INT64,
	CR_GT_SINGLE,				/* Edm.Single / Edm.Double */
	CR_GT_DECIMAL,				/* Edm.Decimal */
	CR_GT_BOOLEAN,
	CR_GT_ENUM,
	CR_GT_ENUM_COLLECTION,
	CR_GT_JSON,					/* open or complex object kept whole */
	CR_GT_ODATA_TYPE,			/* "@odata.type", namespace stripped */
	CR_GT_POSITION,				/* 1-based position within the parent */
	CR_GT_RAW,					/* the row's object without its children */
	CR_GT_WINDOW_FROM,			/* fromDateTime of the log function call */
	CR_GT_WINDOW_TO				/* toDateTime of the log function call */
} CrGraphType;

/* One column of a resource, as the catalogue declares it. */
typedef struct CrColumnDef
{
	const char *name;			/* column name (snake_case of the path) */
	CrLevel		level;			/* object the path starts from */
	const char *path;			/* dotted Graph property path */
	CrGraphType type;
	bool		beta_only;		/* exists only in the beta API */
} CrColumnDef;

/* How the rows of a resource are fetched. */
typedef enum CrFetchKind
{
	CR_FETCH_RECORDS,			/* the call record list, or one by id */
	CR_FETCH_RECORD_CHILDREN,	/* a call record's expanded children, by id */
	CR_FETCH_FUNCTION			/* a log function over a time window */
} CrFetchKind;

/* One foreign-table resource. */
typedef struct CrResource
{
	const char *name;			/* value of the "resource" table option */
	CrLevel		level;			/* kind of object that becomes a row */
	CrFetchKind fetch;
	const char *function;		/* CR_FETCH_FUNCTION: the Graph function */
	const char *window_column;	/* column whose range becomes the window */
	bool		to_inclusive;	/* the function's toDateTime is inclusive */
	bool		beta_only;		/* exists only in the beta API */
	const char *description;
} CrResource;

/*
 * max_response_bytes: its default and greatest value.  A page costs up to
 * about twelve times its size while it is read (body, pruned text, and a
 * tree bounded by arena.c; bench case 7), so the default (64 MB) costs a
 * backend under 1 GB at worst and the greatest (256 MB) about 3 GB.
 */
#define CR_DEFAULT_MAX_RESPONSE_BYTES	(64 * 1024 * 1024)
#define CR_MAX_RESPONSE_BYTES_CAP		(256 * 1024 * 1024)

/* Options of one foreign table's server, user mapping and table. */
typedef struct CrOptions
{
	Oid			serverid;
	Oid			umid;			/* user mapping OID, keys the token cache;
								 * InvalidOid for a plain EXPLAIN */
	char	   *tenant_id;
	char	   *graph_url;		/* without trailing slash */
	char	   *login_url;		/* without trailing slash */
	char	   *api_version;
	int			max_requests;	/* Graph requests one statement may make */
	int			max_retries;	/* retries of a throttled or failed request */
	int			max_concurrency;	/* requests one scan keeps in flight */
	int			max_retry_wait; /* seconds of waiting before retries, per request */
	int			connect_timeout;	/* seconds */
	int			request_timeout;	/* seconds, per request */
	int			max_response_bytes; /* largest response body accepted */
	int			rate_window;	/* seconds of Graph's throttling windows */
	int			record_rate_limit;	/* requests per window per call record (or list, or log function); 0: off */
	int			tenant_rate_limit;	/* requests per window per application and tenant; 0: off */
	char	   *ca_file;		/* CA bundle for TLS, or NULL: the system's */
	char	   *proxy;			/* proxy URL, or NULL: none */
	char	   *client_id;
	char	   *client_secret;
	char	   *proxy_user;		/* proxy credentials (user mapping), or NULL */
	char	   *proxy_password;
	char	   *resource;
} CrOptions;

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
} CrScanStats;

/* in option.c */
extern void cr_validate_options(List *options_list, Oid catalog);
extern CrOptions *cr_get_options(Oid foreigntableid, Oid userid, bool with_mapping);
extern const CrResource *cr_table_resource(const CrOptions *opts);
extern void cr_define_gucs(void);
extern bool cr_enable_pushdown;
extern bool cr_prune_pages;
extern bool cr_batch_joins;
extern TimestampTz cr_reference_time(void);

/* in catalog.c */
extern const CrResource *cr_find_resource(const char *name);
extern char *cr_resource_names(void);
extern List *cr_resource_columns(const CrResource *res);
extern const CrColumnDef *cr_find_column(const CrResource *res, const char *name);
extern const char *cr_pg_type_name(CrGraphType type);
extern CrLevel cr_parent_level(CrLevel level);
extern const char *cr_child_key(CrLevel level);
extern const char *cr_key_column(const CrResource *res);
extern const char *cr_time_column(const CrResource *res);
extern int	cr_page_size(const CrResource *res);
extern int	cr_resource_count(void);
extern const CrResource *cr_resource_at(int i);

/* in import.c */
extern List *cr_import_foreign_schema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

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
							   int maxpagesize, bool share, CrScanStats *stats);
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
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* tests/libfuzzer/harness.c: the answer to every Graph GET of a fuzz build */
extern void cr_fuzz_answer(const char *url, MemoryContext cxt, CrResponse *resp);
#endif

/* in failure.c */
extern void cr_report_graph_error(const CrResponse *resp, const char *what);

/* in cache.c */
extern bool cr_graph_cached(const CrOptions *opts, const char *url, int maxpagesize);

/* in ratelimit.c */
extern uint64 cr_statement_number(void);
extern void cr_ratelimit_init(void);
extern double cr_admit(const CrOptions *opts, const CrRequestScope *scope, int reserve);
extern Size cr_rates_shmem_size(void);
extern void cr_note_lateness(const CrOptions *opts, double late_ms);

/* in shared.c */
extern void cr_shared_init(void);
extern LWLock *cr_shared_lock(void);
extern void cr_shared_unlock(LWLock *lock);
extern void *cr_shared_rates(void);
extern void *cr_shared_tokens(void);
extern const char *cr_shared_mode(void);

/* in token.c */
extern Size cr_tokens_shmem_size(void);

/* in convert.c */
typedef struct CrColumnConv CrColumnConv;
extern CrColumnConv *cr_make_column_conv(Form_pg_attribute attr,
										 const CrColumnDef *def);
extern Datum cr_convert_value(CrColumnConv *conv, json_t *value, bool *isnull);
extern Datum cr_convert_position(CrColumnConv *conv, int64 pos);
extern Datum cr_convert_timestamp(CrColumnConv *conv, TimestampTz t);
extern const char *cr_json_string(json_t *v);

/* prune.c: which members of a page's objects the scan reads */
typedef struct CrPruneSpec
{
	bool		walked[CR_NUM_LEVELS];	/* collections the scan descends into */
	bool		keep_all[CR_NUM_LEVELS];	/* the whole object is read */
	List	   *keep[CR_NUM_LEVELS];	/* else these member names (char *) */
} CrPruneSpec;

extern bool cr_prune_page(const CrPruneSpec *spec, CrLevel root_level, bool collection,
						  const char *text, size_t len, StringInfo out, int64 *marked);
extern json_t *cr_json_at_path(json_t *obj, const char *path);

/* the rough shape of the data, for estimates (estimate.c) */
#define CR_EST_SESSIONS_PER_RECORD	8.0
#define CR_EST_PARTICIPANTS_PER_RECORD 6.0
#define CR_EST_CHILDREN_PER_PARENT	1.5
extern double cr_rows_per_record(const CrResource *res);

/* in plan.c */
extern const CrResource *cr_relation_resource(Oid relid);
extern void cr_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
									Oid foreigntableid);
extern void cr_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern ForeignScan *cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);
extern bool cr_batch_key(PlannerInfo *root, RelOptInfo *baserel, AttrNumber *keyattno,
						 double *rows_per_key, Cost *cost_per_key, bool *serial);

/* in batchjoin.c */
/* in jitcost.c */
extern void cr_jitcost_init(void);

extern void cr_batch_join_init(void);
extern bool cr_is_batched_inner(ForeignPath *path);

/* in scan.c */
extern void cr_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *cr_iterate_foreign_scan(ForeignScanState *node);
extern void cr_rescan_foreign_scan(ForeignScanState *node);
extern void cr_end_foreign_scan(ForeignScanState *node);

extern void cr_scan_set_batch_keys(ForeignScanState *node, Datum keys);

/* in explain.c */
extern void cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es);

/*
 * Indexes into ForeignScan.fdw_private, written by plan.c, read by scan.c.
 * The pushed-down values travel in fdw_exprs, so that setrefs fixes up
 * their Params; the roles list says what each of them is.
 */
enum CrScanPrivateIndex
{
	CrScanPrivateRetrievedAttrs,	/* Integer list of attnums that are needed */
	CrScanPrivateRoles,			/* Integer list of CrQualRole, one per fdw_expr */
	CrScanPrivatePageSizeHint,	/* Integer: Prefer: odata.maxpagesize, or 0 */
	CrScanPrivateExpandSegments,	/* Integer (bool): sessions with their segments */
	CrScanPrivateShareResponses,	/* Integer (bool): keep pages for other scans */
	CrScanPrivateLimited,		/* Integer (bool): the query has a LIMIT */
	CrScanPrivateOuterValue,	/* Integer: position in fdw_exprs of the value
								 * of a parameterized path's outer row, or -1 */
	CrScanPrivateTimeUnpushed	/* Integer (bool): a local-only condition reads
								 * the time column */
};

/* The facts of a scan fixed at plan time, as fdw_private holds them. */
typedef struct CrScanPlan
{
	List	   *retrieved_attrs;	/* attnums the query reads */
	List	   *roles;			/* CrQualRole (with arm) per fdw_expr */
	int			page_size_hint; /* Prefer: odata.maxpagesize, or 0 */
	bool		expand_segments;	/* sessions with their segments */
	bool		share_responses;	/* keep pages for other scans */
	bool		limited;		/* the query has a LIMIT */
	int			outer_value;	/* fdw_expr of a parameterized path's outer row, or -1 */
	bool		time_unpushed;	/* a local-only condition reads the time column */
} CrScanPlan;

/* in plan.c: the one writer and the one reader of fdw_private */
extern List *cr_scan_plan_write(const CrScanPlan *plan);
extern void cr_scan_plan_read(List *fdw_private, CrScanPlan *plan);

/* What a value in fdw_exprs stands for. */
typedef enum CrQualRole
{
	CR_QUAL_KEY,				/* call record id (scalar) */
	CR_QUAL_KEY_ARRAY,			/* call record ids (array) */
	CR_QUAL_TIME_GE,			/* time column >= value */
	CR_QUAL_TIME_GT,
	CR_QUAL_TIME_LE,
	CR_QUAL_TIME_LT,
	CR_QUAL_WINDOW_FROM,		/* from_date_time = value */
	CR_QUAL_WINDOW_TO,			/* to_date_time = value */
	CR_QUAL_PARTICIPANT			/* participant id = value (participants) */
} CrQualRole;

/*
 * A role in the roles list also says which arm of an OR of time ranges
 * the value belongs to: arm 0 for the conditions that hold for every row,
 * 1, 2, ... for the arms of the one OR a scan pushes (whose windows are
 * fetched each once).
 */
#define CR_ROLE_ARM_STEP	100
#define CR_ROLE(role, arm)	((int) (role) + (arm) * CR_ROLE_ARM_STEP)
#define CR_ROLE_BASE(r)		((CrQualRole) ((r) % CR_ROLE_ARM_STEP))
#define CR_ROLE_ARM(r)		((r) / CR_ROLE_ARM_STEP)

/* in estimate.c */
extern void cr_install_estimate_hooks(void);

/* in deparse.c */
extern char *cr_server_to_utf8(const char *s);
extern char *cr_url_escape(const char *s);
extern char *cr_url_escape_utf8(const char *s);
extern bool cr_same_origin(const char *base, const char *url);
extern char *cr_url_collection(const char *url);
extern char *cr_record_path(const CrOptions *opts, const CrResource *res,
							const char *id_text, const char *select,
							bool segments);
extern char *cr_list_path(const CrOptions *opts, List *filters, const char *select);
extern char *cr_filter_term(CrQualRole role, const char *literal);
extern char *cr_participant_term(const char *literal);
extern char *cr_odata_string(const char *value);
extern char *cr_function_path(const CrOptions *opts, const CrResource *res,
							  const char *from_text, const char *to_text);
extern char *cr_odata_timestamp(TimestampTz t, bool minus_tick);

#endif							/* CALLRECORDS_FDW_H */
