#!/usr/bin/env bash
# Checks every shell script under scripts/ and .ci/ with `bash -n` (syntax)
# and shellcheck (Debian's package, installed with apt-get when missing).
# A script is a file ending in .sh or .sbatch, or one whose first line is a
# sh/bash shebang. Exits non-zero if any script has a finding.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v shellcheck >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "shellcheck-test: installing shellcheck"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq --no-install-recommends shellcheck >/dev/null ||
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
fi

scripts=()
while IFS= read -r -d '' file; do
    case $file in
        *.sh|*.sbatch) scripts+=("$file") ;;
        *) if head -n 1 "$file" | grep -Eq '^#!.*[/ ](ba)?sh( |$)'; then scripts+=("$file"); fi ;;
    esac
done < <(find scripts .ci -type f -print0 | sort -z)

failed=0
for script in "${scripts[@]}"; do
    bash -n "$script" || { echo "shellcheck-test: bash -n found a syntax error in $script" >&2; failed=1; }
done
# -x follows `source` (the source= directives are relative to the repository root).
shellcheck -x "${scripts[@]}" || failed=1
if [ "$failed" -eq 0 ]; then
    echo "shellcheck-test: ${#scripts[@]} scripts clean (bash -n and $(shellcheck --version | sed -n 's/^version: /shellcheck /p'))"
fi
exit "$failed"
