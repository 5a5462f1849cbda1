#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""No two source files (and no two folders) of berth call each other in a
circle: a helper placed in the wrong file shows up as one. Reads the
symbols of the layer libraries' object files in a build directory with nm
(defined T/D/B/R against undefined U) and reports every strongly connected
group of files, and of folders, with the symbols that tie them.

    scripts/check-call-circles.py BUILD_DIR        (exits 1 on a circle)"""
import collections
import glob
import os
import subprocess
import sys


def objects(build):
    pattern = os.path.join(build, "CMakeFiles", "berth_*.dir", "**", "*.o")
    return [o for o in glob.glob(pattern, recursive=True) if "_layercheck.dir" not in o]


def source_of(obj):
    rel = obj.split(".dir" + os.sep, 1)[1][: -len(".o")]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))).lstrip(os.sep)
    return rel[len(root) + 1:] if rel.startswith(root + os.sep) else rel


def call_graph(objs):
    defined, undefined = {}, collections.defaultdict(set)
    for o in objs:
        src = source_of(o)
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDBR":
                defined[f[2]] = src
            elif len(f) == 2 and f[0] == "U":
                undefined[src].add(f[1])
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for src, syms in undefined.items():
        for s in syms:
            dst = defined.get(s)
            if dst and dst != src:
                edges[src][dst].add(s)
    return edges


def circles(edges):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def by_folder(edges):
    folders = collections.defaultdict(lambda: collections.defaultdict(set))
    for a, dsts in edges.items():
        for b, syms in dsts.items():
            fa, fb = os.path.dirname(a), os.path.dirname(b)
            if fa != fb:
                folders[fa][fb] |= syms
    return folders


def report(kind, edges):
    found = circles(edges)
    for comp in found:
        print(f"{kind} calling each other in a circle: {' '.join(comp)}")
        for a in comp:
            for b in comp:
                if b in edges.get(a, {}):
                    print(f"  {a} -> {b}: {', '.join(sorted(edges[a][b])[:4])}")
    return len(found)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip())
        return 2
    objs = objects(sys.argv[1])
    if not objs:
        print(f"no layer objects under {sys.argv[1]}: build first")
        return 2
    edges = call_graph(objs)
    n = report("files", edges) + report("folders", by_folder(edges))
    if n:
        return 1
    print(f"call graph: {len(objs)} objects, no file or folder calls another in a circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
