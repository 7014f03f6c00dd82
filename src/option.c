/*-------------------------------------------------------------------------
 *
 * option.c
 *		  Options of callrecords_fdw: the table of valid names, the checks
 *		  the validator makes, and their lookup for a foreign table.
 *
 * The validator rejects everything it can at CREATE/ALTER time, so a bad
 * server or user mapping fails when it is written, not in the middle of
 * somebody's report.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/option.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>

#include "cr_common.h"

#include "catalog/pg_attribute.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "access/xact.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#define DEFAULT_GRAPH_URL	"https://graph.microsoft.com"
#define DEFAULT_LOGIN_URL	"https://login.microsoftonline.com"
#define DEFAULT_API_VERSION "v1.0"

/*
 * The whole-number server options: the CrOptions field each one sets, its
 * least and greatest valid value and its default.  Validation, defaults
 * and parsing all read this one table.  The greatest values keep every
 * product the code forms (seconds to microseconds, a limit times a
 * window, a buffer of max_response_bytes) far from overflow and from
 * PostgreSQL's 1 GB allocation limit.
 */
typedef struct CrIntOption
{
	const char *name;
	size_t		offset;
	int			min;
	int			max;
	int			dflt;
} CrIntOption;

static const CrIntOption cr_int_options[] = {
	{"max_requests", offsetof(CrOptions, max_requests), 1, 1000000, 1000},
	{"max_retries", offsetof(CrOptions, max_retries), 0, 100, 5},
	/* unset (0): chosen from latency and the tenant rate (pacing.c) */
	{"max_concurrency", offsetof(CrOptions, max_concurrency), 1, 100, 0},
	{"max_retry_wait", offsetof(CrOptions, max_retry_wait), 0, 86400, 120},	/* seconds */
	{"connect_timeout", offsetof(CrOptions, connect_timeout), 1, 3600, 10},	/* seconds */
	{"request_timeout", offsetof(CrOptions, request_timeout), 1, 86400, 300},	/* seconds */
	{"max_response_bytes", offsetof(CrOptions, max_response_bytes), 1,
	CR_MAX_RESPONSE_BYTES_CAP, CR_DEFAULT_MAX_RESPONSE_BYTES},
	/* Graph's documented call record limits (throttling-limits, 2025-01) */
	{"rate_window", offsetof(CrOptions, rate_window), 1, 3600, 20},	/* seconds */
	{"record_rate_limit", offsetof(CrOptions, record_rate_limit), 0, 1000000, 40},
	{"tenant_rate_limit", offsetof(CrOptions, tenant_rate_limit), 0, 1000000, 1500},
	/* and its limits of the log functions (PSTN call records) */
	{"log_rate_window", offsetof(CrOptions, log_rate_window), 1, 3600, 60},	/* seconds */
	{"log_function_rate_limit", offsetof(CrOptions, log_function_rate_limit), 0, 1000000, 50},
	{"log_app_rate_limit", offsetof(CrOptions, log_app_rate_limit), 0, 1000000, 200},
	{"log_tenant_rate_limit", offsetof(CrOptions, log_tenant_rate_limit), 0, 1000000, 1000},
	/* megabytes: answers in flight and waiting, and the page parsed, per scan */
	{"memory_budget", offsetof(CrOptions, memory_budget), CR_MIN_MEMORY_BUDGET_MB,
	CR_MAX_MEMORY_BUDGET_MB, CR_DEFAULT_MEMORY_BUDGET_MB},
};

static const CrIntOption *
find_int_option(const char *name)
{
	size_t		i;

	for (i = 0; i < lengthof(cr_int_options); i++)
		if (strcmp(cr_int_options[i].name, name) == 0)
			return &cr_int_options[i];
	return NULL;
}

#define INT_OPTION_FIELD(opts, io) ((int *) ((char *) (opts) + (io)->offset))

/* A valid option: its name, the catalog it belongs to, whether required. */
typedef struct CrOptionDef
{
	const char *name;
	Oid			context;
	bool		required;
} CrOptionDef;

