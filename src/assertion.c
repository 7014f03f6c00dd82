/*-------------------------------------------------------------------------
 *
 * assertion.c
 *		  The client assertions that sign in without a client secret: a JWT
 *		  signed with the app's certificate (certificate credentials,
 *		  OAuth2 private_key_jwt), and the token a federated identity
 *		  provider keeps in a file (workload identity federation).
 *
 * The certificate and its private key come from the user mapping as PEM
 * text, or from a file a superuser named (a PEM bundle, or PKCS#12).  The
 * JWT is the one Microsoft documents for certificate credentials: header
 * alg PS256 (RSA-PSS, SHA-256, salt of 32 bytes), typ JWT and x5t#S256
 * (the base64url SHA-256 of the certificate's DER); claims aud (the token
 * URL), iss = sub = the client id, a random GUID jti, nbf = iat = now and
 * exp a few minutes later.  OpenSSL's libcrypto reads, hashes and signs:
 * nothing cryptographic is written here.
 *
 * Rules kept here: every OpenSSL object is freed on every path (a problem
 * is noted, the objects freed, then the error raised; where PostgreSQL
 * may raise in between, PG_FINALLY frees them); OpenSSL's password
 * callback neither raises nor prompts; no key, password or assertion
 * appears in a message, and OpenSSL's error queue is cleared so none
 * lingers; the assertion returned is the caller's to wipe once sent.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/assertion.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cr_common.h"

#include "storage/fd.h"
#include "utils/memutils.h"
#include "cr_json.h"
#include "http_int.h"

/* An assertion is good for this long after it was made (Microsoft: 5-10 min). */
#define CR_ASSERTION_LIFETIME_S	300
/* Larger key files or token files are no credential. */
#define CR_MAX_CREDENTIAL_FILE	(1024 * 1024)

/* The certificate and its private key, both OpenSSL's. */
typedef struct CrKeyPair
{
	X509	   *cert;
	EVP_PKEY   *key;
} CrKeyPair;

/* What OpenSSL's password callback was given, and whether it was asked. */
typedef struct CrPassword
{
	const char *password;
	bool		asked;
} CrPassword;

static void
free_key_pair(CrKeyPair *kp)
{
	X509_free(kp->cert);
	EVP_PKEY_free(kp->key);
	kp->cert = NULL;
	kp->key = NULL;
}

/*
 * OpenSSL asks for a PEM key's password here.  Its default would prompt
 * on the server's terminal; this gives the option's value or nothing,
 * and notes that a password was needed, for the message.
 */
static int
pem_password(char *buf, int size, int rwflag, void *userdata)
{
	CrPassword *pw = (CrPassword *) userdata;
	size_t		len;

	pw->asked = true;
	if (pw->password == NULL)
		return -1;
	len = strlen(pw->password);
	if (len >= (size_t) size)
		return -1;
	memcpy(buf, pw->password, len);
	return (int) len;
}

/* The first PEM certificate of a text, or NULL. */
static X509 *
read_pem_certificate(const char *text, size_t len)
{
	BIO		   *bio = BIO_new_mem_buf(text, (int) len);
	CrPassword	none = {NULL, false};
	X509	   *cert = bio ? PEM_read_bio_X509(bio, NULL, pem_password, &none) : NULL;

	BIO_free(bio);
	return cert;
}

/*
 * The first PEM private key of a text, or NULL with the reason: a
 * password missing, a wrong password, or no key at all.
 */
static EVP_PKEY *
read_pem_key(const char *text, size_t len, const char *password, const char **problem)
{
	BIO		   *bio = BIO_new_mem_buf(text, (int) len);
	CrPassword	pw = {password, false};
	EVP_PKEY   *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, pem_password, &pw) : NULL;

	BIO_free(bio);
	if (key == NULL)
		*problem = !pw.asked ? "It holds no PEM private key that OpenSSL can read." :
			password == NULL ? "The private key is encrypted and no password was given." :
			"The password does not decrypt the private key.";
	return key;
}

