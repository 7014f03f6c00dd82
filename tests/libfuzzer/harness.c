/*-------------------------------------------------------------------------
 *
 * harness.c
 *		  libFuzzer target for the JSON-page-to-rows path of callrecords_fdw.
 *
 * The target runs inside a PostgreSQL backend, because what turns a Graph
 * page into rows is the scan itself: the planner's request, paging,
 * nextLink checks, the walk down sessions/segments/media/streams and the
 * conversion by the declared column types through PostgreSQL's own input
 * functions.  Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the
 * extension asks cr_fuzz_answer() below instead of the network for every
 * Graph GET, and the answers are the fuzz input.
 *
 * Input format: byte 0 picks the query (its low seven bits, modulo the
 * number of queries) and whether the first answer is an HTTP 400 error
 * page (bit 0x80); the rest are response bodies separated by "\n\x1e\n",
 * served in request order.  When they run out, every further request is
 * answered 404.  The queries that read a few columns run twice, with
 * pages pruned and parsed whole, and must give the same rows or error.
 *
 * An input passes when its query returns rows or fails with an ordinary
 * SQL error.  It is a finding (abort(), so libFuzzer saves it) when the
 * query fails with an internal error (XX000) or a class 42 error (the
 * harness's own mistake), does not finish within five
 * seconds, or gives other rows (or another error) with pruning than
 * without; crashes and UBSan reports are findings by themselves.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "cr_common.h"
#include "cr_graph.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"

PG_FUNCTION_INFO_V1(cr_fuzz_run);

extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*cb) (const uint8_t *data, size_t size));

#define PAGE_SEPARATOR "\n\x1e\n"
#define MAX_PAGES 64
#define QUERY_TIMEOUT_MS 5000

/*
 * One query per kind of request chain: a record by id and each of its
 * child levels, the call record list, the fan-out of a child table over
 * that list, the log functions, and the LIMIT and IN-list variants.
 * Casting the whole row to text converts every column.
 */
static const char *const queries[] = {
	"SELECT count(*), sum(length(t::text)) FROM cr.call_records t WHERE id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.sessions t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.segments t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.media t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.streams t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.participants t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT count(*), sum(length(t::text)) FROM cr.call_records t",
	"SELECT count(*), sum(length(t::text)) FROM cr.sessions t WHERE call_start_date_time >= '2020-02-25' AND call_start_date_time < '2020-02-26'",
	"SELECT count(*), sum(length(t::text)) FROM cr.pstn_calls t WHERE start_date_time >= '2019-11-01' AND start_date_time < '2019-11-02'",
	"SELECT count(*), sum(length(t::text)) FROM cr.direct_routing_calls t WHERE start_date_time >= '2019-11-01' AND start_date_time < '2019-11-02'",
	"SELECT length(t::text) FROM cr.streams t WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5' LIMIT 3",
	"SELECT count(*), sum(length(t::text)) FROM cr.sessions t WHERE call_record_id IN ('e523d2ed-2966-4b6b-925b-754a88034cc5', 'cafe0000-0000-4000-8000-000000000001')",
	/* a few columns: pages are pruned hard (and compared with whole parsing) */
	"SELECT session_index, segment_index, media_index, stream_index, stream_id, average_jitter FROM cr.streams WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT session_index, segment_index, media_index, label, caller_device_capture_device_name, callee_network_ip_address FROM cr.media WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT session_index, id, caller_user_agent_platform, is_test FROM cr.sessions WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
	"SELECT session_index, segment_index, id, failure_info_reason FROM cr.segments WHERE call_record_id = 'e523d2ed-2966-4b6b-925b-754a88034cc5'",
};

/* Queries from this one on run twice, pruned and parsed whole, and must agree. */
#define FIRST_COMPARED_QUERY 12

#define NUM_QUERIES lengthof(queries)

/* What a query gave: its rows as text, or its error. */
typedef struct Outcome
{
	bool		ok;
	int			sqlerrcode;
	char	   *text;			/* the rows, or the error message */
} Outcome;

