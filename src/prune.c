/*-------------------------------------------------------------------------
 *
 * prune.c
 *		  Dropping the members of a Graph page that no column reads, before
 *		  the page is parsed.
 *
 * Graph cannot $select inside sessions, segments and media, and most of a
 * page of expanded sessions is network and device detail a query about
 * streams never reads.  Building jansson trees for it is most of what a
 * page costs, so a page is first copied without those members, by a
 * single pass that checks everything it skips as strictly as jansson
 * would (syntax, UTF-8, escapes, number ranges, nesting depth).  The pruned
 * text is then parsed as usual.  When the pass finds anything it does not
 * accept, the caller parses the original text instead, so malformed pages
 * fail with jansson's own message, exactly as without pruning.
 *
 * The pass also keeps the text of every number, which jansson would turn
 * into a double (0.07 into 0.070000000000000007, 0.00 into 0): each number
 * is handed to jansson as a string holding a NUL byte ("\u0000") and then
 * the number's text.  Graph's strings never hold a NUL (the pass refuses
 * "\u0000", as jansson does), so convert.c tells the two apart.  Without
 * a spec (pruning off, or a page of another shape) the pass only does
 * that, keeping every member.
 *
 * The nesting limit is jansson's, counted as jansson counts it (every
 * value, scalars too, at most CR_JSON_MAX_DEPTH deep), so that a page the
 * pass accepts is one jansson accepts whole, pruned or not.
 *
 * Kept are: the members the spec names for an object's level (the first
 * component of each column's path), every member of a level whose whole
 * object is read, annotations ("@odata.type", "sessions@odata.nextLink"),
 * keys written with escapes (never guessed at), and the child collections
 * the scan walks, which are pruned in turn.
 *
 * Portions Copyright (c) 2026, callrecords_fdw developers
 *
 * IDENTIFICATION
 *		  src/prune.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "cr_common.h"

#include <errno.h>
#include <math.h>

#include "mb/pg_wchar.h"
#include "scan_int.h"

/*
 * jansson's JSON_PARSER_MAX_DEPTH: the root value is at depth 1, and no
 * value (a scalar or an empty container included) may lie deeper.
 */
#define CR_JSON_MAX_DEPTH 2048

typedef struct PruneState
{
	const char *p;
	const char *end;
	int			depth;
	StringInfo	out;
	const CrPruneSpec *spec;	/* NULL: keep every member */
	int64		marked;			/* bytes the number marks added */
} PruneState;

static bool skip_value(PruneState *ps);
static bool prune_array(PruneState *ps, CrLevel level);

