#!/usr/bin/env bash
# Checks that every C++ file in the repository is formatted by the repository's .clang-format
# (Debian 12's clang-format 14). Prints each file that is not and how to fix it; exit 1 then.
# Exits 77 (CTest: skipped) without clang-format. Fix: tools/check_format.sh --fix
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v clang-format >/dev/null || { echo "SKIP: needs clang-format (tools/install_deps.sh)"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v node_modules)
else
  mapfile -t files < <(find common services tools tests protos -name '*.cc' -o -name '*.h' | grep -v node_modules)
fi
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  echo "check_format: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
  printf 'not formatted: %s\n' "${bad[@]}"
  echo "check_format: ${#bad[@]} of ${#files[@]} files differ from .clang-format ($(clang-format --version)); run tools/check_format.sh --fix"
  exit 1
fi
echo "check_format: all ${#files[@]} C++ files match .clang-format"