/* The current input, split into response bodies. */
static const char *pages[MAX_PAGES];
static size_t page_len[MAX_PAGES];
static int	num_pages;
static int	pages_served;
static bool first_is_error;

/* Outcomes by SQLSTATE, printed when libFuzzer exits. */
#define MAX_STATES 64
static int	state_code[MAX_STATES];
static long state_count[MAX_STATES];
static int	num_states;
static long rows_ok;

/* Backend memory that outlives an input, after the first and the last. */
static Size top_after_first;
static long inputs_run;

static MemoryContext input_cxt;

/*
 * The extension's hook: the next body of the input, or a 404 once they
 * are used up.  Bodies are copied into the fetch's context, as a real
 * answer would be.
 */
void
cr_fuzz_answer(const char *url, MemoryContext cxt, CrResponse *resp)
{
	const char *body = "{\"error\":{\"code\":\"NotFound\",\"message\":\"fuzz: no more pages\"}}";
	size_t		len = strlen(body);

	resp->status = 404;
	if (pages_served < num_pages)
	{
		body = pages[pages_served];
		len = page_len[pages_served];
		resp->status = (pages_served == 0 && first_is_error) ? 400 : 200;
		pages_served++;
	}
	resp->body = MemoryContextAlloc(cxt, len + 1);
	memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->body_len = len;
}

/* Split the input after its first byte into the bodies to serve. */
static void
split_pages(const uint8_t *data, size_t size)
{
	const char *p = (const char *) data;
	const char *end = p + size;
	size_t		seplen = strlen(PAGE_SEPARATOR);

	num_pages = 0;
	pages_served = 0;
	while (num_pages < MAX_PAGES)
	{
		const char *sep = memmem(p, end - p, PAGE_SEPARATOR, seplen);
		const char *stop = sep ? sep : end;
		char	   *copy = MemoryContextAlloc(input_cxt, stop - p + 1);

		memcpy(copy, p, stop - p);
		copy[stop - p] = '\0';
		pages[num_pages] = copy;
		page_len[num_pages] = stop - p;
		num_pages++;
		if (sep == NULL)
			break;
		p = sep + seplen;
	}
}

static void
count_state(int sqlerrcode)
{
	int			i;

	for (i = 0; i < num_states; i++)
		if (state_code[i] == sqlerrcode)
			break;
	if (i == num_states)
	{
		if (num_states == MAX_STATES)
			return;
		state_code[num_states++] = sqlerrcode;
	}
	state_count[i]++;
}

static void
print_summary(void)
{
	int			i;

	fprintf(stderr, "callrecords fuzz: outcomes: %ld with rows", rows_ok);
	for (i = 0; i < num_states; i++)
		fprintf(stderr, ", %s %ld", unpack_sql_state(state_code[i]), state_count[i]);
	fprintf(stderr, "\n");
	fprintf(stderr, "callrecords fuzz: TopMemoryContext %zu kB after the first input, %zu kB after input %ld\n",
			top_after_first / 1024,
			MemoryContextMemAllocated(TopMemoryContext, true) / 1024, inputs_run);
}

/* A finding among errors: report it and abort, for libFuzzer to keep the input. */
static void
judge_error(ErrorData *edata, const char *sql)
{
	/* class 42 (an unknown column, say) is a broken harness, not an outcome */
	if (edata->sqlerrcode == ERRCODE_INTERNAL_ERROR ||
		edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
		ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION)
	{
		fprintf(stderr, "callrecords fuzz: FINDING: %s: %s\nquery: %s\n",
				unpack_sql_state(edata->sqlerrcode), edata->message, sql);
		abort();
	}
}

/* The rows of the last SPI query as one text, in input_cxt. */
static char *
rows_text(void)
{
	StringInfoData buf;
	uint64		r;
	int			c;
	MemoryContext old = MemoryContextSwitchTo(input_cxt);

	initStringInfo(&buf);
	for (r = 0; r < SPI_processed; r++)
	{
		for (c = 1; c <= SPI_tuptable->tupdesc->natts; c++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c);

			appendStringInfo(&buf, "%s|", v ? v : "(null)");
		}
		appendStringInfoChar(&buf, '\n');
	}
	MemoryContextSwitchTo(old);
	return buf.data;
}

