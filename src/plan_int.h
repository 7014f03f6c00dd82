/*-------------------------------------------------------------------------
 *
 * plan_int.h
 *		  Planner state shared by the planner's files: pushdown.c,
 *		  estimate.c, plan.c, keystats.c and batchjoin.c.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/plan_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_PLAN_INT_H
#define CR_PLAN_INT_H

#include "cr_common.h"
#include "cr_plan.h"
#include "cr_graph.h"

/* Cost of one Graph request in planner units: ~100 ms of remote work. */
#define CR_REQUEST_COST				10000.0

/* Planner state kept in baserel->fdw_private. */
/*
 * The tenant's shape for the estimates: call records in 30 days, pages
 * of sessions and sessions per call record, and the hours scans listed
 * whole; learned by earlier scans (shape.c) or the rough guesses of
 * estimate.c (pages < 0: from sessions).
 */
typedef struct CrShapeHint
{
	double		records;
	double		pages;
	double		sessions;
	CrShapeHour hours[CR_SHAPE_HOURS];	/* the hours known of the tenant */
} CrShapeHint;

typedef struct CrRelInfo
{
	const CrResource *res;
	CrShapeHint shape;
	List	   *exprs;			/* pushed values, become fdw_exprs */
	List	   *roles;			/* CrQualRole of each, in the same order */
	List	   *retrieved_attrs;	/* attnums the query reads */
	double		fetched_rows;	/* rows Graph returns before local quals */
	double		requests;		/* estimated Graph requests */
	int			page_size_hint; /* Prefer: odata.maxpagesize, or 0 */
	bool		expand_segments;	/* sessions come with their segments */
	bool		share_responses;	/* other scans of the query may reuse pages */
	int			time_arms;		/* arms of the one OR of time ranges pushed */
	bool		time_unpushed;	/* a local-only condition reads the time column */
} CrRelInfo;

/*
 * fdw_private of the inner ForeignPath of a batched join: batchjoin.c
 * marks the path, plan.c reads the mark when it makes the plan.
 */
#define CR_BATCHED_INNER_MARK	"callrecords_fdw batched join inner"

/* in pushdown.c */
extern Node *cr_strip_relabel(Node *n);
extern bool cr_is_column_var(Node *n, RelOptInfo *baserel, AttrNumber attno);
extern Node *cr_other_side(OpExpr *op, RelOptInfo *baserel, AttrNumber attno, bool *swapped);
extern AttrNumber cr_column_attno(Oid relid, const char *name);
extern bool cr_push_qual(CrRelInfo *info, Expr *clause, RelOptInfo *baserel, Oid relid);
extern bool cr_reads_time_column(Expr *clause, RelOptInfo *baserel, Oid relid,
								 const CrResource *res);

/* in estimate.c; the rough shape of the data, for estimates */
#define CR_EST_SESSIONS_PER_RECORD	8.0
#define CR_EST_PARTICIPANTS_PER_RECORD 6.0
#define CR_EST_CHILDREN_PER_PARENT	1.5
extern void cr_shape_hint(Oid foreigntableid, CrShapeHint *shape);
extern double cr_rows_per_record(const CrResource *res, const CrShapeHint *shape);
extern double cr_requests_per_record(const CrResource *res, const CrShapeHint *shape);
extern void cr_estimate_fetch(PlannerInfo *root, CrRelInfo *info, RelOptInfo *baserel);

/* in plan.c */
extern bool cr_statement_shares(PlannerInfo *root, Oid serverid, int joined);
extern const CrResource *cr_relation_resource(Oid relid);
extern bool cr_batch_key(PlannerInfo *root, RelOptInfo *baserel, AttrNumber *keyattno,
						 double *rows_per_key, Cost *cost_per_key, bool *serial);

#endif							/* CR_PLAN_INT_H */