static const CrOptionDef cr_option_defs[] = {
	{"tenant_id", ForeignServerRelationId, true},
	{"graph_url", ForeignServerRelationId, false},
	{"login_url", ForeignServerRelationId, false},
	{"api_version", ForeignServerRelationId, false},
	{"max_requests", ForeignServerRelationId, false},
	{"max_retries", ForeignServerRelationId, false},
	{"max_concurrency", ForeignServerRelationId, false},
	{"max_retry_wait", ForeignServerRelationId, false},
	{"connect_timeout", ForeignServerRelationId, false},
	{"request_timeout", ForeignServerRelationId, false},
	{"max_response_bytes", ForeignServerRelationId, false},
	{"rate_window", ForeignServerRelationId, false},
	{"record_rate_limit", ForeignServerRelationId, false},
	{"tenant_rate_limit", ForeignServerRelationId, false},
	{"log_rate_window", ForeignServerRelationId, false},
	{"log_function_rate_limit", ForeignServerRelationId, false},
	{"log_app_rate_limit", ForeignServerRelationId, false},
	{"log_tenant_rate_limit", ForeignServerRelationId, false},
	{"memory_budget", ForeignServerRelationId, false},
	{"ca_file", ForeignServerRelationId, false},
	{"proxy", ForeignServerRelationId, false},
	/* required as check_credentials() says: it depends on the credential */
	{"client_id", UserMappingRelationId, false},
	{"client_secret", UserMappingRelationId, false},
	{"client_certificate", UserMappingRelationId, false},
	{"client_private_key", UserMappingRelationId, false},
	{"client_private_key_password", UserMappingRelationId, false},
	{"client_certificate_file", UserMappingRelationId, false},
	{"client_certificate_password", UserMappingRelationId, false},
	{"auth", UserMappingRelationId, false},
	{"managed_identity_client_id", UserMappingRelationId, false},
	{"managed_identity_object_id", UserMappingRelationId, false},
	{"managed_identity_resource_id", UserMappingRelationId, false},
	{"federated_token_file", UserMappingRelationId, false},
	{"proxy_user", UserMappingRelationId, false},
	{"proxy_password", UserMappingRelationId, false},
	{"resource", ForeignTableRelationId, true},
	{"path", AttributeRelationId, false},
	{NULL, InvalidOid, false}
};

/* "a, b, c": the option names valid in a catalog, for hints. */
static char *
valid_option_names(Oid context)
{
	StringInfoData buf;
	const CrOptionDef *opt;

	initStringInfo(&buf);
	for (opt = cr_option_defs; opt->name; opt++)
		if (opt->context == context)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", opt->name);
	return buf.data;
}

static const CrOptionDef *
find_option_def(const char *name, Oid context)
{
	const CrOptionDef *opt;

	for (opt = cr_option_defs; opt->name; opt++)
		if (opt->context == context && strcmp(opt->name, name) == 0)
			return opt;
	return NULL;
}

/*
 * True for the hosts a token may be sent to over plain http: the loopback
 * addresses, where the bundled emulator runs.  Anything else must use https
 * so a bearer token never crosses a network in clear text.
 */