/*
 * OpenSSL 3 reads PKCS#12 files of older tools (RC2 or 3DES) only with
 * its legacy provider.  Loaded once, for the whole backend, alongside the
 * default provider (an explicit load would otherwise leave out the
 * default one).  False if it is not installed.
 */
static bool
load_legacy_provider(void)
{
	static bool tried = false;
	static bool loaded = false;

	if (!tried)
	{
		tried = true;
		loaded = OSSL_PROVIDER_load(NULL, "default") != NULL &&
			OSSL_PROVIDER_load(NULL, "legacy") != NULL;
		ERR_clear_error();
	}
	return loaded;
}

/* Whether password (NULL: none or empty) opens a PKCS#12 file's MAC. */
static bool
pkcs12_password_ok(PKCS12 *p12, const char *password)
{
	if (!PKCS12_mac_present(p12))
		return true;
	if (password != NULL)
		return PKCS12_verify_mac(p12, password, -1) == 1;
	return PKCS12_verify_mac(p12, "", 0) == 1 || PKCS12_verify_mac(p12, NULL, 0) == 1;
}

/*
 * The key and certificate of a PKCS#12 file.  A wrong password is told
 * apart from a cipher OpenSSL needs its legacy provider for; with that
 * provider the file is read again.
 */
static const char *
read_pkcs12(const char *data, size_t len, const char *password, CrKeyPair *kp)
{
	BIO		   *bio = BIO_new_mem_buf(data, (int) len);
	PKCS12	   *p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;
	const char *problem = NULL;

	BIO_free(bio);
	if (p12 == NULL)
		return "It is neither PEM nor PKCS#12.";
	if (!pkcs12_password_ok(p12, password))
		problem = password ? "The password does not open the PKCS#12 file." :
			"The PKCS#12 file needs a password: set client_certificate_password.";
	else if (!PKCS12_parse(p12, password, &kp->key, &kp->cert, NULL))
	{
		ERR_clear_error();
		if (!load_legacy_provider() || !PKCS12_parse(p12, password, &kp->key, &kp->cert, NULL))
			problem = "OpenSSL cannot decrypt the PKCS#12 file (an older cipher, and OpenSSL's legacy provider is not installed).";
	}
	PKCS12_free(p12);
	if (problem == NULL && (kp->key == NULL || kp->cert == NULL))
		problem = "The PKCS#12 file lacks the certificate or its private key.";
	return problem;
}

/*
 * A superuser's key file, whole, in the current context.  PEM or DER
 * alike: its content is read as bytes.
 */
static char *
read_credential_file(const char *path, size_t *len, const char *what)
{
	FILE	   *f = AllocateFile(path, "rb");
	struct stat st;
	char	   *data;

	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open %s \"%s\": %m", what, path),
				 errhint("The file is read by the database server's operating system user.")));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CR_MAX_CREDENTIAL_FILE)
	{
		FreeFile(f);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("%s \"%s\" is not a regular file of at most %d bytes", what, path,
						CR_MAX_CREDENTIAL_FILE)));
	}
	data = palloc(st.st_size + 1);
	*len = fread(data, 1, st.st_size, f);
	data[*len] = '\0';
	if (ferror(f))
	{
		FreeFile(f);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read %s \"%s\": %m", what, path)));
	}
	FreeFile(f);
	return data;
}

/*
 * Read the certificate and key of the options into kp, or say what is
 * wrong with them.  The file's bytes are wiped once read.
 */
static const char *
read_key_pair(const CrOptions *opts, CrKeyPair *kp)
{
	const char *problem = NULL;
	char	   *data;
	size_t		len;

	if (opts->auth == CR_AUTH_CERTIFICATE)
	{
		kp->cert = read_pem_certificate(opts->client_certificate, strlen(opts->client_certificate));
		if (kp->cert == NULL)
			return "client_certificate holds no PEM certificate that OpenSSL can read.";
		kp->key = read_pem_key(opts->client_private_key, strlen(opts->client_private_key),
							   opts->client_private_key_password, &problem);
		return problem;
	}
	data = read_credential_file(opts->client_certificate_file, &len, "client certificate file");
	if (strstr(data, "-----BEGIN ") != NULL)
	{
		kp->cert = read_pem_certificate(data, len);
		if (kp->cert == NULL)
			problem = "The PEM file holds no certificate.";
		else
			kp->key = read_pem_key(data, len, opts->client_certificate_password, &problem);
	}
	else
		problem = read_pkcs12(data, len, opts->client_certificate_password, kp);
	explicit_bzero(data, len);
	pfree(data);
	return problem;
}

