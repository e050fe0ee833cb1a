"""Shared fixtures: the `recital` binary (RECITAL_BIN) that the package must
agree with, the bundled sample corpus, and indexes built from it."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample"


def cli_path() -> str:
    b = os.environ.get("RECITAL_BIN")
    if not b or not os.path.exists(b):
        pytest.fail("RECITAL_BIN must name the recital binary (scripts/test.sh sets it)")
    return b


def cli(*args, check=True, input=None):
    """Runs the CLI; returns the completed process."""
    p = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"recital {' '.join(map(str, args))} failed: {p.stderr}")
    return p


def cli_json(*args, input=None):
    return json.loads(cli(*args, "--json", input=input).stdout)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory):
    """The bundled sample, built by the CLI with its rights sidecar."""
    d = tmp_path_factory.mktemp("sample") / "idx"
    cli("index", "build", "--index", d, "--rights", SAMPLE / "rights.jsonl", SAMPLE / "prose", SAMPLE / "code")
    return d


def kjv_chapters():
    """The King James Bible by chapter, from Debian's `bible` (bible-kjv)."""
    if shutil.which("bible") is None:
        pytest.skip("the `bible` program (Debian bible-kjv) is not installed; scripts/install-test-corpora.sh installs it")
    text = subprocess.run(["bible", "gen1:1-rev22:21"], capture_output=True, text=True, check=True).stdout
    chapters = []
    for line in text.splitlines():
        head = line.rsplit(" ", 1)
        if not line.startswith(" ") and len(head) == 2 and head[0] and head[1].isdigit():
            chapters.append([line.strip(), ""])
        elif chapters:
            chapters[-1][1] += line + "\n"
    assert len(chapters) > 1000
    return chapters


@pytest.fixture(scope="session")
def kjv_jsonl(tmp_path_factory):
    p = tmp_path_factory.mktemp("kjv") / "kjv.jsonl"
    with open(p, "w") as f:
        for cid, text in kjv_chapters():
            f.write(json.dumps({"id": cid, "text": text}) + "\n")
    return p