static bool
is_loopback_host(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char		buf[64];
	size_t		len = strlen(host);

	if (pg_strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	/* curl reports IPv6 hosts with their brackets */
	if (len > 2 && len < sizeof(buf) && host[0] == '[' && host[len - 1] == ']')
	{
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

/*
 * The hosts a managed identity endpoint may be on: the Azure Instance
 * Metadata Service's link-local address, or loopback (App Service,
 * Container Apps and Arc serve the identity on localhost).  No other: the
 * request carries the machine's identity and travels in plain http.
 */
static bool
is_identity_host(const char *host)
{
	return strcmp(host, "169.254.169.254") == 0 || is_loopback_host(host);
}

/*
 * Whether a managed identity endpoint is an http URL on such a host.
 * Never raises (the setting's check hook uses it): a URL curl cannot
 * parse, or no memory to parse it, is refused.
 */
bool
cr_is_identity_endpoint(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *host = NULL;
	bool		ok;

	if (u == NULL)
		return false;
	ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		pg_strcasecmp(scheme, "http") == 0 && is_identity_host(host);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/*
 * The hosts Microsoft documents for Graph and for its token endpoints, in
 * the global cloud and the national clouds (US Government L4 and L5 (DoD),
 * China operated by 21Vianet), as its national cloud deployment pages list
 * them.
 */
static const char *const cr_microsoft_hosts[] = {
	"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
	"microsoftgraph.chinacloudapi.cn",
	"login.microsoftonline.com", "login.microsoftonline.us",
	"login.chinacloudapi.cn", "login.partner.microsoftonline.cn",
	NULL
};

static bool
is_microsoft_host(const char *host)
{
	const char *const *h;

	for (h = cr_microsoft_hosts; *h; h++)
		if (pg_strcasecmp(host, *h) == 0)
			return true;
	return false;
}

/*
 * Whether a non-superuser may send requests to a URL: a documented
 * Microsoft host, over https, on port 443 (given or implied).  The host
 * alone is not enough: "https://graph.microsoft.com:8443" would reach
 * whatever answers on that port, and an http URL would send the token in
 * clear text.
 */
static bool
is_allowed_for_user(const char *scheme, const char *host, const char *port)
{
	return pg_strcasecmp(scheme, "https") == 0 && is_microsoft_host(host) &&
		(port == NULL || strcmp(port, "443") == 0);
}

/*
 * graph_url and login_url: an absolute http(s) URL of a host, with no path
 * beyond "/", no query, no user name or password; http only for loopback.
 */
static void
check_base_url(const char *name, const char *value)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *host = NULL,
			   *path = NULL,
			   *query = NULL,
			   *user = NULL,
			   *port = NULL;
	const char *problem = NULL;
	bool		restricted = false;
	bool		restricted_port = false;	/* Microsoft's host, another port */

	if (u == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK)
		problem = "It is not an absolute URL.";
	else
	{
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		curl_url_get(u, CURLUPART_QUERY, &query, 0);
		curl_url_get(u, CURLUPART_USER, &user, 0);
		/* NULL unless the URL gives a port */
		curl_url_get(u, CURLUPART_PORT, &port, 0);

		if (scheme == NULL || host == NULL)
			problem = "It is not an absolute URL.";
		else if (pg_strcasecmp(scheme, "https") != 0 &&
				 pg_strcasecmp(scheme, "http") != 0)
			problem = "Only https URLs are accepted.";
		else if (pg_strcasecmp(scheme, "http") == 0 && !is_loopback_host(host))
			problem = "Plain http is accepted only for loopback hosts (127.0.0.0/8, ::1, localhost).";
		else if (user != NULL)
			problem = "It must not contain a user name or password.";
		else if (query != NULL || strchr(value, '#') != NULL)
			problem = "It must not contain a query or fragment.";
		else if (path != NULL && strcmp(path, "/") != 0 && path[0] != '\0')
			problem = "It must name a host only, without a path.";
		else if (!superuser() && !is_allowed_for_user(scheme, host, port))
		{
			restricted = true;
			restricted_port = is_microsoft_host(host);
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_free(port);
	curl_url_cleanup(u);

	/*
	 * Only a superuser may send requests from the database server to a
	 * host other than Microsoft's: otherwise any user with USAGE on the
	 * wrapper could make the server reach internal hosts.
	 */
	if (restricted)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set \"%s\" to a host other than Microsoft's", name),
				 restricted_port ?
				 errdetail("Other roles may name Microsoft's hosts only with https on port 443.") : 0,
				 errhint("Use one of the documented Graph or login hosts, or ask a superuser to create the server.")));
	if (problem)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errdetail("%s", problem),
				 errhint("Give a base URL such as \"%s\".",
						 strcmp(name, "graph_url") == 0 ? DEFAULT_GRAPH_URL
						 : DEFAULT_LOGIN_URL)));
}

/* Whether s is a GUID: 8-4-4-4-12 hexadecimal digits. */
static bool
is_guid(const char *s)
{
	int			i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++)
	{
		bool		dash = (i == 8 || i == 13 || i == 18 || i == 23);

		if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

/*
 * Whether s is a domain name: labels of letters, digits and hyphens (no
 * hyphen at either end, at most 63 characters) joined by single dots, at
 * most 253 characters.  "." and ".." are not, so the tenant never becomes
 * a dot segment of the token URL.
 */
static bool
is_domain_name(const char *s)
{
	size_t		label = 0;
	const char *p;

	if (*s == '\0' || strlen(s) > 253)
		return false;
	for (p = s; *p; p++)
	{
		if (*p == '.')
		{
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		}
		else if (isalnum((unsigned char) *p) || *p == '_' ||
				 (*p == '-' && label > 0))
		{
			if (++label > 63)
				return false;
		}
		else
			return false;
	}
	return label > 0 && p[-1] != '-';
}

/* A tenant is a GUID or a verified domain name. */
static void
check_tenant_id(const char *value)
{
	if (is_guid(value) || is_domain_name(value))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("invalid value for option \"tenant_id\": \"%s\"", value),
			 errhint("Give the directory (tenant) id GUID or a verified domain name, e.g. \"contoso.onmicrosoft.com\".")));
}

/*
 * Whether a URL carries user info ("user:password@") before its host.
 * The value itself is never echoed when it does.
 */
static bool
has_user_info(const char *url)
{
	const char *p = strstr(url, "://");
	size_t		authority;

	if (p == NULL)
		return false;
	p += 3;
	authority = strcspn(p, "/?#");
	return memchr(p, '@', authority) != NULL;
}

/*
 * ca_file (a PEM bundle of the CAs to trust, for corporate TLS inspection)
 * and proxy (a proxy URL): both make the database server read a file or
 * reach a host of the user's choosing, so only superusers may set them.
 */