/*
 * The checks Entra would make later, made here with a clearer message:
 * the key belongs to the certificate, is RSA (PS256 signs with RSA), and
 * the certificate is in its validity period.
 */
static const char *
check_key_pair(CrKeyPair *kp)
{
	if (X509_check_private_key(kp->cert, kp->key) != 1)
		return "The private key does not belong to the certificate.";
	if (EVP_PKEY_get_base_id(kp->key) != EVP_PKEY_RSA)
		return "The key is not an RSA key: the assertion is signed with PS256 (RSA-PSS).";
	if (X509_cmp_current_time(X509_get0_notAfter(kp->cert)) < 0)
		return "The certificate has expired.";
	if (X509_cmp_current_time(X509_get0_notBefore(kp->cert)) > 0)
		return "The certificate is not valid yet.";
	return NULL;
}

/*
 * The certificate and key of the options, checked.  On a problem every
 * OpenSSL object is freed before the error; the text names the option,
 * never its value.
 */
static void
load_key_pair(const CrOptions *opts, CrKeyPair *kp)
{
	const char *problem = read_key_pair(opts, kp);

	if (problem == NULL)
		problem = check_key_pair(kp);
	ERR_clear_error();
	if (problem == NULL)
		return;
	free_key_pair(kp);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
			 errmsg("could not use the client certificate of the user mapping"),
			 errdetail("%s", problem),
			 opts->auth == CR_AUTH_CERTIFICATE ?
			 errhint("Set client_certificate to the PEM certificate uploaded to the app registration, client_private_key to its PEM private key, and client_private_key_password if the key is encrypted.") :
			 errhint("client_certificate_file is a PEM file with the certificate and its private key, or a PKCS#12 (.pfx) file; client_certificate_password opens it.")));
}

/* The SHA-256 of the certificate's DER (x5t#S256, and the token cache's key). */
static void
certificate_thumbprint(X509 *cert, uint8 *thumbprint)
{
	unsigned int len = CR_THUMBPRINT_LEN;

	if (X509_digest(cert, EVP_sha256(), thumbprint, &len) != 1 || len != CR_THUMBPRINT_LEN)
		memset(thumbprint, 0, CR_THUMBPRINT_LEN);
}

/*
 * The thumbprint of the options' certificate, once its key was found to
 * belong to it: a role that holds only the (public) certificate never
 * gets the token another obtained with its key.
 */
void
cr_certificate_thumbprint(const CrOptions *opts, uint8 *thumbprint)
{
	CrKeyPair	kp = {0};

	load_key_pair(opts, &kp);
	certificate_thumbprint(kp.cert, thumbprint);
	free_key_pair(&kp);
}

