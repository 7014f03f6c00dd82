/*-------------------------------------------------------------------------
 *
 * keep.h
 *		  The rows a scan keeps for its rescans (keep.c), for scan.c and
 *		  explain.c.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/keep.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_KEEP_H
#define CR_KEEP_H

#include "nodes/execnodes.h"

typedef struct CrKept CrKept;

extern CrKept *cr_keep_begin(ForeignScanState *node, bool rewind);
extern void cr_keep_row(CrKept *k, TupleTableSlot *slot);
extern void cr_keep_complete(CrKept *k);
extern bool cr_keep_rescan(CrKept *k, bool params_changed);
extern bool cr_keep_same_requests(CrKept *k, const char *requests, ExprContext *econtext);
extern bool cr_keep_replaying(CrKept *k);
extern TupleTableSlot *cr_keep_next(CrKept *k, TupleTableSlot *slot);
extern void cr_keep_counts(CrKept *k, int64 *rescans, int64 *rows, int *probes);
extern void cr_keep_end(CrKept *k);

#endif							/* CR_KEEP_H */
