#!/usr/bin/env bash
# check-banned.sh: fail if vigil's C uses a function STYLE.md bans.
set -u
root=${1:-.}
pat='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok|rand|srand|alloca)[[:space:]]*\('
hits=$(grep -rnE "$pat" "$root/src" "$root/include" "$root/tests" "$root/bench" "$root/fuzz" \
        --include='*.c' --include='*.h' 2>/dev/null | grep -vE '//.*banned-ok|/\*.*banned-ok')
if [ -n "$hits" ]; then
  echo "banned functions used (STYLE.md section 6):"
  echo "$hits"
  exit 1
fi
echo "no banned functions"