/* base64url without padding (RFC 7515), in the current context. */
static char *
base64url(const unsigned char *data, size_t len)
{
	char	   *out = palloc(4 * ((len + 2) / 3) + 1);
	int			n = EVP_EncodeBlock((unsigned char *) out, data, (int) len);
	int			i;

	for (i = 0; i < n; i++)
	{
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	return out;
}

/*
 * A JSON object as compact text, base64url-encoded; the object is freed.
 * json_dumps() allocates with jansson's allocator: the text is copied
 * into the current context without raising, then given back to jansson.
 */
static char *
encode_json(json_t *obj)
{
	char	   *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t		len = text ? strlen(text) : 0;
	char	   *copy = NULL;
	json_malloc_t malloc_fn;
	json_free_t free_fn;
	char	   *out;

	if (obj)
		json_decref(obj);
	if (text)
	{
		copy = MemoryContextAllocExtended(CurrentMemoryContext, len + 1, MCXT_ALLOC_NO_OOM);
		if (copy)
			memcpy(copy, text, len + 1);
		json_get_alloc_funcs(&malloc_fn, &free_fn);
		free_fn(text);
	}
	if (copy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	out = base64url((const unsigned char *) copy, len);
	pfree(copy);
	return out;
}

/* A random (version 4) GUID, for the jti claim. */
static char *
random_guid(void)
{
	uint8		b[16];

	if (!pg_strong_random(b, sizeof(b)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random assertion id")));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	return psprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
					b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
					b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* The JWT's header and claims, each base64url-encoded, joined by a dot. */
static char *
signing_input(const CrOptions *opts, X509 *cert, const char *audience)
{
	uint8		thumbprint[CR_THUMBPRINT_LEN];
	json_int_t	now = (json_int_t) time(NULL);
	char	   *header;
	char	   *claims;

	certificate_thumbprint(cert, thumbprint);
	header = encode_json(json_pack("{s:s, s:s, s:s}", "alg", "PS256", "typ", "JWT",
								   "x5t#S256", base64url(thumbprint, sizeof(thumbprint))));
	claims = encode_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
								   "aud", audience,
								   "iss", opts->client_id, "sub", opts->client_id,
								   "jti", random_guid(),
								   "nbf", now, "iat", now,
								   "exp", now + CR_ASSERTION_LIFETIME_S));
	return psprintf("%s.%s", header, claims);
}

/*
 * RSA-PSS over SHA-256 with a salt as long as the digest (RFC 7518 3.5),
 * into sig (EVP_PKEY_get_size bytes).  False if OpenSSL refused.
 */
static bool
sign_ps256(EVP_PKEY *key, const char *input, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool		ok;

	ok = md != NULL &&
		EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
		EVP_DigestSign(md, sig, siglen, (const unsigned char *) input, strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* The signed JWT of a loaded key pair. */
static char *
sign_assertion(const CrOptions *opts, CrKeyPair *kp, const char *audience)
{
	char	   *input = signing_input(opts, kp->cert, audience);
	size_t		siglen = (size_t) EVP_PKEY_get_size(kp->key);
	unsigned char *sig = palloc(siglen);

	if (!sign_ps256(kp->key, input, sig, &siglen))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("could not sign the client assertion with the client certificate's key")));
	return psprintf("%s.%s", input, base64url(sig, siglen));
}

/*
 * A fresh client assertion for the token request to audience (the token
 * URL), signed with the certificate of the options.
 */
char *
cr_certificate_assertion(const CrOptions *opts, const char *audience)
{
	CrKeyPair	kp = {0};
	char	   *volatile jwt = NULL;

	load_key_pair(opts, &kp);
	PG_TRY();
	{
		jwt = sign_assertion(opts, &kp, audience);
	}
	PG_CATCH();
	{
		free_key_pair(&kp);
		PG_RE_THROW();
	}
	PG_END_TRY();
	free_key_pair(&kp);
	return jwt;
}

/*
 * The workload identity's assertion: the token file's content, read
 * anew at each sign-in, since its issuer rotates it (the kubelet about
 * hourly) and a stale one is refused.  Surrounding white space is not
 * part of the token.
 */
char *
cr_federated_assertion(const CrOptions *opts)
{
	char	   *data;
	size_t		len;
	size_t		start = 0;

	if (opts->federated_token_file == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("workload identity has no token file"),
				 errhint("Set the user mapping option federated_token_file, or AZURE_FEDERATED_TOKEN_FILE in the server's environment.")));
	data = read_credential_file(opts->federated_token_file, &len, "federated token file");
	while (len > 0 && isspace((unsigned char) data[len - 1]))
		data[--len] = '\0';
	while (start < len && isspace((unsigned char) data[start]))
		start++;
	if (start == len)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("federated token file \"%s\" is empty", opts->federated_token_file),
				 errhint("The identity provider (the kubelet, a sidecar) writes the token there.")));
	return data + start;
}
