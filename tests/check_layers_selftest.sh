#!/usr/bin/env bash
# ctest layer_check_selftest: layer_check finds an include from a module above and one from beside, and passes a
# tree that keeps the order (a scratch git repository with a copy of the script).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
git init -q .
mkdir -p tests core/spec core/launch core/store
cp "$here/check_layers.py" tests/
printf '#pragma once\n' > core/result.h
printf '#pragma once\n#include "result.h"\n' > core/spec/spec.h
printf '#pragma once\n#include "spec/spec.h"\n' > core/launch/launcher.h
printf '#pragma once\n' > core/store/db.h
git add -A
if ! python3 tests/check_layers.py; then echo "FAIL: an ordered tree was refused"; exit 1; fi
printf '#pragma once\n#include "launch/launcher.h"\n' > core/store/db.h
printf '#include "spec/spec.h"\n' > core/store/db.cpp
git add -A
set +e
out="$(python3 tests/check_layers.py)"
rc=$?
set -e
echo "$out"
[ "$rc" -eq 1 ] || { echo "FAIL: expected exit 1, got $rc"; exit 1; }
grep -q 'core/store/db.h:2: core/store includes "launch/launcher.h" of core/launch, above it' <<<"$out" || { echo "FAIL: the include from above is not named"; exit 1; }
grep -q 'core/store/db.cpp:1: core/store includes "spec/spec.h" of core/spec, beside it' <<<"$out" || { echo "FAIL: the include from beside is not named"; exit 1; }
echo "layer_check_selftest: both caught, with file, line and modules"
