"""`qa mcp`: real MCP client sessions from the official SDK against the server. In process and over
streamable HTTP on a free loopback port with the fake encoder (the fast tier), and as `qa mcp` in a
subprocess over stdio and HTTP with the real model (slow). Every citation is checked against its
source file."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, seed_folders

from qa import Bot, build_index
from qa.catalog import Catalog
from qa.index import IndexDirectory
from qa.mcp_server import MAX_K, Service, build_server, http_security, parse_uri

TOOLS = {"search", "answer", "get_passage", "list_collections"}


@pytest.fixture
def folders(tmp_path) -> dict[str, Path]:
    return seed_folders(tmp_path / "docs", {"press": slice(3), "visits": slice(3, None)})


@pytest.fixture
def service(folders, fake_factory) -> Service:
    catalog = Catalog()
    for folder in folders.values():
        collection, _ = catalog.register(folder)
        build_index(collection.folder, collection.index_dir, encoder_factory=fake_factory)
    service = Service(Bot(collections=catalog.collections(), encoder_factory=fake_factory), follow_catalog=True)
    service.start()
    return service


def run(coroutine):
    return asyncio.run(coroutine)


def check_citation(passage: dict, folders: dict[str, Path]) -> None:
    """The passage's text is exactly its span of its source file, and its id names that span."""
    source = (folders[passage["collection"]] / passage["doc"]).read_text(encoding="utf-8")
    assert source[passage["start"] : passage["end"]] == passage["text"]
    address = parse_uri(passage["id"])
    assert (address.collection, address.doc, address.span) == (passage["collection"], passage["doc"], (passage["start"], passage["end"]))


