/*-------------------------------------------------------------------------
 *
 * statement.c
 *		  What "a statement" is, for everything that lives as long as one:
 *		  the request budget (ratelimit.c) and the response cache (cache.c).
 *
 * A statement is numbered by cr_statement_number(): the number changes
 * with a new top-level ExecutorStart (counted by the executor hooks here),
 * a new statement start time (each FETCH of a cursor) or a new
 * transaction.  Rules kept here: the hooks only count and pass on, and
 * undo their nesting on error; nothing here calls another file of the
 * extension, so every layer above may ask.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/statement.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"
#include "cr_graph.h"
#include "compat.h"

#include "access/xact.h"
#include "executor/executor.h"

/*
 * Statements as the executor sees them.  A query string of several
 * statements ("SELECT ...; SELECT ...") shares one statement start time,
 * so that alone would let them share one budget; each top-level
 * ExecutorStart (one not inside another statement's run, as SQL a
 * function runs is) starts a new statement too.
 */
static uint64 executor_statements = 0;
static int	executor_nesting = 0;
static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorFinish_hook_type prev_executor_finish = NULL;

/* A top-level statement starts: count it. */
static void
cr_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (executor_nesting == 0)
		executor_statements++;
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * What runs inside a statement's run is part of that statement.  The
 * nesting is undone on error too (PG_CATCH, not PG_FINALLY, whose flag
 * variable gcc's -Wclobbered flags).
 */
static void
cr_executor_run(CR_EXECUTOR_RUN_PARAMS)
{
	executor_nesting++;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(CR_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(CR_EXECUTOR_RUN_ARGS);
	}
	PG_CATCH();
	{
		executor_nesting--;
		PG_RE_THROW();
	}
	PG_END_TRY();
	executor_nesting--;
}

/* Likewise what its AFTER triggers run. */
static void
cr_executor_finish(QueryDesc *queryDesc)
{
	executor_nesting++;
	PG_TRY();
	{
		if (prev_executor_finish)
			prev_executor_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_CATCH();
	{
		executor_nesting--;
		PG_RE_THROW();
	}
	PG_END_TRY();
	executor_nesting--;
}

/* Install the executor hooks that count statements, once per backend. */
void
cr_statement_init(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = cr_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = cr_executor_run;
	prev_executor_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = cr_executor_finish;
}

/*
 * The number of the statement running now, which changes when the next
 * one starts.  The one definition of "a statement" that the request
 * budget and the response cache share: a new top-level ExecutorStart, a
 * new statement start time (each FETCH of a cursor), or a new
 * transaction.
 */
uint64
cr_statement_number(void)
{
	static uint64 number = 0;
	static uint64 executor_seen = 0;
	static TimestampTz statement_start = 0;
	static TimestampTz xact_start = 0;

	if (GetCurrentStatementStartTimestamp() != statement_start ||
		GetCurrentTransactionStartTimestamp() != xact_start ||
		executor_statements != executor_seen)
	{
		number++;
		statement_start = GetCurrentStatementStartTimestamp();
		xact_start = GetCurrentTransactionStartTimestamp();
		executor_seen = executor_statements;
	}
	return number;
}
