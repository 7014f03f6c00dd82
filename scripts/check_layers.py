#!/usr/bin/env python3
"""Check that every call and #include in callrecords_fdw goes one way: down.

The layers are written in one place, the table in src/README.md: one row
per layer, listed bottom (ground) to top (the FDW wiring), each with its
files, in the same order: a file stands above the files listed before it in
its own row, and above every file of the rows before.  This script reads
that table, reads every C file of the extension (src/*.c, src/*.h and
callrecords_fdw.c) with its comments and strings blanked out, and finds:

  - the functions and variables each .c file defines for the others (not
    static), the ones it uses (a call, or a use as a function pointer or
    variable: any mention of a name another file defines), and the project
    headers it includes;
  - the functions each header declares.

It fails (exit 1) on each of these, printed as `file -> file: name`:

  - a file that uses a name defined by, or includes, a file placed above it
    (in a higher layer, or later in its own row);
  - two files that use each other (a loop), whatever their places;
  - a header that declares a function of a file placed above it (the
    header would hand an upward call to whoever includes it);
  - a C file of the extension missing from the table.

Options: --loops prints only the pairs of files that use each other (and
exits 1 if there are any); --graph prints every file's uses.  Python 3
standard library only.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.environ.get("CR_LAYER_TABLE") or os.path.join(ROOT, "src", "README.md")
C_KEYWORDS = {
    "if", "for", "while", "switch", "return", "sizeof", "case", "do", "else",
    "goto", "break", "continue", "default", "typedef", "struct", "union",
    "enum", "static", "extern", "const", "volatile", "inline", "register",
}


def read_table(path):
    """The layers, bottom first: a list of (layer name, [files])."""
    layers = []
    in_table = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("|"):
                if in_table:
                    break
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not in_table:
                if cells and cells[0].lower() == "layer":
                    in_table = True
                continue
            if set(cells[0]) <= set("-: "):
                continue
            files = re.findall(r"[A-Za-z0-9_./]+\.[ch]\b", cells[1])
            name = re.sub(r"[*`]", "", cells[0]).strip()
            layers.append((name, [os.path.basename(x) for x in files]))
    if not layers:
        sys.exit("check_layers: no layer table (a row starting `| layer |`) in " + path)
    return layers


def project_files():
    """Every C file of the extension, by base name, with its path."""
    files = {"callrecords_fdw.c": os.path.join(ROOT, "callrecords_fdw.c")}
    src = os.path.join(ROOT, "src")
    for name in sorted(os.listdir(src)):
        if name.endswith((".c", ".h")):
            files[name] = os.path.join(src, name)
    return files


def strip_c(text):
    """The source with comments, strings and character literals blanked
    (line breaks kept), and the project includes found before that."""
    includes = re.findall(r'^\s*#\s*include\s+"([^"]+)"', text, re.M)
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * max(0, min(j, n) - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    code = "".join(out)
    # An #include names a file, not a use; other directives (#define
    # bodies) keep their tokens.
    code = re.sub(r"^\s*#\s*include.*$", "", code, flags=re.M)
    return code, includes


TOKEN = re.compile(r"[A-Za-z_]\w*|\S")


def scan_file(code):
    """Definitions and mentions in stripped code.

    Returns (externs, statics, declared, mentions): the non-static functions
    and variables defined at file level, the static ones, the functions
    declared by prototypes, and every other identifier with its count.
    """
    externs, statics, declared = set(), set(), set()
    mentions = {}
    # Directives (with their continuation lines) are read apart: a macro's
    # body mentions what it calls; the rest of the file is read in tokens.
    directive = re.compile(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", re.M)
    for m in directive.finditer(code):
        words = re.findall(r"[A-Za-z_]\w*", m.group(0))
        for t in words[2 if words[:1] == ["define"] else 1:]:
            if t not in C_KEYWORDS:
                mentions[t] = mentions.get(t, 0) + 1
    tokens = TOKEN.findall(directive.sub("", code))
    depth = 0
    stmt = []                   # tokens of the current file-level statement
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "{":
            if depth == 0:
                name = function_name(stmt)
                if name:
                    (statics if "static" in stmt else externs).add(name)
                    stmt = ["<body>"]
                else:
                    stmt.append("{")
            depth += 1
        elif t == "}":
            depth -= 1
            if depth == 0 and stmt == ["<body>"]:
                stmt = []
        elif depth > 0:
            # a function body, or a file-level initialiser (a table of
            # function pointers), or a struct's members
            if re.match(r"[A-Za-z_]", t) and t not in C_KEYWORDS:
                mentions[t] = mentions.get(t, 0) + 1
        elif t == ";":
            file_level_statement(stmt, externs, statics, declared, mentions)
            stmt = []
        else:
            stmt.append(t)
        i += 1
    return externs, statics, declared, mentions


def function_name(stmt):
    """The name a function definition's head defines, or None."""
    if not stmt or stmt[-1] != ")":
        return None
    level = 0
    for k in range(len(stmt) - 1, -1, -1):
        if stmt[k] == ")":
            level += 1
        elif stmt[k] == "(":
            level -= 1
            if level == 0:
                if k > 0 and re.match(r"[A-Za-z_]\w*$", stmt[k - 1]) and stmt[k - 1] not in C_KEYWORDS:
                    return stmt[k - 1]
                return None
    return None


