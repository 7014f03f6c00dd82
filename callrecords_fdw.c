/*-------------------------------------------------------------------------
 *
 * callrecords_fdw.c
 *		  Foreign data wrapper for Microsoft Graph call records: the handler,
 *		  the validator and the wiring of the FdwRoutine callbacks.
 *
 * The work is done in src/: option.c (options and their validation),
 * catalog.c (the tables and columns and their facts), import.c (IMPORT
 * FOREIGN SCHEMA and the catalogue as SQL functions), http.c (libcurl
 * transfers), transfer.c (one transfer's setup and callbacks), failure.c
 * (retries and Graph's errors), token.c (the OAuth2 token), cache.c (the
 * statement's response cache), ratelimit.c (admitting requests: the
 * statement's budget and Graph's throttling windows), shared.c (the
 * windows' and tokens' memory shared by the backends), deparse.c (Graph
 * request paths and filters), convert.c (JSON values to Datums); the
 * planner: plan.c (the callbacks and the plan), pushdown.c (which
 * conditions narrow the requests), estimate.c (rows, requests and key
 * statistics), batchjoin.c and batchexec.c (planning and running joins
 * that hand a batch of outer ids to the foreign scan), jitcost.c (the JIT
 * decision without the cost of Graph's requests); the scan: scan.c (the
 * executor callbacks), chains.c (the requests a scan makes), fetch.c
 * (fetching pages, ahead of need too), listing.c (a fan-out's call record
 * list, read ahead), pacing.c (how many requests a scan keeps in flight),
 * prune.c (dropping what no column reads before parsing), arena.c (the
 * memory a page's tree is parsed into), rows.c (walking a page into rows)
 * and explain.c (EXPLAIN).  compat.h holds what differs between PostgreSQL
 * 15 and 18.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  callrecords_fdw.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_graph.h"
#include "cr_scan.h"
#include "cr_plan.h"
#include "cr_import.h"

#include "access/reloptions.h"
#include "foreign/fdwapi.h"
#include "utils/array.h"

CR_MODULE_MAGIC;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(callrecords_fdw_handler);
PG_FUNCTION_INFO_V1(callrecords_fdw_validator);

/*
 * Settings, libcurl, the cache invalidation callbacks, the batched
 * join's planner hook, the JIT decision's hook, the executor hooks that
 * count statements, once per backend, and when preloaded, the shared
 * memory of rate windows and tokens.
 */
void
_PG_init(void)
{
	cr_define_gucs();
	cr_http_init();
	cr_install_key_stats_hook();
	cr_batch_join_init();
	cr_jitcost_init();
	cr_statement_init();
	cr_ratelimit_init();
	cr_shared_init();
}

Datum
callrecords_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = cr_get_foreign_rel_size;
	routine->GetForeignPaths = cr_get_foreign_paths;
	routine->GetForeignPlan = cr_get_foreign_plan;
	routine->BeginForeignScan = cr_begin_foreign_scan;
	routine->IterateForeignScan = cr_iterate_foreign_scan;
	routine->ReScanForeignScan = cr_rescan_foreign_scan;
	routine->EndForeignScan = cr_end_foreign_scan;
	routine->ExplainForeignScan = cr_explain_foreign_scan;
	routine->ImportForeignSchema = cr_import_foreign_schema;

	PG_RETURN_POINTER(routine);
}

/*
 * Validate the options of a wrapper, server, user mapping, foreign table
 * or column, as core passes them on CREATE and ALTER.
 */
Datum
callrecords_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options_list = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);

	cr_validate_options(options_list, catalog);
	PG_RETURN_VOID();
}