static void
check_network_option(const char *name, const char *value)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set option \"%s\"", name)));
	if (strcmp(name, "ca_file") == 0 && !is_absolute_path(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"ca_file\": \"%s\"", value),
				 errhint("Give the absolute path of a PEM file of CA certificates.")));
	if (strcmp(name, "proxy") == 0 &&
		strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0 &&
		strncmp(value, "socks5://", 9) != 0 && strncmp(value, "socks5h://", 10) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"proxy\": \"%s\"", value),
				 errhint("Give a proxy URL such as \"http://proxy.example.com:3128\" (http, https, socks5 or socks5h).")));
	if (strcmp(name, "proxy") == 0 && has_user_info(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"proxy\": it contains a user name or password"),
				 errdetail("Server options are readable by every role that can see the server."),
				 errhint("Give the proxy's credentials as the user mapping options proxy_user and proxy_password.")));
}

/*
 * A whole number in decimal digits, as the hint asks for: parse_int()
 * would read "010" as octal 8, and take hex, exponents and spaces.
 * Digits past int's range read as INT_MAX, which is over every maximum.
 */
static bool
parse_whole_number(const char *s, int *result)
{
	int64		n = 0;
	const char *p;

	if (*s == '\0')
		return false;
	for (p = s; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		n = Min(n * 10 + (*p - '0'), (int64) PG_INT32_MAX);
	}
	*result = (int) n;
	return true;
}

/* A whole number from min to max (requests, retries, seconds or bytes). */
static void
check_int_option(const char *name, const char *value, int min, int max)
{
	int			n;

	if (!parse_whole_number(value, &n) || n < min)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("Give a whole number of at least %d.", min)));
	if (n > max)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("Give a whole number of at most %d.", max)));
}

/*
 * The options that make the database server sign in as itself (its
 * managed identity, its workload identity) or read a key file it holds:
 * those belong to the machine, not to a role, so only a superuser may
 * choose them for a user mapping.
 */
static void
check_machine_option(const char *name, const char *value)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set option \"%s\"", name),
				 strcmp(name, "auth") == 0 ?
				 errdetail("It signs in as the database server's machine identity, which belongs to no role.") :
				 errdetail("The database server would read that file for the role, with the server's rights."),
				 errhint("Give the app's own credential instead: client_certificate and client_private_key, or client_secret.")));
	if (strcmp(name, "auth") == 0 &&
		strcmp(value, "managed_identity") != 0 && strcmp(value, "workload_identity") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"auth\": \"%s\"", value),
				 errhint("Valid values are \"managed_identity\" and \"workload_identity\"; a client secret or certificate needs no \"auth\".")));
	if (strcmp(name, "auth") != 0 && !is_absolute_path(value))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("Give an absolute path.")));
}

/*
 * client_certificate and client_private_key hold PEM text.  A value that
 * is plainly no PEM block (a file name, a thumbprint) is refused now, not
 * at the first query; the value itself is never echoed: it may be a key.
 */
static void
check_pem_option(const char *name, const char *value)
{
	bool		is_key = strcmp(name, "client_private_key") == 0;
	const char *end = is_key ? "PRIVATE KEY-----" : "-----BEGIN CERTIFICATE-----";

	if (strstr(value, "-----BEGIN ") == NULL || strstr(value, end) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"%s\"", name),
				 errdetail(is_key ? "It holds no PEM private key (\"-----BEGIN PRIVATE KEY-----\")." :
						   "It holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")."),
				 errhint(is_key ? "Give the PEM text of the key, e.g. pg_read_file() of the .key file as a superuser, or the output of \"openssl pkcs12 -nocerts\"." :
						 "Give the PEM text of the certificate, not its file name or thumbprint.")));
}

static void
check_option_value(const char *name, const char *value)
{
	const CrIntOption *io = find_int_option(name);

	if (io != NULL)
		check_int_option(name, value, io->min, io->max);
	else if (strcmp(name, "graph_url") == 0 || strcmp(name, "login_url") == 0)
		check_base_url(name, value);
	else if (strcmp(name, "tenant_id") == 0)
		check_tenant_id(value);
	else if (strcmp(name, "api_version") == 0)
	{
		if (strcmp(value, "v1.0") != 0 && strcmp(value, "beta") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"api_version\": \"%s\"", value),
					 errhint("Valid values are \"v1.0\" and \"beta\".")));
	}
	else if (strcmp(name, "ca_file") == 0 || strcmp(name, "proxy") == 0)
		check_network_option(name, value);
	else if (strcmp(name, "auth") == 0 || strcmp(name, "client_certificate_file") == 0 ||
			 strcmp(name, "federated_token_file") == 0)
		check_machine_option(name, value);
	else if (strcmp(name, "client_certificate") == 0 || strcmp(name, "client_private_key") == 0)
		check_pem_option(name, value);
	else if (strcmp(name, "resource") == 0)
	{
		if (cr_find_resource(value) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"resource\": \"%s\"", value),
					 errhint("Valid resources are: %s.", cr_resource_names())));
	}
	else if (strcmp(name, "path") == 0)
	{
		size_t		len = strlen(value);

		if (len == 0 || value[0] == '.' || value[len - 1] == '.' ||
			strstr(value, "..") != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
					 errmsg("invalid value for option \"path\": \"%s\"", value),
					 errhint("Give a dotted Graph property path relative to the row, e.g. \"caller.userAgent.platform\".")));
	}
	else if (*value == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("option \"%s\" must not be empty", name)));
}

