#!/usr/bin/env bash
# Style and static checks, run by scripts/test.sh (so by CI):
#   clang-format: every C++ file as .clang-format says (fix: clang-format-16 -i FILE)
#   layering:     tests/layering/check_layering.py (also a CTest test)
#   clang-tidy:   the checks in .clang-tidy over every production source, no finding allowed
# usage: scripts/lint.sh format           clang-format and layering: no build needed, so CI
#                                         runs it first and a format slip fails in seconds
#        scripts/lint.sh tidy BUILD_DIR   clang-tidy (a configured build with compile_commands.json)
#        scripts/lint.sh BUILD_DIR        all of them
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/lint.sh format | tidy BUILD_DIR | BUILD_DIR"

lint_format() {
    local all
    mapfile -t all < <(git ls-files '*.cc' '*.h')
    echo "lint: clang-format (${#all[@]} files)"
    clang-format-16 --dry-run -Werror "${all[@]}"
    echo "lint: layering"
    python3 tests/layering/check_layering.py .
}

lint_tidy() {
    local build=$1 prod log status=0
    mapfile -t prod < <(git ls-files 'libproto/*.cc' 'libmailstore/*.cc' 'smtpd/*.cc' 'pop3d/*.cc' \
        'imapd/*.cc' 'spoold/*.cc' 'ctl/*.cc')
    echo "lint: clang-tidy (${#prod[@]} files)"
    # The compile commands are g++'s: clang 16 spells C++23 c++2b, and needs __cpp_concepts
    # raised for libstdc++ 12's std::expected (see CMakeLists.txt, POSTERN_FUZZ). Small
    # batches keep both cores busy to the end.
    log=$(mktemp)
    printf '%s\n' "${prod[@]}" | xargs -P"$(nproc)" -n4 clang-tidy-16 -p "$build" --quiet \
        --extra-arg=-std=c++2b --extra-arg=-U__cpp_concepts --extra-arg=-D__cpp_concepts=202002L \
        --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1 || status=$?
    grep -v "warnings generated" "$log" || true
    rm -f "$log"
    if [ "$status" -ne 0 ]; then
        echo "lint: clang-tidy found problems (see above)" >&2
        exit 1
    fi
}

case "${1:-}" in
    format) lint_format ;;
    tidy) lint_tidy "${2:?$usage}" ;;
    "" | -*) echo "$usage" >&2; exit 2 ;;
    *) lint_format; lint_tidy "$1" ;;
esac