def file_level_statement(stmt, externs, statics, declared, mentions):
    """A file-level declaration: a prototype, a variable or a typedef."""
    if not stmt or stmt[0] == "typedef" or (stmt[0] in ("struct", "union", "enum") and "{" in stmt):
        return
    if "=" in stmt and ("{" not in stmt or stmt.index("=") < stmt.index("{")):
        head, tail = stmt[:stmt.index("=")], stmt[stmt.index("=") + 1:]
        for t in tail:
            if re.match(r"[A-Za-z_]", t):
                mentions[t] = mentions.get(t, 0) + 1
    else:
        head = stmt
    if "(" in head:
        # a prototype, or a function pointer variable `T (*name) (...)`
        k = head.index("(")
        if head[k + 1:k + 2] == ["*"] and len(head) > k + 2:
            var = head[k + 2]
            if head[0] not in ("extern",):
                (statics if "static" in head else externs).add(var)
            return
        if k > 0 and re.match(r"[A-Za-z_]\w*$", head[k - 1]):
            if k == 1:
                # a macro at file level: PG_FUNCTION_INFO_V1(name)
                for t in head[2:]:
                    if re.match(r"[A-Za-z_]", t):
                        mentions[t] = mentions.get(t, 0) + 1
            else:
                declared.add(head[k - 1])
        return
    if head[0] == "extern" or len(head) < 2:
        return
    while head and head[-1] == "]":
        head = head[:head.index("[")] if "[" in head else []
    if head and re.match(r"[A-Za-z_]\w*$", head[-1]):
        (statics if "static" in head else externs).add(head[-1])


def analyse(files):
    """Per file: its includes, extern definitions, static ones, prototypes
    and mentions."""
    info = {}
    for name, path in files.items():
        with open(path, encoding="utf-8", errors="replace") as f:
            code, includes = strip_c(f.read())
        externs, statics, declared, mentions = scan_file(code)
        info[name] = dict(includes=[os.path.basename(x) for x in includes],
                          externs=externs if name.endswith(".c") else set(),
                          statics=statics, declared=declared, mentions=mentions)
    return info


def uses(info):
    """(user, owner) -> sorted names: every use of another file's name."""
    owner = {}
    for name, d in info.items():
        for sym in d["externs"]:
            owner.setdefault(sym, name)
    edges = {}
    for name, d in info.items():
        for sym in d["mentions"]:
            o = owner.get(sym)
            if o is None or o == name or sym in d["statics"]:
                continue
            edges.setdefault((name, o), set()).add(sym)
    return edges, owner


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loops", action="store_true",
                    help="print only the pairs of files that use each other")
    ap.add_argument("--graph", action="store_true",
                    help="print every file's uses of other files")
    args = ap.parse_args()

    layers = read_table(TABLE)
    files = project_files()
    info = analyse(files)
    edges, owner = uses(info)

    loops = sorted({tuple(sorted(k)) for k in edges if (k[1], k[0]) in edges})
    if args.loops:
        for a, b in loops:
            print("%s <-> %s: %s | %s" % (a, b, ", ".join(sorted(edges[(a, b)])),
                                          ", ".join(sorted(edges[(b, a)]))))
        print("%d pair(s) of files use each other" % len(loops))
        return 1 if loops else 0

    if args.graph:
        for (a, b), syms in sorted(edges.items()):
            print("%s -> %s: %s" % (a, b, ", ".join(sorted(syms))))
        return 0

    rank, layer_of = {}, {}
    r = 0
    for li, (lname, lfiles) in enumerate(layers):
        for fname in lfiles:
            if fname in rank:
                print("%s is listed twice in the table" % fname)
                return 1
            rank[fname] = r
            layer_of[fname] = li
            r += 1

    print("Layers (%s), bottom first; a file may use the files before it:" %
          os.path.relpath(TABLE, ROOT))
    for li, (lname, lfiles) in enumerate(layers):
        shown = [f if f in files else f + " (not present)" for f in lfiles]
        print("  %d. %-22s %s" % (li + 1, lname, ", ".join(shown)))

    offences = []
    for fname in sorted(files):
        if fname not in rank:
            offences.append("%s: not in the layer table" % fname)
    for (a, b), syms in sorted(edges.items()):
        if a in rank and b in rank and rank[b] > rank[a]:
            for s in sorted(syms):
                offences.append("%s -> %s: %s (%s)" % (a, b, s, where(a, b, layer_of, layers)))
    for a, d in sorted(info.items()):
        for inc in d["includes"]:
            if inc in rank and a in rank and rank[inc] > rank[a]:
                offences.append("%s -> %s: #include (%s)" % (a, inc, where(a, inc, layer_of, layers)))
        if a.endswith(".h"):
            for s in sorted(d["declared"]):
                o = owner.get(s)
                if o and a in rank and o in rank and rank[o] > rank[a]:
                    offences.append("%s -> %s: %s declared (%s)" % (a, o, s, where(a, o, layer_of, layers)))
    for a, b in loops:
        offences.append("%s <-> %s: loop: %s | %s" % (a, b, ", ".join(sorted(edges[(a, b)])),
                                                      ", ".join(sorted(edges[(b, a)]))))

    for o in offences:
        print(o)
    nfiles = sum(1 for f in files if f in rank)
    nedges = len(edges)
    print("check_layers: %d files in %d layers, %d file-to-file uses, %d loop(s), %d offence(s): %s" %
          (nfiles, len(layers), nedges, len(loops), len(offences), "FAILED" if offences else "ok"))
    return 1 if offences else 0


def where(a, b, layer_of, layers):
    """How the used file stands to the user, for an offence."""
    if layer_of[a] == layer_of[b]:
        return "later in %s" % layers[layer_of[a]][0]
    return "%s uses %s" % (layers[layer_of[a]][0], layers[layer_of[b]][0])


if __name__ == "__main__":
    sys.exit(main())