/* The value of an option in a list, or NULL. */
static const char *
option_value(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/* An option of a user mapping that another one needs is missing. */
static void
report_missing_option(const char *name, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
			 errmsg("required option \"%s\" is missing", name),
			 errhint("%s", why)));
}

/* An option that makes no sense with the user mapping's credential. */
static void
report_unused_option(const char *name, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("option \"%s\" is not used with this credential", name),
			 errhint("%s", why)));
}

/*
 * A user mapping names exactly one credential: a client secret, a
 * certificate with its key (as text, or a superuser's file), or a
 * machine identity (auth).  Each option that goes with one credential
 * needs it, so that a mapping never holds a key or password it does not
 * use, nor leaves the choice between two to the wrapper.
 */
static void
check_credentials(List *options)
{
	const char *auth = option_value(options, "auth");
	bool		secret = option_value(options, "client_secret") != NULL;
	bool		cert = option_value(options, "client_certificate") != NULL;
	bool		key = option_value(options, "client_private_key") != NULL;
	bool		file = option_value(options, "client_certificate_file") != NULL;
	int			selectors = (option_value(options, "managed_identity_client_id") != NULL) +
		(option_value(options, "managed_identity_object_id") != NULL) +
		(option_value(options, "managed_identity_resource_id") != NULL);
	bool		mi = auth && strcmp(auth, "managed_identity") == 0;
	bool		wi = auth && strcmp(auth, "workload_identity") == 0;

	if (auth == NULL && option_value(options, "client_id") == NULL)
		report_missing_option("client_id", "Give the application (client) id of the app registration.");
	if (secret + (cert || key) + file + (auth != NULL) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("a user mapping takes one credential"),
				 errdetail("It gives more than one of client_secret, client_certificate, client_certificate_file and auth."),
				 errhint("Drop the ones not used, e.g. ALTER USER MAPPING ... OPTIONS (DROP client_secret).")));
	if (!secret && !cert && !key && !file && auth == NULL)
		report_missing_option("client_secret",
							  "Give client_secret, or client_certificate with client_private_key; a superuser may give client_certificate_file, or auth 'managed_identity' or 'workload_identity'.");
	if (cert != key)
		report_missing_option(cert ? "client_private_key" : "client_certificate",
							  "A certificate credential is the PEM certificate and its PEM private key.");
	if (!key && option_value(options, "client_private_key_password") != NULL)
		report_unused_option("client_private_key_password", "It decrypts client_private_key.");
	if (!file && option_value(options, "client_certificate_password") != NULL)
		report_unused_option("client_certificate_password", "It decrypts client_certificate_file.");
	if (!mi && selectors > 0)
		report_unused_option(option_value(options, "managed_identity_client_id") ? "managed_identity_client_id" :
							 option_value(options, "managed_identity_object_id") ? "managed_identity_object_id" :
							 "managed_identity_resource_id",
							 "managed_identity_client_id, managed_identity_object_id and managed_identity_resource_id pick the identity of auth 'managed_identity'.");
	if (mi && selectors > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("a managed identity is picked by one of managed_identity_client_id, managed_identity_object_id and managed_identity_resource_id")));
	if (mi && option_value(options, "client_id") != NULL)
		report_unused_option("client_id", "A managed identity is not an app registration: pick a user-assigned identity with managed_identity_client_id.");
	if (!wi && option_value(options, "federated_token_file") != NULL)
		report_unused_option("federated_token_file", "It holds the assertion of auth 'workload_identity'.");
}

/*
 * Check the complete option list of one catalog object.  For ALTER, core
 * passes the list as it will be after the change, so the required-option
 * check holds for ALTER ... OPTIONS (DROP ...) too.
 */
void
cr_validate_options(List *options_list, Oid catalog)
{
	const CrOptionDef *opt;
	ListCell   *cell;

	foreach(cell, options_list)
	{
		DefElem    *def = (DefElem *) lfirst(cell);

		if (find_option_def(def->defname, catalog) == NULL)
		{
			char	   *valid = valid_option_names(catalog);

			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 *valid ? errhint("Valid options in this context are: %s.", valid)
					 : errhint("There are no valid options in this context.")));
		}
		check_option_value(def->defname, defGetString(def));
	}
	if (catalog == UserMappingRelationId)
		check_credentials(options_list);

	for (opt = cr_option_defs; opt->name; opt++)
	{
		bool		found = false;

		if (opt->context != catalog || !opt->required)
			continue;
		foreach(cell, options_list)
			if (strcmp(((DefElem *) lfirst(cell))->defname, opt->name) == 0)
				found = true;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("required option \"%s\" is missing", opt->name),
					 errhint("Options in this context are: %s.",
							 valid_option_names(catalog))));
	}
}

