#!/usr/bin/env bash
# Builds MCPCore in release mode and links bench/micro/relay.swift against it; prints ns/byte per document, then
# (with `callgrind` as the first argument) instructions per relay call of each document, which a shared machine
# does not disturb.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --target MCPCore >/dev/null 2>&1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/micro/gen.py "$work"
swiftc -O -I .build/release/Modules bench/micro/relay.swift .build/release/MCPCore.build/*.o -o "$work/relay"
docs=(document.json compact.json pretty.json array.json strings.json)
if [[ "${1:-}" == callgrind ]]; then
    for doc in "${docs[@]}"; do
        # Instructions of 20 calls minus those of 0 (loading, setup), per call.
        ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/relay" "--calls=$1" "$work/$doc" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
        a=$(ir 0); b=$(ir 20)
        echo "$doc: $(( (b - a) / 20 )) instructions per relay call, $(( (b - a) * 100 / 20 / $(stat -c %s "$work/$doc") )) per 100 bytes"
    done
else
    "$work/relay" "${docs[@]/#/$work/}"
fi
