#!/usr/bin/env python3
"""Check that every call and #include in callrecords_fdw goes one way: down.

The layers are written in one place, the table in src/README.md: one row
per layer, listed bottom (ground) to top (the FDW wiring), each with its
files, in the same order: a .c file stands above the .c files listed before
it in its own row, and above every file of the rows before.  A header
belongs to its row's layer as a whole: any file of that layer or above may
include it.  This script reads
that table, reads every C file of the extension (src/*.c, src/*.h and
callrecords_fdw.c) with its comments and strings blanked out, and finds:

  - the functions and variables each .c file defines for the others (not
    static), the ones it uses (a call, or a use as a function pointer or
    variable: any mention of a name another file defines), and the project
    headers it includes;
  - the functions each header declares.

It fails (exit 1) on each of these, printed as `file -> file: name`:

  - a file that uses a name defined by a file placed above it (in a higher
    layer, or later in its own row);
  - a file that includes a header of a higher layer;
  - a header that declares a function of a file of a higher layer (it
    would hand an upward call to whoever includes it), or uses one;
  - two files that use each other (a loop), whatever their places;
  - a C file of the extension missing from the table, or listed twice.

A file named in the table but absent (a file on its way in another branch)
is shown as such and is no offence.

Options: --loops prints the pairs of files that use each other, and the
longer cycles of uses, and exits 1 if there are any (it needs no table);
--graph prints every file's uses; --root DIR checks another checkout (the
table too is read from DIR/src/README.md).  Python 3 standard library only.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
            name = re.sub(r"^\d+\.\s*", "", re.sub(r"[*`]", "", cells[0]).strip())
            layers.append((name, [os.path.basename(x) for x in files]))
    if not layers:
        sys.exit("check_layers: no layer table (a row starting `| layer |`) in " + path)
    return layers


def project_files(root):
    """Every C file of the extension, by base name, with its path."""
    files = {"callrecords_fdw.c": os.path.join(root, "callrecords_fdw.c")}
    src = os.path.join(root, "src")
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


def cycles(edges):
    """The cycles of uses longer than a pair: each strongly connected set of
    more than two files (Tarjan), where every file reaches every other
    through uses."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 2:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def print_loops(edges):
    """The pairs of files that use each other, and the longer cycles."""
    loops = sorted({tuple(sorted(k)) for k in edges if (k[1], k[0]) in edges})
    for a, b in loops:
        print("%s <-> %s: %s | %s" % (a, b, ", ".join(sorted(edges[(a, b)])),
                                      ", ".join(sorted(edges[(b, a)]))))
    comps = cycles(edges)
    for comp in comps:
        inner = ["%s -> %s" % (a, b) for (a, b) in sorted(edges) if a in comp and b in comp]
        print("cycle among %s: %s" % (", ".join(comp), "; ".join(inner)))
    print("%d pair(s) of files use each other; %d cycle(s) of more than two files"
          % (len(loops), len(comps)))
    return 1 if loops or comps else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loops", action="store_true",
                    help="print only the pairs of files that use each other, and longer cycles")
    ap.add_argument("--graph", action="store_true",
                    help="print every file's uses of other files")
    ap.add_argument("--root", default=ROOT, help="the checkout to check")
    args = ap.parse_args()

    files = project_files(args.root)
    info = analyse(files)
    edges, owner = uses(info)

    if args.loops:
        return print_loops(edges)
    if args.graph:
        for (a, b), syms in sorted(edges.items()):
            print("%s -> %s: %s" % (a, b, ", ".join(sorted(syms))))
        return 0

    table = os.path.join(args.root, "src", "README.md")
    layers = read_table(table)
    rank, layer_of = {}, {}
    offences = []
    for li, (lname, lfiles) in enumerate(layers):
        for fname in lfiles:
            if fname in rank:
                offences.append("%s: listed twice in the layer table" % fname)
            rank[fname] = len(rank)
            layer_of[fname] = li

    print("Layers (src/README.md), bottom first; a file may use the files before it:")
    for li, (lname, lfiles) in enumerate(layers):
        shown = [f if f in files else f + " (not present)" for f in lfiles]
        print("  %d. %-18s %s" % (li + 1, lname + ":", ", ".join(shown)))

    for fname in sorted(files):
        if fname not in rank:
            offences.append("%s: not in the layer table" % fname)
    placed = set(rank) & set(files)
    for (a, b), syms in sorted(edges.items()):
        if a not in placed or b not in placed:
            continue
        upward = layer_of[b] > layer_of[a] if a.endswith(".h") else rank[b] > rank[a]
        if upward:
            for sym in sorted(syms):
                offences.append("%s -> %s: %s (%s)" % (a, b, sym, where(a, b, layer_of, layers)))
    for a, d in sorted(info.items()):
        if a not in placed:
            continue
        for inc in d["includes"]:
            if inc in placed and layer_of[inc] > layer_of[a]:
                offences.append("%s -> %s: #include (%s)" % (a, inc, where(a, inc, layer_of, layers)))
        if a.endswith(".h"):
            for sym in sorted(d["declared"]):
                o = owner.get(sym)
                if o in placed and layer_of[o] > layer_of[a]:
                    offences.append("%s -> %s: %s declared (%s)" % (a, o, sym, where(a, o, layer_of, layers)))
    loops = sorted({tuple(sorted(k)) for k in edges if (k[1], k[0]) in edges})
    for a, b in loops:
        offences.append("%s <-> %s: loop: %s | %s" % (a, b, ", ".join(sorted(edges[(a, b)])),
                                                      ", ".join(sorted(edges[(b, a)]))))

    by_layer = {}
    for o in offences:
        print(o)
        first = re.match(r"[\w.]+", o).group(0)
        if first in layer_of:
            name = layers[layer_of[first]][0]
            by_layer[name] = by_layer.get(name, 0) + 1
    print("check_layers: %d files in %d layers, %d file-to-file uses, %d loop(s), %d offence(s)%s: %s" %
          (len(placed), len(layers), len(edges), len(loops), len(offences),
           " (%s)" % ", ".join("%s: %d" % kv for kv in by_layer.items()) if by_layer else "",
           "FAILED" if offences else "ok"))
    return 1 if offences else 0


def where(a, b, layer_of, layers):
    """How the used file stands to the user, for an offence."""
    if layer_of[a] == layer_of[b]:
        return "%s is listed after %s in %s" % (b, a, layers[layer_of[a]][0])
    return "%s uses %s" % (layers[layer_of[a]][0], layers[layer_of[b]][0])


if __name__ == "__main__":
    sys.exit(main())
