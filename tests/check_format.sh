#!/usr/bin/env bash
# ctest format_check: every tracked C++ source is as .clang-format (clang-format 14) writes it.
# Fix with: git ls-files '*.cpp' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null 2>&1; then
  echo "format_check: clang-format is not installed (packaging/install-deps.sh installs it)"
  exit 1
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "format_check: not a git work tree, so there is no list of tracked sources"
  exit 77
fi
mapfile -t sources < <(git ls-files '*.cpp' '*.h')
clang-format --dry-run -Werror "${sources[@]}"
echo "format_check: ${#sources[@]} files formatted as .clang-format says"
