/*-------------------------------------------------------------------------
 *
 * http_int.h
 *		  Shared by the files of the Graph client: transfer.c (one
 *		  transfer, and the waits), failure.c (retries and Graph's errors
 *		  as PostgreSQL errors), cache.c (the statement's response cache),
 *		  assertion.c (client assertions), identity.c (the managed identity's
 *		  request), token.c (the OAuth2 token) and http.c (Graph's GETs).
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/http_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CR_HTTP_INT_H
#define CR_HTTP_INT_H

#include <curl/curl.h>

#include "cr_common.h"
#include "cr_graph.h"

/* Where the write callback puts the body; it must never ereport. */
typedef struct CrBodyBuffer
{
	MemoryContext cxt;
	CURL	   *easy;			/* the transfer, for its Content-Length */
	size_t		limit;			/* max_response_bytes */
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		too_large;
	bool		out_of_memory;
	CrMemoryMeter *meter;		/* the scan's budget, or NULL: not counted */
	size_t		charged;		/* bytes of data counted in meter->held */
	bool		needed;			/* the scan waits for it: never paused */
	bool		paused;			/* paused by the budget (http.c resumes) */
	size_t		want;			/* ... for this many more bytes */
} CrBodyBuffer;

/* in transfer.c */
extern void cr_setup_transfer(CURL *curl, const CrOptions *opts, const char *url,
							  struct curl_slist *headers, const char *postfields,
							  CrBodyBuffer *buf, CrResponse *resp, char *errbuf);
extern void cr_finish_transfer(CURL *curl, CURLcode rc, CrBodyBuffer *buf, CrResponse *resp,
							   const char *errbuf, const char *url);
extern void cr_poll_transfers(CURLM *multi, int timeout_ms, uint32 wait_event);
extern void cr_transfer_perform(const CrOptions *opts, const char *url, struct curl_slist *headers,
								const char *postfields, CrResponse *resp);
extern void cr_wait_interruptibly(double ms);

/* in failure.c */
extern const char *cr_url_path(const char *url);
extern bool cr_is_retryable(const CrResponse *resp);
extern double cr_retry_delay_ms(const CrResponse *resp, int n);
extern void cr_report_transport_error(const CrResponse *resp, const char *method,
									  const char *url);

/* in assertion.c */
#define CR_THUMBPRINT_LEN	32	/* SHA-256 */
extern void cr_certificate_thumbprint(const CrOptions *opts, uint8 *thumbprint);
extern char *cr_certificate_assertion(const CrOptions *opts, const char *audience);
extern char *cr_federated_assertion(const CrOptions *opts);

/* in identity.c */
extern char *cr_identity_request(const CrOptions *opts, struct curl_slist **headers,
								 char **header_value);

/* in token.c */
extern const char *cr_get_token(const CrOptions *opts);
extern void cr_forget_token(const CrOptions *opts);
extern void cr_token_init(void);

/* in cache.c */
typedef struct CrCachedPage
{
	Oid			umid;
	int			maxpagesize;
	char	   *url;
	char	   *body;
	size_t		body_len;
} CrCachedPage;

extern CrCachedPage *cr_cache_lookup(Oid umid, const char *url, int maxpagesize);
extern void cr_cache_store(Oid umid, const char *url, int maxpagesize, const CrResponse *resp);
extern void cr_cache_init(void);

#endif							/* CR_HTTP_INT_H */
