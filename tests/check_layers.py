#!/usr/bin/env python3
"""ctest layer_check: no source includes a header of a module above it or beside it.

The order is the one docs/DEVELOPING.md ("Dependency order") writes down; LAYERS below is that table. A module may
include its own headers and those of the modules on lower levels, never one on its own level or above. Tests,
benchmarks and fuzz targets may include anything.
"""
import os
import re
import subprocess
import sys

# Bottom to top. "core" is the files at core/'s root (result.h, atomicfile.h, jsonwriter.h, ...).
LAYERS = [
    ["core"],
    ["core/runfolder", "core/gpu"],
    ["core/spec", "core/store"],
    ["core/query", "core/ingest", "core/tracking", "core/report", "core/perf"],
    ["core/launch"],
    ["core/queue"],
    ["ui/models"],
    ["ui/views"],
    ["ui"],
    ["app/cli"],
    ["app"],
]
LEVEL = {module: level for level, modules in enumerate(LAYERS) for module in modules}
CORE_MODULES = {m.split("/", 1)[1] for m in LEVEL if m.startswith("core/")}
UI_MODULES = {m.split("/", 1)[1] for m in LEVEL if m.startswith("ui/")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of_file(path):
    folder = os.path.dirname(path)
    return folder if folder in LEVEL else None


def module_of_include(including_file, header):
    """The module a quoted include names, or None for generated and local files outside the table."""
    first, _, rest = header.partition("/")
    if not rest:
        if os.path.exists(os.path.join(os.path.dirname(including_file), header)):
            return module_of_file(including_file)  # a file beside it: its own module
        if os.path.exists(os.path.join("core", header)):
            return "core"
        return None  # generated (trainyard_version.h, tensorboard.pb.h) or a .moc file
    if first in CORE_MODULES:
        return "core/" + first
    if first in UI_MODULES:
        return "ui/" + first
    if first == "cli":
        return "app/cli"
    return None


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    try:
        listed = subprocess.run(["git", "ls-files", "*.cpp", "*.h"], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        print("layer_check: not a git work tree, so there is no list of tracked sources")
        return 77
    files = [f for f in listed.stdout.split() if module_of_file(f)]
    problems = []
    for path in files:
        own = module_of_file(path)
        with open(path, encoding="utf-8") as source:
            for number, line in enumerate(source, 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = module_of_include(path, match.group(1))
                if target is None or target == own:
                    continue
                if LEVEL[target] >= LEVEL[own]:
                    where = "above" if LEVEL[target] > LEVEL[own] else "beside"
                    problems.append(f'{path}:{number}: {own} includes "{match.group(1)}" of {target}, {where} it')
    for problem in problems:
        print(problem)
    if problems:
        print(f"layer_check: {len(problems)} include(s) against the dependency order in docs/DEVELOPING.md")
        return 1
    print(f"layer_check: {len(files)} files include only their own module and the ones below it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
