/*-------------------------------------------------------------------------
 *
 * batchjoin_int.h
 *		  Shared by batchjoin.c (planning the batched join) and batchexec.c
 *		  (running it).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/batchjoin_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_BATCHJOIN_INT_H
#define CR_BATCHJOIN_INT_H

#include "nodes/extensible.h"

/* a fuzz build, loaded beside the library, registers a name of its own */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CR_BATCH_JOIN_NAME		"CallRecords Batched Join (fuzz)"
#else
#define CR_BATCH_JOIN_NAME		"CallRecords Batched Join"
#endif
/* outer rows read per batch; their ids are fetched together */
#define CR_BATCH_ROWS			10000
/* requests one scan keeps in flight unless the server says otherwise */
#define CR_DEFAULT_CONCURRENCY	10

/* Indexes into CustomScan.custom_private. */
enum CrBatchPrivateIndex
{
	CrBatchPrivateJoinType,		/* Integer: JOIN_INNER or JOIN_LEFT */
	CrBatchPrivateInnerKey,		/* Integer: the key's column in inner rows */
	CrBatchPrivateSources		/* Integer list: per scan column, the outer
								 * row's column (> 0) or the inner row's (< 0) */
};

/* in batchexec.c: how a plan of the batched join becomes a running node */
extern const CustomScanMethods cr_batch_scan_methods;

#endif							/* CR_BATCHJOIN_INT_H */
