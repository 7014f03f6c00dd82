/*-------------------------------------------------------------------------
 *
 * cr_scan.h
 *		  The scan and EXPLAIN layer's face to the planner and the wiring:
 *		  the executor callbacks (scan.c), EXPLAIN (explain.c) and what a
 *		  plan tells its scan (scanplan.c).
 *
 * Each group of prototypes is owned by the file named above it.  The
 * planner writes a scan's plan through cr_scan_plan_write() and never
 * sees the scan's state (scan_int.h).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_scan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_SCAN_H
#define CR_SCAN_H

#include "cr_common.h"

#include "nodes/execnodes.h"

/* in scan.c */
extern void cr_begin_foreign_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *cr_iterate_foreign_scan(ForeignScanState *node);
extern void cr_rescan_foreign_scan(ForeignScanState *node);
extern void cr_end_foreign_scan(ForeignScanState *node);

extern void cr_scan_set_batch_keys(ForeignScanState *node, Datum keys);

/* in explain.c */
extern void cr_explain_foreign_scan(ForeignScanState *node, ExplainState *es);

/*
 * Indexes into ForeignScan.fdw_private, written by plan.c and read by
 * scan.c, both through scanplan.c.
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
	CrScanPrivateTimeUnpushed,	/* Integer (bool): a local-only condition reads
								 * the time column */
	CrScanPrivateRequests,		/* Float: Graph requests estimated (estimate.c)
								 * for a run, or per outer row; < 0: none */
	CrScanPrivatePerOuterRow,	/* Integer (bool): the estimate is per outer row */
	/* a pushed join only (joinpath.c): */
	CrScanPrivateJoinTables,	/* OID list: its tables, shallowest first
								 * (OIDs: setrefs does not renumber them) */
	CrScanPrivateJoinBounds,	/* Integer list: per left join, the first and
								 * the deepest level of its nullable side */
	CrScanPrivateRelations		/* String: "(sessions s) INNER JOIN (...)" */
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
	List	   *join_tables;	/* a pushed join's tables, or NIL */
	List	   *join_bounds;	/* its left joins' level pairs */
	char	   *relations;		/* its tables and joins, for EXPLAIN */
	double		requests;		/* Graph requests the planner estimated, or < 0 */
	bool		per_outer_row;	/* ... for each outer row (a parameterized scan) */
} CrScanPlan;

/* in scanplan.c: the one writer and the one reader of fdw_private */
extern List *cr_scan_plan_write(const CrScanPlan *plan);
extern void cr_scan_plan_read(List *fdw_private, CrScanPlan *plan);

#endif							/* CR_SCAN_H */