async def exercise(client, folders: dict[str, Path]) -> dict:
    """List the tools, call each, read a passage and a document as resources; what was seen."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS and all(tool.output_schema for tool in tools.values())
    listed = (await client.call_tool("list_collections", {})).structured_content["collections"]
    assert [(c["name"], c["documents"], c["state"]) for c in listed] == [("press", 3, "ready"), ("visits", 2, "ready")]
    found = await client.call_tool("search", {"query": "Which companies will the Foreign Secretary visit in Japan?", "k": 8})
    assert not found.is_error
    passages = found.structured_content["passages"]
    assert len(passages) == 8 and {p["collection"] for p in passages} <= {"press", "visits"}
    assert [p["rank"] for p in passages] == list(range(1, 9)) and passages[0]["score"] >= passages[-1]["score"]
    for passage in passages:
        check_citation(passage, folders)
    assert json.loads(found.content[0].text)["passages"][0]["id"] == passages[0]["id"]  # the same, as text for the model
    one = await client.call_tool("search", {"query": "Hammond Tokyo", "collections": ["visits"], "k": 3, "mode": "bm25"})
    assert {p["collection"] for p in one.structured_content["passages"]} == {"visits"}
    answered = (await client.call_tool("answer", {"question": "Which companies will the Foreign Secretary visit in Japan?"})).structured_content
    for passage in answered["passages"]:
        check_citation(passage, folders)
    by_id = {p["id"]: p for p in answered["passages"]}
    for sentence in answered["sentences"]:
        cited = by_id[sentence["passage_id"]]
        assert answered["passages"][sentence["citation"] - 1] == cited
        source = (folders[cited["collection"]] / cited["doc"]).read_text(encoding="utf-8")
        assert source[sentence["start"] : sentence["end"]] == sentence["text"] and sentence["text"] in cited["text"]
    middle = passages[0]["id"]
    context = (await client.call_tool("get_passage", {"id": middle, "neighbours": 2})).structured_content
    assert context["passage"]["id"] == middle and context["passage"]["score"] is None
    around = [*context["before"], context["passage"], *context["after"]]
    assert [p["doc"] for p in around] == [passages[0]["doc"]] * len(around) and len(around) >= 3
    assert [p["start"] for p in around] == sorted(p["start"] for p in around)
    for passage in around:
        check_citation(passage, folders)
    span = (await client.read_resource(middle)).contents[0]
    assert span.text == passages[0]["text"] and span.mime_type == "text/plain"
    whole = (await client.read_resource(middle.partition("#")[0])).contents[0].text
    assert whole == (folders[passages[0]["collection"]] / passages[0]["doc"]).read_text(encoding="utf-8")
    return {"answer": answered, "passages": passages}


async def error_of(client, tool: str, arguments: dict) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, arguments)
    text = result.content[0].text
    assert "\n" not in text and "Traceback" not in text
    return text


async def bad_input(client) -> None:
    """Each bad call is an error with one plain line, and the server answers the next call."""
    assert "the question is empty" in await error_of(client, "search", {"query": "  "})
    assert f"k must be a whole number from 1 to {MAX_K} (got 10000)" in await error_of(client, "search", {"query": "tea", "k": 10_000})
    assert "the question is too long: 1,000,000 characters (limit 2,000)" in await error_of(client, "answer", {"question": "x" * 1_000_000})
    assert "no collection named 'nope' is served here; the collections are: press, visits" in await error_of(
        client, "search", {"query": "tea", "collections": ["nope"]})
    assert "unknown mode 'deep'" in await error_of(client, "search", {"query": "tea", "mode": "deep"})
    found = (await client.call_tool("search", {"query": "Hammond", "k": 1, "collections": ["press"]})).structured_content["passages"][0]
    other = found["id"].replace("qa://press/", "qa://elsewhere/")
    assert "no collection named 'elsewhere' is served here" in await error_of(client, "get_passage", {"id": other})
    assert "not a qa:// address" in await error_of(client, "get_passage", {"id": "42"})
    assert "no passage at characters 0–3" in await error_of(client, "get_passage", {"id": found["id"].partition("#")[0] + "#0-3"})
    assert "neighbours must be 0 to 5" in await error_of(client, "get_passage", {"id": found["id"], "neighbours": 99})
    with pytest.raises(Exception, match="no document 'missing.txt' in collection press"):
        await client.read_resource("qa://press/missing.txt")
    assert not (await client.call_tool("search", {"query": "Hammond", "k": 1})).is_error  # still serving


def test_an_sdk_client_in_process_lists_and_calls_every_tool_with_exact_citations(service, folders):
    from mcp import Client

    async def session():
        async with Client(build_server(service)) as client:
            await exercise(client, folders)
            await bad_input(client)

    run(session())


def test_abstaining_is_said_plainly_with_the_closest_passages_labelled(service):
    from qa.abstention import AbstentionModel

    service.bot.policy = type(service.bot.policy)(abstention=AbstentionModel(bias=-100.0, weights={}))  # a model that always abstains
    result = service.answer("What is a good recipe for chocolate cake?", None)
    assert result.abstained and result.answer == "The documents don't answer this question." and result.sentences == []
    assert "not an answer" in result.note and result.passages


def test_a_call_while_a_collection_is_first_indexed_says_so_and_the_others_answer(service, tmp_path):
    folder = tmp_path / "docs" / "late"
    folder.mkdir()
    (folder / "late.md").write_text("# Late\n\nA late note.\n", encoding="utf-8")
    late, _ = Catalog().register(folder)
    with IndexDirectory(late.index_dir).lock():  # a first build holds the lock and has no manifest yet
        names = [c.name for c in service.list_collections().collections]
        assert names == ["press", "visits", "late"]
        with pytest.raises(Exception, match="collection late is being indexed and has no complete index yet; try again when the build ends"):
            service.search("late note", ["late"], 3, "fused")
        assert service.search("Hammond", None, 3, "fused").passages  # the complete collections answer meanwhile


def test_a_new_generation_is_served_without_a_restart(service, folders, fake_factory):
    (folders["press"] / "zeppelin.md").write_text("# Airship\n\nA zeppelin moored over the harbour.\n", encoding="utf-8")
    build_index(folders["press"], Catalog().get("press").index_dir, encoder_factory=fake_factory)
    found = service.search("zeppelin moored harbour", None, 1, "fused").passages[0]
    assert found.doc == "zeppelin.md" and found.collection == "press"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(port: int, headers: dict[str, str]) -> int:
    """The status of an initialize request sent with these headers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}}}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("POST", "/mcp", skip_host=True)
        for name, value in {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                            "Content-Length": str(len(body)), **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


def test_over_streamable_http_on_a_free_loopback_port_checking_origin_and_host(service, folders):
    import uvicorn
    from mcp import Client

    port = free_port()
    app = build_server(service).streamable_http_app(transport_security=http_security(port), host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started

        async def session():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await exercise(client, folders)
                await bad_input(client)

        run(session())
        host = f"127.0.0.1:{port}"
        assert post(port, {"Host": host}) == 200
        assert post(port, {"Host": host, "Origin": f"http://localhost:{port}"}) == 200
        assert post(port, {"Host": host, "Origin": "http://evil.example"}) == 403
        assert post(port, {"Host": f"evil.example:{port}"}) == 421  # DNS rebinding
    finally:
        server.should_exit = True
        thread.join(10)


# -- `qa mcp` itself, with the real model -----------------------------------------------------------


@pytest.fixture
def indexed_collections(folders, tmp_path) -> dict[str, str]:
    """The environment of a user whose two folders are collections, indexed by `qa index`."""
    env = {name: value for name, value in os.environ.items() if name.startswith("QA_") or name in ("HOME", "PATH")}
    for folder in folders.values():
        done = subprocess.run([sys.executable, "-m", "qa", "index", str(folder), "-q"], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    return env


@pytest.mark.slow
def test_qa_mcp_over_stdio_with_the_real_model(indexed_collections, folders):
    from mcp import Client, StdioServerParameters

    parameters = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp"], env=indexed_collections, cwd=str(REPO))

    async def session():
        async with Client(parameters) as client:
            seen = await exercise(client, folders)
            first = seen["passages"][0]  # its span was checked against its source by exercise()
            assert first["doc"] == "003_cc08bda86b037607.txt" and "Nissan" in first["text"]
            assert not seen["answer"]["abstained"] and "Nissan" in seen["answer"]["answer"]
            cake = (await client.call_tool("answer", {"question": "What is a good recipe for chocolate cake?"})).structured_content
            assert cake["abstained"] and "not an answer" in cake["note"] and cake["passages"]
            await bad_input(client)

    run(session())


@pytest.mark.slow
def test_qa_mcp_over_http_with_the_real_model(indexed_collections, folders):
    from mcp import Client

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "qa", "mcp", "--http", "--port", str(port)], env={**os.environ, **indexed_collections},
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.1)

        async def session():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await exercise(client, folders)

        run(session())
        assert post(port, {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"}) == 403
    finally:
        server.terminate()
        server.wait(20)
