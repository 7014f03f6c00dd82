/*-------------------------------------------------------------------------
 *
 * compat.h
 *		  The differences between the supported PostgreSQL majors (15 to 18),
 *		  in one place.
 *
 * Every PG_VERSION_NUM test of the extension is here; the call sites use
 * the cr_ wrappers below and read the same on every major.
 *
 *	16: RangeTblEntry.checkAsUser moved to the plan (ForeignScan.checkAsUser);
 *		Vars carry the outer joins that null them (varnullingrels).
 *	17: create_foreignscan_path() takes fdw_restrictinfo; extensions can
 *		name their own wait events (WaitEventExtensionNew).
 *	18: create_foreignscan_path() takes disabled_nodes; ExplainState and
 *		the ExplainProperty functions have their own headers;
 *		get_op_btree_interpretation() became get_op_index_interpretation()
 *		with compare types instead of btree strategies; PG_MODULE_MAGIC_EXT
 *		names the library and its version.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_COMPAT_H
#define CR_COMPAT_H

#include "postgres.h"

#include "commands/explain.h"
#include "nodes/pg_list.h"
#include "utils/lsyscache.h"

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "callrecords_fdw supports PostgreSQL 15 to 18"
#endif

#if PG_VERSION_NUM >= 180000
#include "access/stratnum.h"
#include "commands/explain_format.h"
#include "commands/explain_state.h"

StaticAssertDecl(COMPARE_LT == BTLessStrategyNumber &&
				 COMPARE_EQ == BTEqualStrategyNumber &&
				 COMPARE_GT == BTGreaterStrategyNumber,
				 "compare types number as btree strategies");
#endif

/* The library's magic block; 18 also records its name and version. */
#if PG_VERSION_NUM >= 180000
#define CR_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "callrecords_fdw", .version = "1.0")
#else
#define CR_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/*
 * The role a foreign scan checks permissions and picks the user mapping
 * as: the view owner for a scan through a view, else invalid (the current
 * user), as postgres_fdw does; before 16, the role of the scan's table,
 * or of a pushed join's first table (they all have the same).
 */
#if PG_VERSION_NUM >= 160000
#define cr_scan_check_as_user(fsplan, estate) ((fsplan)->checkAsUser)
#else
#define cr_scan_check_as_user(fsplan, estate) \
	(exec_rt_fetch((fsplan)->scan.scanrelid > 0 ? (fsplan)->scan.scanrelid : \
				   (Index) bms_next_member((fsplan)->fs_relids, -1), (estate))->checkAsUser)
#endif

/* Copy the outer joins that null a Var (16 on; none before). */
#if PG_VERSION_NUM >= 160000
#define cr_copy_nulling_marks(dst, src) \
	((dst)->varnullingrels = bms_copy((src)->varnullingrels))
#else
#define cr_copy_nulling_marks(dst, src) ((void) (dst), (void) (src))
#endif

/*
 * create_foreignscan_path() with the arguments of 15: no disabled nodes
 * (18) and no restriction clauses of the FDW's own (17), since the scan
 * is never a join or upper relation.
 */
#if PG_VERSION_NUM >= 180000
#define cr_create_foreignscan_path(root, rel, target, rows, startup, total, \
								   pathkeys, required_outer, outerpath, private) \
	create_foreignscan_path((root), (rel), (target), (rows), 0, (startup), (total), \
							(pathkeys), (required_outer), (outerpath), NIL, (private))
#elif PG_VERSION_NUM >= 170000
#define cr_create_foreignscan_path(root, rel, target, rows, startup, total, \
								   pathkeys, required_outer, outerpath, private) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (required_outer), (outerpath), NIL, (private))
#else
#define cr_create_foreignscan_path create_foreignscan_path
#endif

/* create_foreign_join_path() with the arguments of 15, as above. */
#if PG_VERSION_NUM >= 180000
#define cr_create_foreign_join_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, private) \
	create_foreign_join_path((root), (rel), (target), (rows), 0, (startup), (total), \
							 (pathkeys), (required_outer), (outerpath), NIL, (private))
#elif PG_VERSION_NUM >= 170000
#define cr_create_foreign_join_path(root, rel, target, rows, startup, total, \
									pathkeys, required_outer, outerpath, private) \
	create_foreign_join_path((root), (rel), (target), (rows), (startup), (total), \
							 (pathkeys), (required_outer), (outerpath), NIL, (private))
#else
#define cr_create_foreign_join_path create_foreign_join_path
#endif

/*
 * The btree strategy number of opno as a comparison of lefttype with
 * righttype in some btree operator family (ROWCOMPARE_NE for an operator
 * whose negator is =), or 0 when it is none.  18's compare types number
 * LT to NE as the btree strategies and ROWCOMPARE_NE do.
 */
static inline int
cr_btree_strategy(Oid opno, Oid lefttype, Oid righttype)
{
	ListCell   *lc;

#if PG_VERSION_NUM >= 180000
	foreach(lc, get_op_index_interpretation(opno))
	{
		OpIndexInterpretation *i = lfirst(lc);

		if (i->oplefttype == lefttype && i->oprighttype == righttype)
			return (int) i->cmptype;
	}
#else
	foreach(lc, get_op_btree_interpretation(opno))
	{
		OpBtreeInterpretation *i = lfirst(lc);

		if (i->oplefttype == lefttype && i->oprighttype == righttype)
			return i->strategy;
	}
#endif
	return 0;
}

/*
 * 17: the DSM registry gives a library shared memory without
 * shared_preload_libraries (shared.c).
 */
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#define CR_HAVE_DSM_REGISTRY 1
#endif

/*
 * The wait event of a backend waiting on Graph under the given name: its
 * own, as pg_stat_activity shows it, from 17 on (allocated once per
 * cluster, looked up once per backend into *cache); the generic
 * Extension event before.
 */
#if PG_VERSION_NUM >= 170000
#define cr_wait_event(name, cache) \
	(*(cache) != 0 ? *(cache) : (*(cache) = WaitEventExtensionNew(name)))
#else
#define cr_wait_event(name, cache) ((void) (cache), (uint32) PG_WAIT_EXTENSION)
#endif

/*
 * The parameters of an ExecutorRun hook, and the call passing them on:
 * 18 dropped execute_once.  statement.c counts statements with it.
 */
#if PG_VERSION_NUM >= 180000
#define CR_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define CR_EXECUTOR_RUN_ARGS	queryDesc, direction, count
#else
#define CR_EXECUTOR_RUN_PARAMS \
	QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once
#define CR_EXECUTOR_RUN_ARGS	queryDesc, direction, count, execute_once
#endif

#endif							/* CR_COMPAT_H */