/* Strip trailing slashes so paths can be appended with one "/". */
static char *
base_url(const char *value)
{
	char	   *s = pstrdup(value);
	size_t		len = strlen(s);

	while (len > 0 && s[len - 1] == '/')
		s[--len] = '\0';
	return s;
}

static void
apply_options(CrOptions *opts, List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		char	   *val = defGetString(def);
		const CrIntOption *io = find_int_option(def->defname);

		if (io != NULL)
			(void) parse_whole_number(val, INT_OPTION_FIELD(opts, io));
		else if (strcmp(def->defname, "tenant_id") == 0)
			opts->tenant_id = val;
		else if (strcmp(def->defname, "graph_url") == 0)
			opts->graph_url = base_url(val);
		else if (strcmp(def->defname, "login_url") == 0)
			opts->login_url = base_url(val);
		else if (strcmp(def->defname, "api_version") == 0)
			opts->api_version = val;
		else if (strcmp(def->defname, "ca_file") == 0)
			opts->ca_file = val;
		else if (strcmp(def->defname, "proxy") == 0)
			opts->proxy = val;
		else if (strcmp(def->defname, "client_id") == 0)
			opts->client_id = val;
		else if (strcmp(def->defname, "client_secret") == 0)
			opts->client_secret = val;
		else if (strcmp(def->defname, "client_certificate") == 0)
			opts->client_certificate = val;
		else if (strcmp(def->defname, "client_private_key") == 0)
			opts->client_private_key = val;
		else if (strcmp(def->defname, "client_private_key_password") == 0)
			opts->client_private_key_password = val;
		else if (strcmp(def->defname, "client_certificate_file") == 0)
			opts->client_certificate_file = val;
		else if (strcmp(def->defname, "client_certificate_password") == 0)
			opts->client_certificate_password = val;
		else if (strcmp(def->defname, "auth") == 0)
			opts->auth = strcmp(val, "managed_identity") == 0 ?
				CR_AUTH_MANAGED_IDENTITY : CR_AUTH_WORKLOAD_IDENTITY;
		else if (strcmp(def->defname, "managed_identity_client_id") == 0)
			opts->managed_identity_client_id = val;
		else if (strcmp(def->defname, "managed_identity_object_id") == 0)
			opts->managed_identity_object_id = val;
		else if (strcmp(def->defname, "managed_identity_resource_id") == 0)
			opts->managed_identity_resource_id = val;
		else if (strcmp(def->defname, "federated_token_file") == 0)
			opts->federated_token_file = val;
		else if (strcmp(def->defname, "proxy_user") == 0)
			opts->proxy_user = val;
		else if (strcmp(def->defname, "proxy_password") == 0)
			opts->proxy_password = val;
		else if (strcmp(def->defname, "resource") == 0)
			opts->resource = val;
	}
}

/*
 * The user mapping of userid for the server, as GetUserMapping finds it
 * (the user's own, else PUBLIC's), with a hint on how to create one when
 * there is none: core's bare "user mapping not found" leaves a role that
 * was granted the tables without knowing why it cannot read them.
 */
static UserMapping *
cr_user_mapping(Oid userid, ForeignServer *server)
{
	if (!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid),
							   ObjectIdGetDatum(server->serverid)) &&
		!SearchSysCacheExists2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							   ObjectIdGetDatum(server->serverid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("user mapping not found for user \"%s\", server \"%s\"",
						MappingUserName(userid), server->servername),
				 errhint("Create one with the app's credentials: CREATE USER MAPPING FOR %s SERVER %s OPTIONS (client_id '...', client_secret '...'), or one FOR PUBLIC.",
						 quote_identifier(MappingUserName(userid)),
						 quote_identifier(server->servername))));
	return GetUserMapping(userid, server->serverid);
}

/*
 * The credential's kind from the options the validator accepted, and
 * what a workload identity takes from the environment the way Azure's
 * libraries do (the AKS webhook sets AZURE_CLIENT_ID and
 * AZURE_FEDERATED_TOKEN_FILE for the pod): the options win.
 */
