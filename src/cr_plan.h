/*-------------------------------------------------------------------------
 *
 * cr_plan.h
 *		  The planner's face to the wiring: the planner callbacks (plan.c)
 *		  and the hooks installed once per backend (keystats.c, batchjoin.c,
 *		  jitcost.c).
 *
 * What only the planner's files share is in plan_int.h and
 * batchjoin_int.h.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_plan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_PLAN_H
#define CR_PLAN_H

#include "cr_common.h"

/* in plan.c */
extern void cr_get_foreign_rel_size(PlannerInfo *root, RelOptInfo *baserel,
									Oid foreigntableid);
extern void cr_get_foreign_paths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
extern ForeignScan *cr_get_foreign_plan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);

/* in joinpath.c */
extern void cr_get_foreign_join_paths(PlannerInfo *root, RelOptInfo *joinrel,
									  RelOptInfo *outerrel, RelOptInfo *innerrel,
									  JoinType jointype, JoinPathExtraData *extra);
extern ForeignScan *cr_get_foreign_plan_any(PlannerInfo *root, RelOptInfo *rel,
											Oid foreigntableid, ForeignPath *best_path,
											List *tlist, List *scan_clauses,
											Plan *outer_plan);

/* in keystats.c */
extern void cr_install_key_stats_hook(void);

/* in batchjoin.c */
extern void cr_batch_join_init(void);

/* in jitcost.c */
extern void cr_jitcost_init(void);

#endif							/* CR_PLAN_H */
