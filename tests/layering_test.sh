#!/usr/bin/env bash
# Keeps the module layering honest (STYLE.md "Layout"): a module under src/ may include only
# modules at or above it in this order. Prints every violation as file:line and exits 1.
#
# usage: layering_test.sh SRC_DIR
set -euo pipefail

ORDER=(core model auth net normalize store ingest cluster predict recommend connectors webhooks stream http app)

src=${1:?usage: layering_test.sh SRC_DIR}
[[ -d $src ]] || { echo "layering_test: no such directory: $src" >&2; exit 2; }

declare -A rank=()
for i in "${!ORDER[@]}"; do rank[${ORDER[$i]}]=$i; done

violations=0
checked=0
for module in "${ORDER[@]}"; do
  [[ -d $src/$module ]] || continue
  while IFS= read -r -d '' file; do
    checked=$((checked + 1))
    rel=${file#"$src"/}
    # Lines like:   #  include "store/store.h"   (quoted includes spelled from src/)
    while IFS=: read -r line inc; do
      target=${inc%%/*}
      [[ -n ${rank[$target]+set} ]] || continue   # not a module (a third-party path)
      if (( rank[$target] > rank[$module] )); then
        echo "$rel:$line: $module may not include \"$inc\" ($target is below $module)"
        violations=$((violations + 1))
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"/]+/[^"]*"' "$file" \
               | sed -E 's/^([0-9]+):[^"]*"([^"]*)".*/\1:\2/' || true)
  done < <(find "$src/$module" -type f \( -name '*.h' -o -name '*.hh' -o -name '*.hpp' \
             -o -name '*.cc' -o -name '*.cpp' -o -name '*.inc' \) -print0 | sort -z)
done

if (( violations > 0 )); then
  echo "layering_test: $violations forbidden include(s); order is: ${ORDER[*]}"
  exit 1
fi
echo "layering_test: ok ($checked files checked; order: ${ORDER[*]})"
