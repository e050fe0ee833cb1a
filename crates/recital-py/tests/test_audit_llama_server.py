"""`recital audit` through a real inference server: llama.cpp's OpenAI-compatible
server (llama-cpp-python[server]) with the SmolLM2 GGUF the tests install,
against candle on the same file.

This server takes prompts only as text and, for a model without a BOS token,
echoes prompt log-probabilities one position off; the endpoint backend finds
both out by itself. The probes must be the same, and each probe's LOSS (mean
negative log-probability of its 16 suffix tokens) must agree with candle's
within 0.1 nats: llama.cpp multiplies the Q4_1 weights with 8-bit-rounded
activations, candle with the same weights dequantised to f32, and the
measured differences are 0.006–0.031 nats.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import SAMPLE, cli

GGUF = os.environ.get("RECITAL_TEST_GGUF")
pytestmark = pytest.mark.skipif(not GGUF, reason="RECITAL_TEST_GGUF is set by scripts/test.sh")
TOLERANCE = 0.1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.environ.get("RECITAL_REQUIRE_LLAMA"):
        pytest.importorskip("llama_cpp.server.app")
    port = free_port()
    log = open(tmp_path_factory.mktemp("llama-server") / "server.log", "w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", GGUF, "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--logits_all", "true", "--n_ctx", "512",
         "--n_threads", "1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/models", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                log.seek(0)
                pytest.fail(f"llama_cpp.server did not start: {log.read()[-3000:]}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def audit(index, model, out):
    cli("audit", "--index", index, "--model", model, "--samples", "3", "--prefix-tokens", "32",
        "--suffix-tokens", "16", "--no-sweep", "--out", out)
    results = {r["id"]: r for r in map(json.loads, open(out / "results.jsonl"))}
    return json.load(open(out / "report.json")), results


def test_the_llama_cpp_server_is_audited_as_candle_scores_the_same_gguf(server, tmp_path):
    index = tmp_path / "idx"
    cli("index", "build", "--index", index, SAMPLE / "prose")
    report, served = audit(index, server, tmp_path / "served")
    _, local = audit(index, GGUF, tmp_path / "local")

    assert report["model"]["backend"] == "openai"
    # Found out, not configured: ids refused, the echo one position off.
    assert "text prompts" in report["model"]["scoring"]
    assert "one position off" in report["model"]["scoring"]
    assert any("How prompts were scored" in p for p in report["summary"])
    assert served.keys() == local.keys() and len(served) == 3
    for pid, r in served.items():
        assert r["suffix"] == local[pid]["suffix"], "the same probes"
        assert abs(r["loss"] - local[pid]["loss"]) <= TOLERANCE, (pid, r["loss"], local[pid]["loss"])
        assert r["generated"], "the server generated a continuation"
