"""Drives `recital serve`'s `POST /v1/messages` with the official `anthropic`
client and prints what the client received, as JSON.

argv[1]: JSON {"base": URL, "key": KEY or null, "bad_key": KEY or null,
"extras": also the beta call and count_tokens}.
Each case's result is the client's own parsed objects (`model_dump()`), so
the test sees exactly what an application would; an exception the client
raises is reported with its class and body, never swallowed.
"""
import json
import sys

import anthropic

cfg = json.loads(sys.argv[1])
client = anthropic.Anthropic(base_url=cfg["base"], api_key=cfg.get("key") or "unused", max_retries=0)
args = dict(
    model="m",
    max_tokens=1024,
    system="You write files.",
    messages=[{"role": "user", "content": "Write the file."}],
    tools=[
        {
            "name": "write_file",
            "description": "Writes a file.",
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}},
        }
    ],
    extra_headers={"anthropic-beta": "recital-test-beta"},
)
out = {"anthropic_version": anthropic.__version__}


def error(e):
    return {"exception": type(e).__name__, "message": str(e), "body": getattr(e, "body", None),
            "status": getattr(e, "status_code", None)}


def case(name, fn):
    try:
        out[name] = {"ok": True, "result": fn()}
    except Exception as e:  # reported to the Rust side, which decides
        out[name] = {"ok": False, **error(e)}


def whole():
    return client.messages.create(**args).model_dump()


def raw_stream():
    """`create(stream=True)`: the raw events, and the error that ended them, if any."""
    events, err = [], None
    try:
        for e in client.messages.create(stream=True, **args):
            events.append(e.model_dump())
    except anthropic.APIError as e:
        err = error(e)
    return {"events": events, "error": err}


def helper_stream():
    """`messages.stream(...)`: the helper's event types and its final message."""
    with client.messages.stream(**args) as s:
        types = [e.type for e in s]
        final = s.get_final_message()
    return {"types": types, "final": final.model_dump()}


def invalid():
    return client.messages.create(**{**args, "max_tokens": 0}).model_dump()


def bad_key():
    c = anthropic.Anthropic(base_url=cfg["base"], api_key=cfg["bad_key"], max_retries=0)
    return c.messages.create(**args).model_dump()


def beta_whole():
    """`client.beta.messages.create`: the same call with `?beta=true`."""
    return client.beta.messages.create(**args).model_dump()


def count_tokens():
    a = {k: v for k, v in args.items() if k != "max_tokens"}
    return client.messages.count_tokens(**a).model_dump()


case("whole", whole)
case("raw_stream", raw_stream)
case("helper_stream", helper_stream)
case("invalid", invalid)
if cfg.get("extras"):
    case("beta_whole", beta_whole)
    case("count_tokens", count_tokens)
if cfg.get("bad_key"):
    case("bad_key", bad_key)
print(json.dumps(out))