static void
resolve_credential(CrOptions *opts)
{
	const char *env;

	if (opts->auth == CR_AUTH_SECRET && opts->client_certificate_file)
		opts->auth = CR_AUTH_CERTIFICATE_FILE;
	else if (opts->auth == CR_AUTH_SECRET && opts->client_certificate)
		opts->auth = CR_AUTH_CERTIFICATE;
	if (opts->auth != CR_AUTH_WORKLOAD_IDENTITY)
		return;
	if (opts->client_id == NULL && (env = getenv("AZURE_CLIENT_ID")) != NULL && *env)
		opts->client_id = pstrdup(env);
	if (opts->federated_token_file == NULL &&
		(env = getenv("AZURE_FEDERATED_TOKEN_FILE")) != NULL && *env)
		opts->federated_token_file = pstrdup(env);
}

/* The credential's kind as the README and the messages name it. */
const char *
cr_auth_kind_name(CrAuthKind auth)
{
	switch (auth)
	{
		case CR_AUTH_SECRET:
			return "client secret";
		case CR_AUTH_CERTIFICATE:
			return "client certificate";
		case CR_AUTH_CERTIFICATE_FILE:
			return "client certificate file";
		case CR_AUTH_MANAGED_IDENTITY:
			return "managed identity";
		case CR_AUTH_WORKLOAD_IDENTITY:
			return "workload identity";
	}
	return "unknown";
}

/*
 * Everything a scan of a foreign table needs to know about where and as
 * whom to connect.  The user mapping is that of the user the query runs
 * as (checkAsUser for views), as in postgres_fdw.  A plain EXPLAIN sends
 * nothing, so it asks without the mapping (with_mapping false): a role
 * without one can see the plan, as with postgres_fdw.
 */
CrOptions *
cr_get_options(Oid foreigntableid, Oid userid, bool with_mapping)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	ForeignServer *server = GetForeignServer(table->serverid);
	UserMapping *um = with_mapping ? cr_user_mapping(userid, server) : NULL;
	CrOptions  *opts = palloc0(sizeof(CrOptions));
	size_t		i;

	opts->serverid = server->serverid;
	opts->umid = um ? um->umid : InvalidOid;
	opts->graph_url = DEFAULT_GRAPH_URL;
	opts->login_url = DEFAULT_LOGIN_URL;
	opts->api_version = DEFAULT_API_VERSION;
	for (i = 0; i < lengthof(cr_int_options); i++)
		*INT_OPTION_FIELD(opts, &cr_int_options[i]) = cr_int_options[i].dflt;

	apply_options(opts, server->options);
	if (um)
		apply_options(opts, um->options);
	apply_options(opts, table->options);
	resolve_credential(opts);
	return opts;
}

/*
 * The resource of a foreign table.  The validator makes the option
 * required, but a table created before an upgrade could still lack a
 * valid one, so check again here.
 */
const CrResource *
cr_table_resource(const CrOptions *opts)
{
	const CrResource *res = opts->resource ? cr_find_resource(opts->resource) : NULL;

	if (res == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("foreign table has no valid \"resource\" option"),
				 errhint("Valid resources are: %s.", cr_resource_names())));
	return res;
}

/* callrecords_fdw.enable_pushdown: off sends no condition to Graph. */
bool		cr_enable_pushdown = true;

/* callrecords_fdw.prune_pages: off parses pages whole (to compare, or to rule pruning out). */
bool		cr_prune_pages = true;

/* callrecords_fdw.batch_joins: off plans joins on the key as parameterized nested loops (batchjoin.c). */
bool		cr_batch_joins = true;

/* callrecords_fdw.enable_join_pushdown: off plans the server's tables of a join apart (joinpath.c). */
bool		cr_enable_join_pushdown = true;

/* callrecords_fdw.learn_tenant_shape: off estimates from fixed guesses (shape.c). */
bool		cr_learn_tenant_shape = true;

/*
 * callrecords_fdw.memory_budget: the session's own budget per scan, in
 * MB; 0 (the default) takes the server's.
 */
static int	cr_memory_budget_setting = 0;

/*
 * The bytes one scan's answers (in flight and waiting) and the page it
 * parses may hold: the server's memory_budget, or the session's setting
 * when it is lower.  A session may lower the DBA's bound, never raise it.
 */
size_t
cr_memory_budget(const CrOptions *opts)
{
	int			mb = opts->memory_budget;

	if (cr_memory_budget_setting > 0)
		mb = Min(mb, cr_memory_budget_setting);
	return (size_t) mb * 1024 * 1024;
}

/*
 * callrecords_fdw.reference_time: the moment Graph's retention (30 days of
 * call records, 90 of logs) is counted back from by the estimates and the
 * notice on windows older than that; empty: the transaction's start.
 */
static char *cr_reference_time_setting = NULL;

/*
 * The moment the planner measures time windows against.  Real tenants
 * want "now"; a test over fixed data, or an estimate for an archive
 * snapshot, wants the moment the data describes, so that the plan does not
 * change as the calendar moves on.
 */
