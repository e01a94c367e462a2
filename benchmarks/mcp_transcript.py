"""A real `qa mcp` session over stdio, message by message, for docs/mcp.md.

    QA_DATA_DIR=... .venv/bin/python benchmarks/mcp_transcript.py [--collection NAME]

Starts `qa mcp` as a client would, writes JSON-RPC messages to its standard input one per line
(the stdio transport), and prints each message sent (→) and received (←). Long strings are cut (at 90
characters) and long lists (at three items), with what was cut said, so the transcript stays readable;
nothing else is changed (--cut and --items set how much is kept).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


CUT, ITEMS = 90, 3


def shortened(value, depth: int = 0):
    if isinstance(value, str):
        return value if len(value) <= CUT else f"{value[:CUT]}… ({len(value):,} characters)"
    if isinstance(value, list):
        kept = [shortened(item, depth + 1) for item in value[:ITEMS]]
        return kept + ([f"… {len(value) - ITEMS} more"] if len(value) > ITEMS else [])
    if isinstance(value, dict):
        return {key: shortened(item, depth + 1) for key, item in value.items() if key not in ("outputSchema", "inputSchema", "content")} | (
            {"content": "(the same as structuredContent, as JSON text)"} if "content" in value and "structuredContent" in value else
            {"content": shortened(value["content"], depth + 1)} if "content" in value else {}
        ) | ({"inputSchema": "(JSON schema)"} if "inputSchema" in value else {}) | ({"outputSchema": "(JSON schema)"} if "outputSchema" in value else {})
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", default="Which companies will the Foreign Secretary visit in Japan?")
    parser.add_argument("--cut", type=int, default=90, help="characters kept of a long string (default 90)")
    parser.add_argument("--items", type=int, default=3, help="items kept of a long list (default 3)")
    args = parser.parse_args()
    global CUT, ITEMS
    CUT, ITEMS = args.cut, args.items
    server = subprocess.Popen([sys.executable, "-m", "qa", "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=REPO)
    assert server.stdin is not None and server.stdout is not None
    counter = 0

    def send(method: str, params: dict | None = None, notify: bool = False) -> dict | None:
        nonlocal counter
        message: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            counter += 1
            message["id"] = counter
        print("→", json.dumps(message, ensure_ascii=False))
        server.stdin.write(json.dumps(message) + "\n")  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]
        if notify:
            return None
        reply = json.loads(server.stdout.readline())  # type: ignore[union-attr]
        print("←", json.dumps(shortened(reply), ensure_ascii=False, indent=None))
        print()
        return reply

    send("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "transcript", "version": "1"}})
    send("notifications/initialized", notify=True)
    send("tools/list")
    send("tools/call", {"name": "list_collections", "arguments": {}})
    found = send("tools/call", {"name": "search", "arguments": {"query": args.question, "k": 2}})
    send("tools/call", {"name": "answer", "arguments": {"question": args.question}})
    send("tools/call", {"name": "answer", "arguments": {"question": "What is a good recipe for chocolate cake?"}})
    first = found["result"]["structuredContent"]["passages"][0]["id"] if found else ""
    send("tools/call", {"name": "get_passage", "arguments": {"id": first, "neighbours": 1}})
    send("resources/read", {"uri": first})
    send("tools/call", {"name": "search", "arguments": {"query": "tea", "k": 10000}})
    send("tools/call", {"name": "search", "arguments": {"query": "tea", "collections": ["recipes"]}})
    server.stdin.close()
    server.wait(20)
    sys.stderr.write(server.stderr.read() if server.stderr else "")


if __name__ == "__main__":
    main()
