/*-------------------------------------------------------------------------
 *
 * callrecords_fdw.c
 *		  Foreign data wrapper for Microsoft Graph call records: the handler,
 *		  the validator and the wiring of the FdwRoutine callbacks.
 *
 * The work is done in src/, in layers where every call goes down; the
 * one table of them, with each layer's rule, is src/README.md, and
 * scripts/check_layers.py holds the files to it.  Bottom to top:
 *
 * 1. ground: cr_common.h (the types and the ground's prototypes),
 *	  compat.h (what differs between PostgreSQL 15 and 18), cr_json.h
 *	  (jansson), catalog.c (the tables and columns and their facts),
 *	  option.c (options and their validation), convert.c (JSON values to
 *	  Datums);
 * 2. URLs: deparse.c (Graph request paths and filters; cr_url.h);
 * 3. the Graph client (cr_graph.h, http_int.h): statement.c (what a
 *	  statement is), shared.c (the memory the backends share), failure.c
 *	  (retries and Graph's errors), transfer.c (one transfer and the
 *	  waits), ratelimit.c (admitting requests: the statement's budget and
 *	  Graph's throttling windows), cache.c (the statement's response cache),
 *	  token.c (the OAuth2 token), http.c (Graph's GETs, several in flight);
 * 4. the fetch pipeline (scan_int.h): arena.c (the memory a page's tree is
 *	  parsed into), prune.c (dropping what no column reads before parsing),
 *	  pacing.c (how many requests a scan keeps in flight), rows.c (walking
 *	  a page into rows), chains.c (the requests a scan makes), listing.c (a
 *	  fan-out's call record list, read ahead), fetch.c (fetching pages,
 *	  ahead of need too);
 * 5. scan and EXPLAIN (cr_scan.h): scanplan.c (what a plan tells its
 *	  scan), explain.c (EXPLAIN), scan.c (the executor callbacks);
 * 6. the planner (cr_plan.h, plan_int.h, batchjoin_int.h): pushdown.c
 *	  (which conditions narrow the requests), estimate.c (rows and
 *	  requests), plan.c (the callbacks and the plan), keystats.c (the keys'
 *	  statistics), batchexec.c and batchjoin.c (running and planning joins
 *	  that hand a batch of outer ids to the foreign scan), jitcost.c (the
 *	  JIT decision without the cost of Graph's requests), joinpath.c (join
 *	  pushdown);
 * 7. the FDW wiring: import.c (IMPORT FOREIGN SCHEMA and the catalogue as
 *	  SQL functions; cr_import.h) and this file.
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
PG_FUNCTION_INFO_V1(callrecords_fdw_requests);

/*
 * Once per backend: settings, libcurl with the token's and the cache's
 * callbacks, the key statistics hook, the batched join's planner hook, the
 * JIT decision's hook, the executor hooks that count statements, and the
 * parts of the cluster's shared memory (the tokens', registered with
 * libcurl's setup, and the rate windows'), before shared.c, when
 * preloaded, asks for the segment they make up.
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
	cr_shape_init();
	cr_shared_init();
}

Datum
callrecords_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = cr_get_foreign_rel_size;
	routine->GetForeignPaths = cr_get_foreign_paths;
	routine->GetForeignPlan = cr_get_foreign_plan_any;
	routine->GetForeignJoinPaths = cr_get_foreign_join_paths;
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

/*
 * The Graph requests this backend has made so far (retries included):
 * the archive reports the difference as its requests made.
 */
Datum
callrecords_fdw_requests(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(cr_requests_made());
}
