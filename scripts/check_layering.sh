#!/usr/bin/env bash
# Fails when a library includes a header of a library above it. The layers, bottom first
# (docs/DEVELOPING.md): common <- quant <- {workloads, models} <- reports <- explore <- sim. A library may
# include its own headers and those of the layers below it; workloads and models do not see each
# other.
# tests/, bench/ and rtl/ tools may include anything.
#
#   bash scripts/check_layering.sh [ROOT]     (default: this checkout)
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
declare -A allowed=(
  [common]="common"
  [quant]="common quant"
  [workloads]="common quant workloads"
  [models]="common quant models"
  [reports]="common quant models reports"
  [explore]="common quant workloads models reports explore"
  [sim]="common quant workloads models reports explore sim"
)
bad=0
for lib in common quant workloads models reports explore sim; do
  [ -d "$root/$lib" ] || continue
  while IFS= read -r hit; do
    file="${hit%%:*}"
    rest="${hit#*:}"
    line="${rest%%:*}"
    target="$(printf '%s' "$rest" | sed -E 's/.*#include "qarch\/([a-z_]+)\/.*/\1/')"
    ok=0
    for a in ${allowed[$lib]}; do [ "$a" = "$target" ] && ok=1; done
    if [ "$ok" -eq 0 ]; then
      echo "layering: ${file#$root/}:$line: $lib/ includes qarch/$target/ (allowed: ${allowed[$lib]})" >&2
      bad=1
    fi
  done < <(grep -rnE '#include "qarch/[a-z_]+/' "$root/$lib" --include='*.h' --include='*.cpp' --include='*.hpp' || true)
done
if [ "$bad" -ne 0 ]; then
  echo "layering: upward includes found (see docs/DEVELOPING.md, 'Layers')" >&2
  exit 1
fi
echo "layering: ok"