TimestampTz
cr_reference_time(void)
{
	if (cr_reference_time_setting == NULL || cr_reference_time_setting[0] == '\0')
		return GetCurrentTransactionStartTimestamp();
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(cr_reference_time_setting),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}

/*
 * Catch the obvious typo at SET rather than at the next plan: a check hook
 * must not raise, and PostgreSQL 15 has no soft-error timestamp input, so
 * this is the cheap test (an ISO timestamp begins with a digit); the full
 * parse, with its own error, happens when the planner reads it.
 */
static bool
check_reference_time(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0')
		return true;
	if (!isdigit((unsigned char) v[0]))
	{
		GUC_check_errdetail("The reference time is an ISO timestamp, e.g. 2026-11-21 00:00:00+00, or empty for the transaction's start.");
		return false;
	}
	return true;
}

/*
 * callrecords_fdw.identity_endpoint: where a managed identity's token is
 * asked for instead of the Instance Metadata Service (or IDENTITY_ENDPOINT),
 * as MSAL's MSAL_MANAGED_IDENTITY_ENDPOINT; callrecords_fdw.identity_header:
 * the App Service form's header value where the postmaster's environment
 * lacks IDENTITY_HEADER.  Both superuser-only: tests point them at the
 * emulator on loopback.
 */
char	   *cr_identity_endpoint = NULL;
char	   *cr_identity_header = NULL;

/*
 * The endpoint is an http URL on the link-local or a loopback address
 * (cr_is_identity_endpoint): a check hook must not raise, so
 * GUC_check_errdetail explains.
 */
static bool
check_identity_endpoint(char **newval, void **extra, GucSource source)
{
	bool		ok;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	ok = cr_is_identity_endpoint(*newval);
	if (!ok)
		GUC_check_errdetail("The managed identity endpoint is an http URL on 169.254.169.254 or a loopback address.");
	return ok;
}

/*
 * The wrapper's settings.  enable_pushdown is a field workaround and a
 * test aid: with it off every condition is evaluated locally, which must
 * give the same rows (only more requests).
 */
void
cr_define_gucs(void)
{
	DefineCustomBoolVariable(CR_NAME ".enable_pushdown",
							 "Narrow Graph requests with the query's conditions.",
							 "When off, call records are listed and fetched whole and every condition is applied locally.",
							 &cr_enable_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable(CR_NAME ".prune_pages",
							 "Drop the parts of a Graph page no column reads before parsing it.",
							 "When off, every page is parsed whole: the same rows, more time.",
							 &cr_prune_pages,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable(CR_NAME ".batch_joins",
							 "Join local rows to a table fetched per call record with one batch of ids.",
							 "When off, such a join is a nested loop that fetches one call record per outer row, one after another.",
							 &cr_batch_joins,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable(CR_NAME ".enable_join_pushdown",
							 "Run a join of the server's tables on their keys as one scan.",
							 "When off, each table of such a join is scanned apart and joined locally: the same rows, more requests.",
							 &cr_enable_join_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable(CR_NAME ".learn_tenant_shape",
							 "Estimate from the tenant's size and meetings as earlier scans saw them.",
							 "When off, estimates assume 10,000 call records in 30 days of 8 sessions each, and scans note nothing.",
							 &cr_learn_tenant_shape,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable(CR_NAME ".memory_budget",
							"Memory one foreign scan's Graph answers and page may hold, for this session.",
							"0 takes the server option memory_budget; a value above it is capped there.",
							&cr_memory_budget_setting,
							0, 0, CR_MAX_MEMORY_BUDGET_MB,
							PGC_USERSET,
							GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomStringVariable(CR_NAME ".reference_time",
							   "The moment Graph's retention is counted back from in estimates and notices.",
							   "Empty: the transaction's start. Tests over fixed data set it to the moment the data describes.",
							   &cr_reference_time_setting,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE,
							   check_reference_time, NULL, NULL);
	DefineCustomStringVariable(CR_NAME ".identity_endpoint",
							   "Where a managed identity's token is asked for.",
							   "Empty: IDENTITY_ENDPOINT of the server's environment, else the Instance Metadata Service (http://169.254.169.254/metadata/identity/oauth2/token).",
							   &cr_identity_endpoint,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE,
							   check_identity_endpoint, NULL, NULL);
	DefineCustomStringVariable(CR_NAME ".identity_header",
							   "The X-IDENTITY-HEADER value of App Service's managed identity endpoint.",
							   "Empty: IDENTITY_HEADER of the server's environment; set, the endpoint is asked in App Service's form.",
							   &cr_identity_header,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE | GUC_NO_SHOW_ALL,
							   NULL, NULL, NULL);
	MarkGUCPrefixReserved(CR_NAME);
}
