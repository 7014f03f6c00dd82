"""Sign-in without a client secret, checked as Entra and Azure check it.

- Client assertions (certificate credentials, private_key_jwt): the JWT's
  header names a registered certificate by x5t#S256 (SHA-256 of its DER) or
  x5t (SHA-1); alg is PS256 (RSA-PSS, SHA-256, salt 32) or the older RS256;
  aud is the exact token URL; iss = sub = client_id; nbf <= now < exp, with
  Entra's five minutes of clock skew; a jti is accepted once.
- Workload identity federation: the assertion is the current content of a
  token file the emulator shares with the test; an earlier content of that
  file is an expired token.
- Managed identity: the Instance Metadata Service form (header
  "Metadata: true", api-version 2018-02-01, numbers as strings) and the App
  Service form (header X-IDENTITY-HEADER, api-version 2019-08-01, only
  expires_on).

Signatures are verified with the `cryptography` package (Debian's
python3-cryptography), imported only when an assertion arrives, so the rest
of the emulator keeps to the standard library.

Where Microsoft documents the AADSTS code the text follows it (700024,
700027, 700021, 700023, 50027, 70021).  No code for a replayed jti is
documented: the emulator answers AADSTS50013 (InvalidAssertion).
"""

import base64
import hashlib
import json
import os
import time
from urllib.parse import unquote

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW_S = 300
CERT_DOC = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"


class SignInConfig:
    """What the tests register: certificates, the token file, identities."""

    def __init__(self):
        self.certificates = []        # [(sha256 bytes, sha1 bytes, cryptography certificate)]
        self.clock_skew_s = 0         # the emulator's clock ahead (+) or behind (-) the server's
        self.seen_jti = {}            # jti -> expiry (epoch seconds)
        self.federated_token_file = None
        self.file_root = ""           # where the server's files are, seen from here (--file-root)
        self.federated_seen = set()   # contents the token file held before
        self.identity_header = None   # App Service's X-IDENTITY-HEADER value
        self.system_identity = True
        self.user_identities = []     # [{"client_id", "object_id", "resource_id"}]
        self.last = None              # the last accepted certificate assertion: its form, for a replay
        self.summary = None           # what its header and claims were (no signature, no values)

    def now(self):
        return time.time() + self.clock_skew_s


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_certificates(pems):
    """The registered certificates from a list of PEM texts (ValueError if one is not)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    out = []
    for pem in pems:
        if not isinstance(pem, str):
            raise ValueError("client_certificates is a list of PEM texts")
        cert = x509.load_pem_x509_certificate(pem.encode())
        der = cert.public_bytes(Encoding.DER)
        out.append((hashlib.sha256(der).digest(), hashlib.sha1(der).digest(), cert))
    return out


def read_token_file(cfg):
    """The token file's current content (stripped), remembered as seen; None if unreadable."""
    try:
        with open(cfg.file_root + cfg.federated_token_file, encoding="utf-8") as f:
            content = f.read().strip()
    except OSError:
        return None
    cfg.federated_seen.add(content)
    return content


def _stamp(t):
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(t))


