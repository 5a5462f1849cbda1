#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The include graph of berth's layers (docs/architecture.md).

    base <- cgroups, netns, rootfs <- oci (runtime/) <- vps (runtime/vps/) <- cli

The link step already fails on a call into a higher layer (each layer's
*_layercheck target in CMakeLists.txt); this checks the #include lines,
which the linker cannot see (a type or macro from above):
  - a file includes only headers of its own layer or of the layers below;
  - a header outside include/berth/ is internal to its layer;
  - every public header is assigned to a layer below;
  - the folders do not include each other in a circle.
Run from anywhere; exits 1 and names each offending line."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BELOW = {
    "base": set(),
    "cgroups": {"base"},
    "netns": {"base"},
    "rootfs": {"base"},
    "oci": {"base", "cgroups", "netns", "rootfs"},
    "vps": {"base", "cgroups", "netns", "rootfs", "oci"},
    "cli": {"base", "cgroups", "netns", "rootfs", "oci", "vps"},
}
# include/berth/<name>.h -> the layer that implements it.
PUBLIC = {
    "base": "err cleanup log oci exit_code unix_socket file proc cpu_weight rmtree self_exe",
    "cgroups": "cgroup systemd",
    "netns": "netns nft",
    "rootfs": "rootfs idmap",
    "oci": "spec seccomp process state container checkpoint features tty lxcfs",
    "vps": "vps template vps_snapshot vps_migrate",
}
PUBLIC_LAYER = {f"berth/{h}.h": layer for layer, names in PUBLIC.items() for h in names.split()}
SOURCE_DIRS = ["base", "cgroups", "netns", "rootfs", "runtime", "cli", "include/berth"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    if path.startswith("include/"):
        return PUBLIC_LAYER.get(path[len("include/"):])
    if path.startswith("runtime/vps/"):
        return "vps"
    if path.startswith("runtime/"):
        return "oci"
    top = path.split("/")[0]
    return top if top in BELOW else None


def sources():
    for d in SOURCE_DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, f), ROOT)


def check_line(src, inc, problems):
    """Returns the folder the include points into, or None."""
    if inc.startswith("berth/"):
        target, header = "include/" + inc, inc
    else:
        target, header = inc, None
    src_layer, inc_layer = layer_of(src), layer_of(target)
    if header and inc_layer is None:
        problems.append(f"{src}: includes {inc}, a public header no layer owns (add it to PUBLIC)")
        return None
    if inc_layer is None:
        return None  # generated or test-only headers
    if header is None and inc_layer != src_layer:
        problems.append(f"{src}: includes {inc}, internal to the {inc_layer} layer")
    elif inc_layer != src_layer and inc_layer not in BELOW[src_layer]:
        problems.append(f"{src} ({src_layer}): includes {inc} of the {inc_layer} layer above it")
    return os.path.dirname(target)


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def main():
    problems, graph = [], {}
    for src in sources():
        if layer_of(src) is None:
            problems.append(f"{src}: in no layer")
            continue
        with open(os.path.join(ROOT, src), encoding="utf-8") as f:
            for line in f:
                m = INCLUDE.match(line)
                if not m:
                    continue
                folder = check_line(src, m.group(1), problems)
                here = os.path.dirname(src)
                if folder and folder != here and not folder.startswith("include") and not here.startswith("include"):
                    graph.setdefault(here, set()).add(folder)
    cycle = find_cycle(graph)
    if cycle:
        problems.append("folders include each other in a circle: " + " -> ".join(cycle))
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"layers: {sum(1 for _ in sources())} files, includes follow base <- cgroups, netns, rootfs <- oci <- vps <- cli")
    return 0


if __name__ == "__main__":
    sys.exit(main())
