/*-------------------------------------------------------------------------
 *
 * cr_common.h
 *		  Declarations shared by the files of callrecords_fdw.
 *
 * The header of the ground layer (src/README.md): the types every layer
 * uses (levels, Graph types, columns, resources, options, the roles of
 * pushed values) and the prototypes of the ground's files.  Each group of
 * prototypes is owned by the file named above it.  Each layer above has
 * a header of its own (cr_url.h, cr_graph.h, scan_int.h, cr_scan.h,
 * cr_plan.h, cr_import.h); nothing here knows the planner, the executor
 * or libcurl.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_COMMON_H
#define CR_COMMON_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"
#include "datatype/timestamp.h"
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
 * memory_budget, in MB: what one scan's answers (in flight and waiting)
 * and the page it parses may hold (fetch.c, pacing.c).
 */
#define CR_DEFAULT_MEMORY_BUDGET_MB		256
#define CR_MIN_MEMORY_BUDGET_MB			1
#define CR_MAX_MEMORY_BUDGET_MB			1048576

/*
 * max_response_bytes: its default and greatest value.  A page costs up to
 * about twelve times its size while it is read (body, pruned text, and a
 * tree bounded by arena.c; bench case 7).  The pages a scan reads ahead
 * stay within memory_budget; the one page it reads is always read, so one
 * page alone may cost up to twelve times this.
 */
#define CR_DEFAULT_MAX_RESPONSE_BYTES	(64 * 1024 * 1024)
#define CR_MAX_RESPONSE_BYTES_CAP		(256 * 1024 * 1024)

/*
 * How a user mapping signs in: with the app's client secret or
 * certificate (its own credentials), or as the machine's managed identity
 * or the workload identity of its environment (the database server's,
 * which only a superuser may choose).
 */
typedef enum CrAuthKind
{
	CR_AUTH_SECRET = 0,			/* client_secret */
	CR_AUTH_CERTIFICATE,		/* client_certificate + client_private_key */
	CR_AUTH_CERTIFICATE_FILE,	/* client_certificate_file (superuser) */
	CR_AUTH_MANAGED_IDENTITY,	/* auth 'managed_identity' (superuser) */
	CR_AUTH_WORKLOAD_IDENTITY	/* auth 'workload_identity' (superuser) */
} CrAuthKind;

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
	int			record_rate_limit;	/* requests per window per call record (or the list); 0: off */
	int			tenant_rate_limit;	/* requests per window per application and tenant; 0: off */
	int			log_rate_window;	/* seconds of Graph's windows for the log functions */
	int			log_function_rate_limit;	/* log requests per window per function; 0: off */
	int			log_app_rate_limit; /* log requests per window per application and tenant; 0: off */
	int			log_tenant_rate_limit;	/* log requests per window per tenant, all applications; 0: off */
	int			memory_budget;	/* MB one scan's answers and page may hold */
	char	   *ca_file;		/* CA bundle for TLS, or NULL: the system's */
	char	   *proxy;			/* proxy URL, or NULL: none */
	CrAuthKind	auth;			/* the credential's kind, from the options */
	char	   *client_id;		/* workload identity: else AZURE_CLIENT_ID */
	char	   *client_secret;
	char	   *client_certificate; /* PEM certificate (user mapping) */
	char	   *client_private_key; /* PEM private key, maybe encrypted */
	char	   *client_private_key_password;
	char	   *client_certificate_file;	/* PEM bundle or PKCS#12 (superuser) */
	char	   *client_certificate_password;
	char	   *managed_identity_client_id;	/* a user-assigned identity: */
	char	   *managed_identity_object_id;	/* at most one of the three */
	char	   *managed_identity_resource_id;
	char	   *federated_token_file;	/* else AZURE_FEDERATED_TOKEN_FILE */
	char	   *proxy_user;		/* proxy credentials (user mapping), or NULL */
	char	   *proxy_password;
	char	   *resource;
} CrOptions;

/* in option.c */
extern void cr_validate_options(List *options_list, Oid catalog);
extern CrOptions *cr_get_options(Oid foreigntableid, Oid userid, bool with_mapping);
extern const CrResource *cr_table_resource(const CrOptions *opts);
extern void cr_define_gucs(void);
extern bool cr_enable_pushdown;
extern bool cr_enable_join_pushdown;
extern bool cr_prune_pages;
extern bool cr_batch_joins;
extern bool cr_learn_tenant_shape;
extern bool cr_enable_join_pushdown;
extern TimestampTz cr_reference_time(void);
extern char *cr_identity_endpoint;
extern char *cr_identity_header;
extern bool cr_is_identity_endpoint(const char *url);
extern const char *cr_auth_kind_name(CrAuthKind auth);
extern size_t cr_memory_budget(const CrOptions *opts);

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

/* in convert.c */
typedef struct CrColumnConv CrColumnConv;
extern CrColumnConv *cr_make_column_conv(Form_pg_attribute attr,
										 const CrColumnDef *def);
extern Datum cr_convert_value(CrColumnConv *conv, json_t *value, bool *isnull);
extern Datum cr_convert_position(CrColumnConv *conv, int64 pos);
extern Datum cr_convert_timestamp(CrColumnConv *conv, TimestampTz t);
extern const char *cr_json_string(json_t *v);
extern json_t *cr_json_at_path(json_t *obj, const char *path);

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

#endif							/* CR_COMMON_H */