/*
 * Run one query on the input's pages in a subtransaction, as PL/pgSQL
 * runs a block with an exception handler: an error rolls back everything
 * the query acquired (snapshots, buffers, the scan's memory and
 * transfers), and the next run starts clean.  Each run is its own
 * "statement" for the extension's per-statement cache and request budget.
 */
static Outcome
run_query(const char *sql, bool prune)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Outcome		result = {0};

	pages_served = 0;
	cr_prune_pages = prune;
	SetCurrentStatementStartTimestamp();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	enable_timeout_after(STATEMENT_TIMEOUT, QUERY_TIMEOUT_MS);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "query did not run as a SELECT");
		result.ok = true;
		result.text = rows_text();
		SPI_finish();
		disable_timeout(STATEMENT_TIMEOUT, false);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(input_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		judge_error(edata, sql);
		result.sqlerrcode = edata->sqlerrcode;
		result.text = edata->message;
	}
	PG_END_TRY();
	cr_prune_pages = true;
	return result;
}

/* Pruning must change nothing: the same rows, or the same error. */
static void
compare_outcomes(const Outcome *pruned, const Outcome *whole, const char *sql)
{
	if (pruned->ok == whole->ok && pruned->sqlerrcode == whole->sqlerrcode &&
		strcmp(pruned->text, whole->text) == 0)
		return;
	fprintf(stderr, "callrecords fuzz: FINDING: pruned and whole pages differ\nquery: %s\n"
			"pruned: %s %s\nwhole: %s %s\n", sql,
			pruned->ok ? "rows" : unpack_sql_state(pruned->sqlerrcode), pruned->text,
			whole->ok ? "rows" : unpack_sql_state(whole->sqlerrcode), whole->text);
	abort();
}

/* libFuzzer's callback: one input, one query (twice for the compared ones). */
static int
run_one_input(const uint8_t *data, size_t size)
{
	int			q;
	Outcome		first;

	if (size < 1)
		return 0;
	q = (data[0] & 0x7f) % NUM_QUERIES;
	first_is_error = (data[0] & 0x80) != 0;
	split_pages(data + 1, size - 1);

	first = run_query(queries[q], true);
	if (first.ok)
		rows_ok++;
	else
		count_state(first.sqlerrcode);
	if (q >= FIRST_COMPARED_QUERY)
	{
		Outcome		whole = run_query(queries[q], false);

		compare_outcomes(&first, &whole, queries[q]);
	}

	MemoryContextReset(input_cxt);
	if (++inputs_run == 1)
		top_after_first = MemoryContextMemAllocated(TopMemoryContext, true);
	/* backend memory at doubling input counts: caches level off, leaks do not */
	if (inputs_run >= 512 && (inputs_run & (inputs_run - 1)) == 0)
		fprintf(stderr, "callrecords fuzz: TopMemoryContext %zu kB after input %ld\n",
				MemoryContextMemAllocated(TopMemoryContext, true) / 1024, inputs_run);
	return 0;
}

/*
 * cr_fuzz_run(log_file text, args text[]): run libFuzzer with args (its
 * usual command line: options, then corpus directories).  libFuzzer
 * writes its progress to stderr, which goes to log_file, and ends the
 * backend process when it is done (exit status 0), or after a finding.
 */
Datum
cr_fuzz_run(PG_FUNCTION_ARGS)
{
	char	   *log_file = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *args = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			argc;
	char	  **argv;
	int			fd;
	int			i;

	deconstruct_array(args, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	argv = palloc0(sizeof(char *) * (nelems + 2));
	argv[0] = "callrecords_fuzz";
	for (i = 0; i < nelems; i++)
		argv[i + 1] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	argc = nelems + 1;

	fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open \"%s\": %m", log_file)));
	close(fd);

	input_cxt = AllocSetContextCreate(TopMemoryContext, "callrecords fuzz input",
									  ALLOCSET_DEFAULT_SIZES);
	atexit(print_summary);
	LLVMFuzzerRunDriver(&argc, &argv, run_one_input);
	PG_RETURN_VOID();
}
