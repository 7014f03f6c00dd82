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
#include "commands/explain.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "lib/stringinfo.h"
#include "nodes/pathnodes.h"

/*
 * jansson's json_t; files that use jansson include cr_json.h, which also
 * keeps its json_object() apart from PostgreSQL's SQL function of that name.
 */
typedef struct json_t json_t;

/*
 * Levels of the call-record tree.  A table maps one level; its rows carry
 * the keys of every level above it.
 */
typedef enum CrLevel
{
	CR_LEVEL_RECORD = 0,
	CR_LEVEL_SESSION,
	CR_LEVEL_SEGMENT,
	CR_LEVEL_MEDIA,
	CR_LEVEL_STREAM
} CrLevel;

#define CR_NUM_LEVELS (CR_LEVEL_STREAM + 1)

/* Graph (OData) types of the properties in the catalogue. */
typedef enum CrGraphType
{
	CR_GT_STRING,
	CR_GT_DATETIME,				/* Edm.DateTimeOffset */
	CR_GT_DURATION,				/* Edm.Duration */
	CR_GT_INT32,
	CR_GT_INT64,
	CR_GT_SINGLE,				/* Edm.Single / Edm.Double */
	CR_GT_BOOLEAN,
	CR_GT_ENUM,
	CR_GT_ENUM_COLLECTION,
	CR_GT_JSON,					/* open or complex object kept whole */
	CR_GT_ODATA_TYPE,			/* "@odata.type", namespace stripped */
	CR_GT_POSITION				/* 1-based position within the parent */
} CrGraphType;

/* One column of a resource, as the catalogue declares it. */
typedef struct CrColumnDef
{
	const char *name;			/* column name (snake_case of the path) */
	CrLevel		level;			/* object the path starts from */
	const char *path;			/* dotted Graph property path */
	CrGraphType type;
} CrColumnDef;

/* One foreign-table resource. */
typedef struct CrResource
{
	const char *name;			/* value of the "resource" table option */
	CrLevel		level;			/* level whose objects become rows */
	const char *description;
} CrResource;

/* Options of one foreign table's server, user mapping and table. */
typedef struct CrOptions
{
	Oid			serverid;
	Oid			userid;			/* user the mapping was looked up for */
	Oid			umid;			/* user mapping OID, keys the token cache */
	char	   *tenant_id;
	char	   *graph_url;		/* without trailing slash */
	char	   *login_url;		/* without trailing slash */
	char	   *api_version;
	char	   *client_id;
	char	   *client_secret;
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
} CrResponse;

/* Counters shown by EXPLAIN ANALYZE. */
typedef struct CrScanStats
{
	int64		requests;
	int64		pages;
	int64		bytes;
	int64		token_requests;
	double		wait_ms;
} CrScanStats;

/* in option.c */
extern void cr_validate_options(List *options_list, Oid catalog);
extern CrOptions *cr_get_options(Oid foreigntableid, Oid userid);
extern const CrResource *cr_table_resource(const CrOptions *opts);

/* in catalog.c */
extern const CrResource *cr_find_resource(const char *name);
extern char *cr_resource_names(void);
extern List *cr_resource_columns(const CrResource *res);
extern const CrColumnDef *cr_find_column(const CrResource *res, const char *name);
extern const char *cr_pg_type_name(CrGraphType type);
extern List *cr_import_foreign_schema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

/* in http.c */
extern void cr_http_init(void);
extern void cr_graph_get(const CrOptions *opts, const char *url,
						 CrResponse *resp, CrScanStats *stats);
extern void cr_report_graph_error(const CrResponse *resp, const char *what);
extern char *cr_url_escape(const char *s);
extern bool cr_same_origin(const char *base, const char *url);

/* in convert.c */
typedef struct CrColumnConv CrColumnConv;
extern CrColumnConv *cr_make_column_conv(Form_pg_attribute attr,
										 const CrColumnDef *def);
extern Datum cr_convert_value(CrColumnConv *conv, json_t *value, bool *isnull);
extern Datum cr_convert_position(CrColumnConv *conv, int64 pos);
extern json_t *cr_json_at_path(json_t *obj, const char *path);

/* in plan.c */
extern void cr_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
									Oid foreigntableid);
extern void cr_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern ForeignScan *cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);

/* in scan.c */
extern void cr_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *cr_iterate_foreign_scan(ForeignScanState *node);
extern void cr_rescan_foreign_scan(ForeignScanState *node);
extern void cr_end_foreign_scan(ForeignScanState *node);
extern void cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es);

/*
 * Indexes into ForeignScan.fdw_private, written by plan.c, read by scan.c.
 * The expressions giving call record ids travel in fdw_exprs, so that
 * setrefs fixes up their Params.
 */
enum CrScanPrivateIndex
{
	CrScanPrivateResource,		/* resource name (String) */
	CrScanPrivateRetrievedAttrs /* Integer list of attnums that are needed */
};

#endif							/* CALLRECORDS_FDW_H */