def _verify_signature(cert, alg, signed, sig):
    """True if sig is cert's key's signature of signed (PS256 or RS256)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    if alg == "PS256":
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        pad = padding.PKCS1v15()
    try:
        cert.public_key().verify(sig, signed, pad, hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _find_certificate(cfg, header):
    """The registered certificate the header names, and the thumbprint it gave (hex)."""
    if "x5t#S256" in header:
        tp = b64url_decode(str(header["x5t#S256"]))
        return next((c for s, _, c in cfg.certificates if s == tp), None), tp.hex().upper()
    tp = b64url_decode(str(header.get("x5t", "")))
    return next((c for _, s1, c in cfg.certificates if s1 == tp), None), tp.hex().upper()


def _check_claims(cfg, claims, client_id, audiences, err):
    """Entra's checks of the claims, in its order; None if they pass."""
    if claims.get("aud") not in audiences:
        return err(401, "invalid_client", 700023,
                   "Client assertion audience claim does not match Realm issuer. Review the documentation at %s ."
                   % CERT_DOC)
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return err(401, "invalid_client", 700021,
                   "Client assertion application identifier doesn't match 'client_id' parameter. Review the "
                   "documentation at %s ." % CERT_DOC)
    now = cfg.now()
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int) or not (nbf - CLOCK_SKEW_S <= now < exp + CLOCK_SKEW_S):
        return err(401, "invalid_client", 700024,
                   "Client assertion is not within its valid time range. Current time: %s, assertion valid from "
                   "%s, expiry time of assertion %s. Review the documentation at %s ."
                   % (_stamp(now), _stamp(nbf) if isinstance(nbf, int) else "?",
                      _stamp(exp) if isinstance(exp, int) else "?", CERT_DOC))
    jti = claims.get("jti")
    for k in [k for k, e in cfg.seen_jti.items() if e + CLOCK_SKEW_S < now]:
        del cfg.seen_jti[k]
    if not isinstance(jti, str) or not jti or jti in cfg.seen_jti:
        return err(401, "invalid_client", 50013,
                   "Assertion is invalid: its jti was presented before (a replayed client assertion).")
    cfg.seen_jti[jti] = exp
    return None


def check_federated(cfg, assertion, err):
    """A workload identity's assertion: the token file's current content."""
    current = read_token_file(cfg)
    if current is not None and assertion == current:
        return None
    if assertion in cfg.federated_seen:
        return err(401, "invalid_client", 700024,
                   "Client assertion is not within its valid time range. Current time: %s, the token file has "
                   "been rotated since this token was issued." % _stamp(cfg.now()))
    return err(401, "invalid_client", 70021,
               "No matching federated identity record found for presented assertion.")


