/*-------------------------------------------------------------------------
 *
 * transfer.c
 *		  One libcurl transfer: the options every Graph and token request
 *		  shares, the callbacks that fill in the body and the headers, the
 *		  response a finished transfer leaves, and the waits: one request
 *		  run alone (the token's), a poll, a sleep.
 *
 * http.c runs Graph's GETs on its multi handle, token.c its request alone
 * with cr_transfer_perform(); this file says how each is set up and read,
 * and how the backend waits.  Rules kept here: the callbacks never
 * raise an error or allocate outside the body's context (they set flags
 * that cr_finish_transfer() raises once libcurl has returned), a body
 * that would take its scan past its memory budget pauses the transfer
 * (plain numbers in the scan's meter; http.c resumes it), a cancel
 * aborts a transfer through the progress callback, redirects are never
 * followed (the bearer token must not leave the configured host), only
 * http and https are spoken, only the proxy the server names is used, and
 * the certificate and host name are always verified.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/transfer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "cr_common.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "http_int.h"

/*
 * Whether growing a body's buffer by grow bytes would take the scan's
 * answers past their budget, so the transfer must pause: never the
 * answer the scan waits for, nor one with no meter (the token's).
 */
static bool
over_budget(CrBodyBuffer *buf, size_t grow)
{
	CrMemoryMeter *m = buf->meter;

	if (m == NULL || buf->needed || m->held + grow <= m->limit)
		return false;
	buf->paused = true;
	buf->want = grow;
	m->pauses++;
	return true;
}

/*
 * Note the length an answer announces (Content-Length) in the scan's
 * meter as soon as its first piece comes, before the body itself: pacing
 * sizes the requests in flight by it, a round trip before any answer is
 * whole.  A plain number: nothing is raised in the write callback.
 */
static void
note_announced(CrBodyBuffer *buf, size_t announced)
{
	CrMemoryMeter *m = buf->meter;

	if (m != NULL)
		m->announced = Max(m->announced, announced);
}

/* Count a buffer's growth in the scan's meter, and its peak. */
static void
charge(CrBodyBuffer *buf, size_t grow)
{
	CrMemoryMeter *m = buf->meter;

	if (m == NULL)
		return;
	m->held += grow;
	buf->charged += grow;
	m->peak = Max(m->peak, m->held + m->page);
}

/*
 * libcurl hands the body over in pieces: append each to the buffer in its
 * context, without raising; past max_response_bytes, or out of memory,
 * stop the transfer with a flag that cr_finish_transfer() raises.  A
 * piece that would take the scan's answers past their memory budget
 * pauses the transfer instead (libcurl keeps the piece and hands it over
 * again once http.c resumes it).
 */
static size_t
write_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	CrBodyBuffer *buf = (CrBodyBuffer *) userdata;
	size_t		n = size * nmemb;

	if (buf->len + n + 1 > buf->limit)
	{
		buf->too_large = true;
		return 0;
	}
	if (buf->len + n + 1 > buf->cap)
	{
		size_t		newcap = Max(buf->cap * 2, buf->len + n + 1);
		char	   *newdata;
		curl_off_t	announced = -1;

		/*
		 * The first piece: take the whole announced length at once, so that
		 * a 400 kB page is not copied through six doublings (a compressed
		 * body announces less, and the buffer grows from there).
		 */
		if (buf->cap == 0 && buf->easy &&
			curl_easy_getinfo(buf->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
			announced > 0 && (size_t) announced < buf->limit)
		{
			newcap = Max(newcap, (size_t) announced + 1);
			note_announced(buf, (size_t) announced);
		}
		newcap = Max(newcap, 16384);
		if (over_budget(buf, newcap - buf->cap))
			return CURL_WRITEFUNC_PAUSE;
		newdata = MemoryContextAllocExtended(buf->cxt, newcap,
											 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (newdata == NULL)
		{
			buf->out_of_memory = true;
			return 0;
		}
		if (buf->data)
		{
			memcpy(newdata, buf->data, buf->len);
			pfree(buf->data);
		}
		charge(buf, newcap - buf->cap);
		buf->data = newdata;
		buf->cap = newcap;
	}
	memcpy(buf->data + buf->len, ptr, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
	return n;
}

/* Copy one response header value into a fixed field if it is the one. */
static void
capture_header(const char *line, size_t len, const char *name,
			   char *dest, size_t destsize)
{
	size_t		nlen = strlen(name);
	size_t		i;

	if (len <= nlen + 1 || pg_strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return;
	line += nlen + 1;
	len -= nlen + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	for (i = 0; i < len && i < destsize - 1; i++)
		dest[i] = line[i];
	dest[i] = '\0';
}

static size_t
read_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	CrResponse *resp = (CrResponse *) userdata;
	size_t		n = size * nmemb;

	capture_header(ptr, n, "request-id", resp->request_id, sizeof(resp->request_id));
	capture_header(ptr, n, "retry-after", resp->retry_after, sizeof(resp->retry_after));
	return n;
}

/*
 * Lets a query cancel or statement_timeout stop a transfer: libcurl calls
 * this at least once a second, and a non-zero answer aborts the transfer.
 * The interrupt itself is serviced after libcurl has returned.
 */
static int
check_interrupt(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
				curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * Set up a transfer on an easy handle: the options every Graph and token
 * request shares, and where the body and headers go.
 */
void
cr_setup_transfer(CURL *curl, const CrOptions *opts, const char *url,
				  struct curl_slist *headers, const char *postfields,
			   CrBodyBuffer *buf, CrResponse *resp, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long) opts->connect_timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long) opts->request_timeout);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (opts->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
	/* only the proxy the server names: never one from the environment */
	curl_easy_setopt(curl, CURLOPT_PROXY, opts->proxy ? opts->proxy : "");
	if (opts->proxy && opts->proxy_user)
		curl_easy_setopt(curl, CURLOPT_PROXYUSERNAME, opts->proxy_user);
	if (opts->proxy && opts->proxy_password)
		curl_easy_setopt(curl, CURLOPT_PROXYPASSWORD, opts->proxy_password);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "callrecords_fdw/1.0");
	buf->easy = curl;
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, buf);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, check_interrupt);
	if (headers)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (postfields)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, postfields);
}

