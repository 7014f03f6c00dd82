/*-------------------------------------------------------------------------
 *
 * cr_import.h
 *		  IMPORT FOREIGN SCHEMA (import.c), for the entry file.
 *
 * The wiring layer's one header: import.c stands beside the entry file
 * callrecords_fdw.c, which hands it the callback.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/cr_import.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_IMPORT_H
#define CR_IMPORT_H

#include "cr_common.h"

/* in import.c */
extern List *cr_import_foreign_schema(ImportForeignSchemaStmt *stmt,
									  Oid serverOid);

#endif							/* CR_IMPORT_H */