static void
skip_space(PruneState *ps)
{
	while (ps->p < ps->end &&
		   (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A \uXXXX escape at ps->p (after the backslash and 'u'); its code unit. */
static int
read_u_escape(PruneState *ps)
{
	int			v = 0;
	int			i;

	if (ps->end - ps->p < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int			h = hex_value(ps->p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	ps->p += 4;
	return v;
}

/*
 * Whether eight bytes of a string need no look: none is a quote, a
 * backslash, a control character or part of a multibyte character.  Most
 * of a page is plain strings, and looking at them a byte at a time was a
 * quarter of a scan's CPU.  (Each test is exact for "some byte is":
 * x - 0x01.. & ~x & 0x80.. is set where a byte of x is zero or, for
 * w - 0x20.., below 0x20.)
 */
static inline bool
plain_word(const char *p)
{
	const uint64 ones = UINT64CONST(0x0101010101010101);
	const uint64 highs = UINT64CONST(0x8080808080808080);
	uint64		w;
	uint64		q;
	uint64		b;

	memcpy(&w, p, sizeof(w));
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	return ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w) | w) & highs) == 0;
}

/*
 * Move past a string at ps->p (on its opening quote), checking it as
 * jansson does: no raw control characters, valid escapes, no \u0000, no
 * lone surrogates, valid UTF-8.  *escaped tells whether it had escapes.
 */
static bool
skip_string(PruneState *ps, bool *escaped)
{
	*escaped = false;
	ps->p++;
	while (ps->p < ps->end)
	{
		unsigned char c;

		while (ps->end - ps->p >= 8 && plain_word(ps->p))
			ps->p += 8;
		if (ps->p >= ps->end)
			break;
		c = (unsigned char) *ps->p;

		if (c == '"')
		{
			ps->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\')
		{
			*escaped = true;
			if (++ps->p >= ps->end)
				return false;
			c = (unsigned char) *ps->p++;
			if (c == 'u')
			{
				int			v = read_u_escape(ps);

				if (v <= 0 || (v >= 0xDC00 && v <= 0xDFFF))
					return false;
				if (v >= 0xD800 && v <= 0xDBFF)
				{
					if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
						return false;
					ps->p += 2;
					v = read_u_escape(ps);
					if (v < 0xDC00 || v > 0xDFFF)
						return false;
				}
			}
			else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
				return false;
			continue;
		}
		if (c >= 0x80)
		{
			int			len = pg_utf_mblen(&c);

			if (ps->end - ps->p < len ||
				!pg_utf8_islegal((const unsigned char *) ps->p, len))
				return false;
			ps->p += len;
			continue;
		}
		ps->p++;
	}
	return false;
}

static bool
skip_digits(PruneState *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > start;
}

/*
 * Whether the number text jansson would refuse: an integer beyond 64 bits
 * or a real beyond a double (it keeps reals that underflow).
 */
static bool
number_out_of_range(const char *start, size_t len, bool integer)
{
	char		buf[64];
	char	   *text;
	bool		out;

	/*
	 * Graph's numbers are short: 18 digits are within 64 bits, and a real
	 * without an exponent needs 309 digits to pass a double's range, so
	 * only the rare others cost a conversion (strtod was a tenth of a
	 * scan's CPU).
	 */
	if (integer ? len <= 18 :
		len < 300 && memchr(start, 'e', len) == NULL && memchr(start, 'E', len) == NULL)
		return false;
	text = len < sizeof(buf) ? buf : palloc(len + 1);

	memcpy(text, start, len);
	text[len] = '\0';
	errno = 0;
	if (integer)
	{
		(void) strtoll(text, NULL, 10);
		out = errno == ERANGE;
	}
	else
	{
		double		d = strtod(text, NULL);

		out = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
	}
	if (text != buf)
		pfree(text);
	return out;
}

/* A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
skip_number(PruneState *ps)
{
	const char *start = ps->p;
	bool		integer = true;

	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
	{
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			return false;
	}
	else if (!skip_digits(ps))
		return false;
	if (ps->p < ps->end && *ps->p == '.')
	{
		ps->p++;
		integer = false;
		if (!skip_digits(ps))
			return false;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
	{
		ps->p++;
		integer = false;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!skip_digits(ps))
			return false;
	}
	return !number_out_of_range(start, ps->p - start, integer);
}

static bool
skip_literal(PruneState *ps, const char *word)
{
	size_t		len = strlen(word);

	if ((size_t) (ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
		return false;
	ps->p += len;
	return true;
}

/*
 * Step into the object or array at ps->p.  *empty: it closed at once (and
 * is left behind).  False past jansson's depth limit.
 */
static bool
open_container(PruneState *ps, char close, bool *empty)
{
	if (++ps->depth > CR_JSON_MAX_DEPTH)
		return false;
	ps->p++;
	skip_space(ps);
	*empty = ps->p < ps->end && *ps->p == close;
	if (*empty)
	{
		ps->p++;
		ps->depth--;
	}
	/* the elements of a container lie one deeper than it */
	else if (ps->depth >= CR_JSON_MAX_DEPTH)
		return false;
	return true;
}

/*
 * After an element of a container: a comma (*more, another element
 * follows) or the closing bracket (*more false, the container is left).
 */
static bool
next_element(PruneState *ps, char close, bool *more)
{
	skip_space(ps);
	if (ps->p >= ps->end)
		return false;
	*more = *ps->p == ',';
	if (!*more && *ps->p != close)
		return false;
	ps->p++;
	if (*more)
		skip_space(ps);
	else
		ps->depth--;
	return true;
}

/* A member's key (its text, quotes included) and the colon after it. */
static bool
read_key(PruneState *ps, const char **key, size_t *keylen, bool *escaped)
{
	*key = ps->p;
	if (ps->p >= ps->end || *ps->p != '"' || !skip_string(ps, escaped))
		return false;
	*keylen = ps->p - *key;
	skip_space(ps);
	if (ps->p >= ps->end || *ps->p++ != ':')
		return false;
	skip_space(ps);
	return true;
}

/* Move past an object or array at ps->p, checking its syntax. */
static bool
skip_container(PruneState *ps, char close)
{
	bool		empty;
	bool		more = true;

	if (!open_container(ps, close, &empty))
		return false;
	while (!empty && more)
	{
		const char *key;
		size_t		keylen;
		bool		escaped;

		if (close == '}' && !read_key(ps, &key, &keylen, &escaped))
			return false;
		if (!skip_value(ps) || !next_element(ps, close, &more))
			return false;
	}
	return true;
}

/* Move past any value at ps->p, checking its syntax. */
static bool
skip_value(PruneState *ps)
{
	bool		escaped;

	if (ps->p >= ps->end)
		return false;
	switch (*ps->p)
	{
		case '{':
			return skip_container(ps, '}');
		case '[':
			return skip_container(ps, ']');
		case '"':
			return skip_string(ps, &escaped);
		case 't':
			return skip_literal(ps, "true");
		case 'f':
			return skip_literal(ps, "false");
		case 'n':
			return skip_literal(ps, "null");
		default:
			if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
				return skip_number(ps);
			return false;
	}
}

/*
 * Append checked JSON text to the output with each number marked: written
 * as a string holding a NUL and the number's text, which convert.c reads
 * back.  Strings are copied as they are.
 */
static void
append_marked(PruneState *ps, const char *p, const char *end)
{
	const char *run = p;
	bool		in_string = false;

	while (p < end)
	{
		char		c = *p;

		if (in_string)
		{
			if (c == '\\')
				p++;
			else if (c == '"')
				in_string = false;
			p++;
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '-' || (c >= '0' && c <= '9'))
		{
			const char *num = p;

			appendBinaryStringInfo(ps->out, run, num - run);
			while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' ||
							   *p == '.' || *p == 'e' || *p == 'E'))
				p++;
			appendStringInfoString(ps->out, "\"\\u0000");
			appendBinaryStringInfo(ps->out, num, p - num);
			appendStringInfoChar(ps->out, '"');
			ps->marked += 8;
			run = p;
			continue;
		}
		p++;
	}
	appendBinaryStringInfo(ps->out, run, end - run);
}

/* Copy the value at ps->p to the output (after checking it), numbers marked. */
static bool
copy_value(PruneState *ps)
{
	const char *start = ps->p;

	if (!skip_value(ps))
		return false;
	append_marked(ps, start, ps->p);
	return true;
}

/* Whether a member key (without its quotes) is kept whole at level. */
static bool
key_is_kept(const CrPruneSpec *spec, CrLevel level, const char *key, size_t len)
{
	ListCell   *lc;

	if (spec->keep_all[level] || memchr(key, '@', len) != NULL)
		return true;
	foreach(lc, spec->keep[level])
	{
		const char *k = lfirst(lc);

		if ((len == 0 || k[0] == key[0]) && strlen(k) == len && memcmp(k, key, len) == 0)
			return true;
	}
	return false;
}

/*
 * The walked child level whose collection an object at level holds under
 * key.  Asked for nearly every member a scan skips, so the catalogue's
 * child keys, their lengths and parents are looked up once per backend.
 */
static CrLevel
walked_child(const CrPruneSpec *spec, CrLevel level, const char *key, size_t len)
{
	static const char *child_key[CR_NUM_LEVELS];
	static size_t child_len[CR_NUM_LEVELS];
	static CrLevel parent[CR_NUM_LEVELS];
	static bool known = false;
	CrLevel		l;

	if (!known)
	{
		for (l = 0; l < CR_NUM_LEVELS; l++)
		{
			child_key[l] = cr_child_key(l);
			child_len[l] = child_key[l] ? strlen(child_key[l]) : 0;
			parent[l] = cr_parent_level(l);
		}
		known = true;
	}
	for (l = 0; l < CR_NUM_LEVELS; l++)
		if (spec->walked[l] && parent[l] == level && child_key[l] != NULL &&
			child_len[l] == len && memcmp(child_key[l], key, len) == 0)
			return l;
	return CR_NO_LEVEL;
}

/* What becomes of a member of an object being pruned. */
typedef enum MemberAction
{
	MEMBER_SKIP,
	MEMBER_COPY,				/* unchanged */
	MEMBER_PRUNE				/* a walked collection: its objects pruned too */
} MemberAction;

/*
 * The fate of the member whose value is at ps->p, in an object at level
 * (or, at CR_NO_LEVEL, a collection page whose "value" holds objects of
 * value_level and whose other members are kept).  *child is the level of
 * a collection to prune.
 */
static MemberAction
member_action(PruneState *ps, CrLevel level, CrLevel value_level,
			  const char *key, size_t keylen, bool escaped, CrLevel *child)
{
	const char *name = key + 1;	/* without the quotes */
	size_t		len = keylen - 2;

	*child = CR_NO_LEVEL;
	if (escaped || ps->spec == NULL)
		return MEMBER_COPY;
	if (level == CR_NO_LEVEL)
		*child = (len == 5 && memcmp(name, "value", 5) == 0) ? value_level : CR_NO_LEVEL;
	else if (key_is_kept(ps->spec, level, name, len))
		return MEMBER_COPY;
	else
		*child = walked_child(ps->spec, level, name, len);
	if (*child != CR_NO_LEVEL)
		return (ps->p < ps->end && *ps->p == '[') ? MEMBER_PRUNE : MEMBER_COPY;
	return level == CR_NO_LEVEL ? MEMBER_COPY : MEMBER_SKIP;
}

/*
 * Copy the object at ps->p, which is at level, keeping what the spec
 * keeps and pruning the walked child collections.  A collection page's
 * object (level CR_NO_LEVEL) keeps everything and prunes its "value" as
 * objects of value_level.
 */
static bool
prune_object(PruneState *ps, CrLevel level, CrLevel value_level)
{
	bool		empty;
	bool		more = true;
	bool		first = true;

	if (!open_container(ps, '}', &empty))
		return false;
	appendStringInfoChar(ps->out, '{');
	while (!empty && more)
	{
		const char *key;
		size_t		keylen;
		bool		escaped;
		CrLevel		child;
		MemberAction action;
		bool		ok;

		if (!read_key(ps, &key, &keylen, &escaped))
			return false;
		action = member_action(ps, level, value_level, key, keylen, escaped, &child);
		if (action != MEMBER_SKIP)
		{
			if (!first)
				appendStringInfoChar(ps->out, ',');
			appendBinaryStringInfo(ps->out, key, keylen);
			appendStringInfoChar(ps->out, ':');
			first = false;
		}
		ok = action == MEMBER_COPY ? copy_value(ps) :
			action == MEMBER_PRUNE ? prune_array(ps, child) : skip_value(ps);
		if (!ok || !next_element(ps, '}', &more))
			return false;
	}
	appendStringInfoChar(ps->out, '}');
	return true;
}

/* Copy the array at ps->p, pruning its objects as objects of level. */
static bool
prune_array(PruneState *ps, CrLevel level)
{
	bool		empty;
	bool		more = true;
	bool		first = true;

	if (!open_container(ps, ']', &empty))
		return false;
	appendStringInfoChar(ps->out, '[');
	while (!empty && more)
	{
		bool		ok;

		if (!first)
			appendStringInfoChar(ps->out, ',');
		first = false;
		ok = (ps->p < ps->end && *ps->p == '{') ? prune_object(ps, level, CR_NO_LEVEL) :
			copy_value(ps);
		if (!ok || !next_element(ps, ']', &more))
			return false;
	}
	appendStringInfoChar(ps->out, ']');
	return true;
}

/*
 * The page text without what no column reads, numbers marked, into out;
 * *marked is what the marks added.  The page is a call record with its
 * expanded children (root_level CR_LEVEL_RECORD) or a collection whose
 * "value" holds objects of root_level; without a spec, any object, kept
 * whole.  Returns false, with out in no defined state, when the text is
 * not JSON the pass accepts; the caller then parses the original.
 */
bool
cr_prune_page(const CrPruneSpec *spec, CrLevel root_level, bool collection,
			  const char *text, size_t len, StringInfo out, int64 *marked)
{
	PruneState	ps;

	ps.p = text;
	ps.end = text + len;
	ps.depth = 0;
	ps.out = out;
	ps.spec = spec;
	ps.marked = 0;
	skip_space(&ps);
	if (ps.p >= ps.end || *ps.p != '{')
		return false;
	if (!(collection ? prune_object(&ps, CR_NO_LEVEL, root_level) :
		  prune_object(&ps, root_level, CR_NO_LEVEL)))
		return false;
	skip_space(&ps);
	*marked = ps.marked;
	return ps.p == ps.end;
}