def check_assertion(cfg, form, client_id, audiences, err):
    """The client assertion of a token request; None if Entra would accept it.
    err(status, error, code, text) builds Entra's error answer."""
    if form.get("client_assertion_type") != JWT_BEARER:
        return err(400, "invalid_request", 900144,
                   "The request body must contain the following parameter: 'client_assertion_type'.")
    assertion = form.get("client_assertion", "")
    parts = assertion.split(".")
    header = claims = sig = None
    try:
        header = json.loads(b64url_decode(parts[0])) if len(parts) == 3 else None
        claims = json.loads(b64url_decode(parts[1])) if header is not None else None
        sig = b64url_decode(parts[2]) if header is not None else None
    except (ValueError, UnicodeDecodeError):
        header = None
    certificate = isinstance(header, dict) and ("x5t" in header or "x5t#S256" in header)
    if not certificate and cfg.federated_token_file:
        return check_federated(cfg, assertion, err)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return err(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
    cert, thumb = _find_certificate(cfg, header)
    if cert is None:
        return err(401, "invalid_client", 700027,
                   "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint "
                   "of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS "
                   "Graph to see configured keys for app Id '%s'.]" % (thumb[:64], client_id))
    if header.get("alg") not in ("PS256", "RS256") or \
            not _verify_signature(cert, header["alg"], (parts[0] + "." + parts[1]).encode(), sig):
        return err(401, "invalid_client", 700027,
                   "Client assertion contains an invalid signature. [Reason - The provided signature value did not "
                   "match the expected signature value., Thumbprint of key used by client: '%s']" % thumb[:64])
    refused = _check_claims(cfg, claims, client_id, audiences, err)
    if refused is None:
        cfg.last = (dict(form), client_id, audiences)
        cfg.summary = {"alg": header.get("alg"), "typ": header.get("typ"),
                       "thumbprint": "x5t#S256" if "x5t#S256" in header else "x5t",
                       "claims": sorted(claims), "aud_is_token_url": claims.get("aud") in audiences,
                       "iat_is_nbf": claims.get("iat") == claims.get("nbf"),
                       "lifetime_s": claims["exp"] - claims["nbf"]}
    return refused


def replay_last(cfg, err):
    """Send the last accepted certificate assertion again, as a thief would: Entra's answer."""
    if cfg.last is None:
        return None
    form, client_id, audiences = cfg.last
    return check_assertion(cfg, form, client_id, audiences, err)


def _query(query):
    out = {}
    for part in (query or "").split("&"):
        if part:
            k, _, v = part.partition("=")
            out.setdefault(unquote(k), unquote(v))
    return out


def _pick_identity(cfg, q, resource_id_param):
    """The identity a managed identity request picks, or None if there is none such."""
    for key, field in (("client_id", "client_id"), ("object_id", "object_id"), (resource_id_param, "resource_id")):
        if key in q:
            return next((i for i in cfg.user_identities if i.get(field) == q[key]), None)
    return {"client_id": "system-assigned"} if cfg.system_identity else None


def identity_endpoint(cfg, app_service, query, headers, resources, issue_token):
    """A managed identity's token request: (status, JSON body)."""
    q = _query(query)
    if app_service:
        if not cfg.identity_header or headers.get("X-IDENTITY-HEADER") != cfg.identity_header:
            return 401, {"error": "invalid_request",
                         "error_description": "The X-IDENTITY-HEADER header is missing or does not match."}
        version, res_param = "2019-08-01", "mi_res_id"
    else:
        if (headers.get("Metadata") or "").lower() != "true":
            return 400, {"error": "invalid_request", "error_description": "Required metadata header not specified"}
        if headers.get("X-Forwarded-For"):
            return 400, {"error": "invalid_request", "error_description": "Request came through a proxy"}
        version, res_param = "2018-02-01", "msi_res_id"
    if q.get("api-version") != version:
        return 400, {"error": "invalid_request", "error_description": "Invalid api-version: %s" % q.get("api-version")}
    if q.get("resource", "").rstrip("/") not in resources:
        return 400, {"error": "invalid_resource",
                     "error_description": "AADSTS500011: The resource principal named %s was not found in the "
                                          "tenant." % q.get("resource", "")[:200]}
    ident = _pick_identity(cfg, q, res_param)
    if ident is None:
        return 400, {"error": "invalid_request", "error_description": "Identity not found"}
    tok, lifetime = issue_token()
    now = int(time.time())
    body = {"access_token": tok, "expires_on": str(now + lifetime), "resource": q["resource"],
            "token_type": "Bearer", "client_id": ident.get("client_id", "")}
    if not app_service:
        body.update({"expires_in": str(lifetime), "ext_expires_in": str(lifetime), "not_before": str(now)})
    return 200, body


def configure(cfg, key, value):
    """Apply one /_emulator/config key; False if the key is not ours.  ValueError for a bad value."""
    if key == "client_certificates":
        if not isinstance(value, list):
            raise ValueError("client_certificates is a list of PEM texts")
        cfg.certificates = load_certificates(value)
    elif key == "clock_skew_s":
        if not isinstance(value, (int, float)):
            raise ValueError("clock_skew_s is a number of seconds")
        cfg.clock_skew_s = value
    elif key == "federated_token_file":
        if value is not None and not (isinstance(value, str) and os.path.isabs(value)):
            raise ValueError("federated_token_file is an absolute path or null")
        cfg.federated_token_file = value
        cfg.federated_seen = set()
        if value:
            read_token_file(cfg)
    elif key == "identity_header":
        if value is not None and not isinstance(value, str):
            raise ValueError("identity_header is a string or null")
        cfg.identity_header = value
    elif key == "system_identity":
        if not isinstance(value, bool):
            raise ValueError("system_identity is true or false")
        cfg.system_identity = value
    elif key == "user_identities":
        if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
            raise ValueError("user_identities is a list of {client_id, object_id, resource_id}")
        cfg.user_identities = value
    else:
        return False
    return True