/*
 * Turn the outcome of a finished transfer into resp: raise what no retry
 * can mend (a cancel, a body over the size cap, no memory), leave status 0
 * with the message for a transport failure, else the HTTP status and body.
 */
void
cr_finish_transfer(CURL *curl, CURLcode rc, CrBodyBuffer *buf, CrResponse *resp,
				const char *errbuf, const char *url)
{
	if (rc == CURLE_ABORTED_BY_CALLBACK)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("Graph request was interrupted")));
	}
	if (rc == CURLE_WRITE_ERROR && buf->too_large)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_REPLY_HANDLE),
				 errmsg("Graph response is larger than %zu bytes", buf->limit),
				 errhint("Raise the server option max_response_bytes, or ask for less (a shorter time range)."),
				 errcontext("GET %s", cr_url_path(url))));
	if (rc == CURLE_WRITE_ERROR && buf->out_of_memory)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
				 errmsg("out of memory while receiving a Graph response")));
	if (rc != CURLE_OK)
	{
		resp->status = 0;
		resp->transport_rc = (int) rc;
		strlcpy(resp->transport_error, errbuf[0] ? errbuf : curl_easy_strerror(rc),
				sizeof(resp->transport_error));
		resp->body = MemoryContextAllocZero(buf->cxt, 1);
		resp->body_len = 0;
		return;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (buf->data == NULL)
		buf->data = MemoryContextAllocZero(buf->cxt, 1);
	resp->body = buf->data;
	resp->body_len = buf->len;
}


static CURL *cr_curl = NULL;	/* one handle per backend: keep-alive, TLS reuse */

static CURL *
get_curl(void)
{
	if (cr_curl == NULL)
	{
		cr_curl = curl_easy_init();
		if (cr_curl == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OUT_OF_MEMORY),
					 errmsg("could not initialize libcurl")));
	}
	else
		curl_easy_reset(cr_curl);
	return cr_curl;
}

/*
 * What pg_stat_activity shows a backend waiting on Graph as: from 17 on
 * wait events of the extension's own (compat.h), before that Extension.
 * http.c names the Graph response's and the rate limit's.
 */
static uint32 we_token,
			we_retry_delay;

#define WAIT_GRAPH_TOKEN cr_wait_event("CallrecordsTokenRequest", &we_token)
#define WAIT_GRAPH_RETRY_DELAY cr_wait_event("CallrecordsRetryDelay", &we_retry_delay)

/* curl_multi_poll() as a wait in pg_stat_activity */
void
cr_poll_transfers(CURLM *multi, int timeout_ms, uint32 wait_event)
{
	pgstat_report_wait_start(wait_event);
	curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
	pgstat_report_wait_end();
}

static CURLM *cr_token_multi = NULL;	/* the token request's own */

/*
 * Run the one transfer of a multi handle to its end, servicing interrupts
 * between polls: a cancel, a terminate or a lost client
 * (client_connection_check_interval) ends the wait at once, where a
 * blocking curl_easy_perform() would see only the first two.
 */
static CURLcode
run_alone(CURLM *multi, CURL *curl)
{
	for (;;)
	{
		CURLMsg    *msg;
		int			running,
					left;

		curl_multi_perform(multi, &running);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl)
				return msg->data.result;
		cr_poll_transfers(multi, 100, WAIT_GRAPH_TOKEN);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Perform one request on the backend's easy handle (the token request),
 * waiting for it alone.  Any HTTP status, or status 0 for a transport
 * failure, is returned in resp; token.c retries, waiting with
 * cr_wait_interruptibly().
 */
void
cr_transfer_perform(const CrOptions *opts, const char *url, struct curl_slist *headers,
					const char *postfields, CrResponse *resp)
{
	CURL	   *curl = get_curl();
	CrBodyBuffer buf = {0};
	char		errbuf[CURL_ERROR_SIZE] = "";
	CURLcode	rc = CURLE_OK;

	if (cr_token_multi == NULL && (cr_token_multi = curl_multi_init()) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not initialize libcurl")));
	memset(resp, 0, sizeof(*resp));
	buf.cxt = CurrentMemoryContext;
	buf.limit = (size_t) opts->max_response_bytes;
	cr_setup_transfer(curl, opts, url, headers, postfields, &buf, resp, errbuf);
	if (curl_multi_add_handle(cr_token_multi, curl) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not start a libcurl transfer")));
	PG_TRY();
	{
		rc = run_alone(cr_token_multi, curl);
	}
	PG_FINALLY();
	{
		curl_multi_remove_handle(cr_token_multi, curl);
		/* the header list and POST body belong to the caller: drop them */
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	}
	PG_END_TRY();
	cr_finish_transfer(curl, rc, &buf, resp, errbuf, url);
}

/*
 * Sleep in a way that a cancel, statement_timeout or server shutdown ends
 * at once: on the process latch, servicing interrupts as they come.
 */
void
cr_wait_interruptibly(double ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		int			rc;

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					   left, WAIT_GRAPH_RETRY_DELAY);
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
	}
}
