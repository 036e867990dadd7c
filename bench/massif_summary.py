#!/usr/bin/env python3
"""Summarises a massif heap profile: where the live heap of a detailed snapshot was allocated.

Each allocation is attributed to the innermost `gateway::` function on its stack (the one closest
to the allocation), skipping serde's derived code, so the parsed document shows as
`Snapshot::parse` and the lookup tables as the compile step that built them. Prints one
`bytes<TAB>function` line per function, largest first, after `total`, `useful` and `peak` lines.

Usage: massif_summary.py MASSIF_FILE [SNAPSHOT_INDEX]   (default: the last detailed snapshot)
"""

import re
import sys
from collections import defaultdict

NODE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")
FRAME = re.compile(r"^0x[0-9A-Fa-f]+: (.*?)(?: \(in [^)]*\))?$")


def main() -> None:
    path = sys.argv[1]
    wanted = int(sys.argv[2]) if len(sys.argv) > 2 else None
    snapshots = read_snapshots(path)
    peak = max(snapshot["heap"] + snapshot["extra"] for snapshot in snapshots)
    detailed = [snapshot for snapshot in snapshots if snapshot["tree"]]
    if not detailed:
        sys.exit("no detailed snapshot")
    chosen = detailed[-1] if wanted is None else next(s for s in snapshots if s["index"] == wanted)
    print(f"total\t{chosen['heap'] + chosen['extra']}")
    print(f"useful\t{chosen['heap']}")
    print(f"peak\t{peak}")
    for function, size in sorted(attribute(chosen["tree"]).items(), key=lambda item: -item[1]):
        print(f"{size}\t{function}")


def read_snapshots(path: str) -> list:
    snapshots = []
    current = None
    with open(path, errors="replace") as file:
        for line in file:
            line = line.rstrip("\n")
            if line.startswith("snapshot="):
                current = {"index": int(line.split("=")[1]), "heap": 0, "extra": 0, "tree": []}
                snapshots.append(current)
            elif current is None:
                continue
            elif line.startswith("mem_heap_B="):
                current["heap"] = int(line.split("=")[1])
            elif line.startswith("mem_heap_extra_B="):
                current["extra"] = int(line.split("=")[1])
            elif NODE.match(line):
                current["tree"].append(line)
    return snapshots


def attribute(tree: list) -> dict:
    """Bytes per innermost gateway function, from the leaves of a massif heap tree."""
    totals = defaultdict(int)
    stack = []  # function names from the allocation function outwards
    for line in tree:
        indent, n_children, size, label = NODE.match(line).groups()
        depth = len(indent)
        frame = FRAME.match(label)
        del stack[depth:]
        stack.append(frame.group(1) if frame else label)
        if int(n_children) == 0 and int(size) > 0:
            totals[owner(stack)] += int(size)
    return totals


def owner(stack: list) -> str:
    for function in stack[1:]:
        if function.startswith("gateway::") and "::_::" not in function:
            return clean(function)
        if function.startswith("<gateway::") and "::_::" not in function:
            return clean(function)
    return "(no gateway function on the stack: start-up, runtime, libraries)"


def clean(function: str) -> str:
    previous = None
    while previous != function:
        previous = function
        function = re.sub(r"([\w\]])<[^<>]*>", r"\1", function)
    return function


if __name__ == "__main__":
    main()
