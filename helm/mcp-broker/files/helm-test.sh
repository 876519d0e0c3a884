# POSIX sh + curl (the helm test Pod; CI runs the same script against the container image).
# Needs BROKER_URL, MCP_PATH and MCP_API_KEY_FILE (or MCP_API_KEY); writes only under /tmp.
MCP_API_KEY=${MCP_API_KEY:-$(cat "$MCP_API_KEY_FILE")}
curl_mcp() { # $1: JSON-RPC body; $2: output file; extra headers follow
  body=$1; out=$2; shift 2
  curl -sS --fail-with-body --max-time 15 -D /tmp/headers -o "$out" \
    -H "Authorization: Bearer $MCP_API_KEY" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' \
    "$@" --data "$body" "$BROKER_URL$MCP_PATH"
}
echo "GET $BROKER_URL/readyz"
curl -sS --fail-with-body --max-time 10 "$BROKER_URL/readyz"; echo
curl_mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"helm-test","version":"1.0"}}}' /tmp/init
session=$(sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: *//p' /tmp/headers | tr -d '\r')
[ -n "$session" ] || { echo "initialize: no Mcp-Session-Id"; cat /tmp/init; exit 1; }
echo "initialized: session ${session%"${session#????????}"}..."
curl_mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}' /tmp/notified -H "Mcp-Session-Id: $session"
curl_mcp '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' /tmp/tools -H "Mcp-Session-Id: $session"
grep -q '"tools"' /tmp/tools || { echo "tools/list: no tools in the answer"; cat /tmp/tools; exit 1; }
echo "tools/list: $(grep -o '"name":"[^"]*"' /tmp/tools | wc -l) names"
curl -sS --max-time 5 -o /dev/null -X DELETE -H "Authorization: Bearer $MCP_API_KEY" -H "Mcp-Session-Id: $session" "$BROKER_URL$MCP_PATH" || true
echo "helm test: OK"
