"""The official `openai` Python client, unchanged, against `recital serve`.

Run by `crates/recital/tests/openai_client.rs`, which starts the servers and
passes their base URLs as one JSON object in argv[1]:

    {"clean": URL, "quote": URL, "block": URL, "strict": URL, "dies": URL,
     "keys": URL, "good_key": KEY}

Each case prints what the client saw; the Rust test makes the assertions. A
case that raises where it should not records the exception instead of aborting
the run, so every case is reported. Output: one JSON object on stdout.
"""

import json
import sys
import traceback

import openai
from openai import OpenAI
from openai.types import Completion
from openai.types.chat import ChatCompletion, ChatCompletionChunk

cfg = json.loads(sys.argv[1])
MESSAGES = [{"role": "user", "content": "Quote the passage, please."}]


def client(base, key="sk-test-not-checked"):
    # Exactly how an application points the client at a proxy.
    return OpenAI(base_url=f"{base}/v1", api_key=key, timeout=60)


def strict_errors(model, payload):
    """Validation errors of `payload` against the client's own pydantic model
    (the client builds responses without validating them; this checks that
    every field it declares required is there, with the right type)."""
    validate = getattr(model, "model_validate", None) or model.parse_obj  # pydantic 2 or 1
    try:
        validate(payload)
        return None
    except Exception as e:  # pydantic.ValidationError
        return str(e)


def chat_stream(base, **kw):
    out = {"content": "", "finish_reason": None, "chunks": 0, "content_chunks": 0,
           "recital": [], "recital_in_to_dict": 0, "extra_keys": [], "invalid": [],
           "roles": [], "objects": []}
    stream = client(base).chat.completions.create(model="scripted", messages=MESSAGES, stream=True, **kw)
    for chunk in stream:
        out["chunks"] += 1
        d = chunk.to_dict()
        err = strict_errors(ChatCompletionChunk, d)
        if err:
            out["invalid"].append({"chunk": d, "error": err})
        if chunk.object not in out["objects"]:
            out["objects"].append(chunk.object)
        extra = chunk.model_extra or {}
        out["extra_keys"].extend(k for k in extra if k not in out["extra_keys"])
        if "recital" in extra:
            out["recital"].append(extra["recital"])
        if "recital" in d:
            out["recital_in_to_dict"] += 1
        for c in chunk.choices:
            if c.delta.role and c.delta.role not in out["roles"]:
                out["roles"].append(c.delta.role)
            if c.delta.content:
                out["content"] += c.delta.content
                out["content_chunks"] += 1
            if c.finish_reason is not None:
                out["finish_reason"] = c.finish_reason
    return out


def chat_unary(base):
    r = client(base).chat.completions.create(model="scripted", messages=MESSAGES, stream=False)
    return {
        "content": r.choices[0].message.content,
        "finish_reason": r.choices[0].finish_reason,
        "recital": (r.model_extra or {}).get("recital"),
        "extra_keys": list(r.model_extra or {}),
        "invalid": strict_errors(ChatCompletion, r.to_dict()),
    }


def completion_stream(base):
    out = {"text": "", "finish_reason": None, "chunks": 0, "recital": [], "extra_keys": [], "objects": []}
    stream = client(base).completions.create(model="scripted", prompt="Say it", stream=True)
    for chunk in stream:
        out["chunks"] += 1
        if not isinstance(chunk, Completion):
            raise TypeError(f"a streamed completion chunk is a {type(chunk).__name__}, not a Completion")
        if chunk.object not in out["objects"]:
            out["objects"].append(chunk.object)
        extra = chunk.model_extra or {}
        out["extra_keys"].extend(k for k in extra if k not in out["extra_keys"])
        if "recital" in extra:
            out["recital"].append(extra["recital"])
        for c in chunk.choices:
            out["text"] += c.text or ""
            if c.finish_reason is not None:
                out["finish_reason"] = c.finish_reason
    return out


def chat_unary_with_key(base, key):
    r = client(base, key).chat.completions.create(model="scripted", messages=MESSAGES)
    return {"content": r.choices[0].message.content}


def expect_error(call):
    """Runs `call`, which must raise an OpenAI API error; reports which and what it said."""
    try:
        call()
    except openai.APIError as e:
        status = getattr(e, "status_code", None)
        return {"raised": type(e).__name__, "status": status, "str": str(e), "body": e.body,
                "code": e.code, "type": e.type,
                "is": {n: isinstance(e, getattr(openai, n)) for n in
                       ["AuthenticationError", "BadRequestError", "APIStatusError", "APIError"]}}
    return {"raised": None}


def case(name, fn, results):
    try:
        results[name] = {"ok": True, "result": fn()}
    except Exception as e:
        results[name] = {"ok": False, "exception": type(e).__name__, "message": str(e),
                         "traceback": traceback.format_exc()}


results = {"openai_version": openai.__version__}
clean, quote, block, strict = cfg["clean"], cfg["quote"], cfg["block"], cfg["strict"]
# (a) Unflagged text: streamed, whole, and as a legacy completion.
case("clean_stream", lambda: chat_stream(clean), results)
case("clean_unary", lambda: chat_unary(clean), results)
case("clean_completion_stream", lambda: completion_stream(clean), results)
# (b) A copy of the proprietary novel: redacted, with the `recital` extension.
case("quote_stream", lambda: chat_stream(quote), results)
case("quote_unary", lambda: chat_unary(quote), results)
case("quote_completion_stream", lambda: completion_stream(quote), results)
# (c) Blocked: the stream ends with `content_filter`, without an exception.
case("block_stream", lambda: chat_stream(block), results)
case("block_unary", lambda: chat_unary(block), results)
# (d) --strict-openai: the same redaction, no extension field anywhere.
case("strict_stream", lambda: chat_stream(strict), results)
case("strict_unary", lambda: chat_unary(strict), results)
case("strict_completion_stream", lambda: completion_stream(strict), results)
# (e) Errors: a wrong key, bad requests, and an upstream that dies mid-stream.
keys = cfg["keys"]
case("wrong_key", lambda: expect_error(
    lambda: client(keys, "rk_wrong_0123456789abcdef").chat.completions.create(
        model="scripted", messages=MESSAGES, stream=True)), results)
case("bad_messages", lambda: expect_error(
    lambda: client(keys, cfg["good_key"]).chat.completions.create(model="scripted", messages=None)), results)
case("bad_prompt", lambda: expect_error(
    lambda: client(keys, cfg["good_key"]).completions.create(model="scripted", prompt=None, stream=True)), results)
case("good_key", lambda: chat_unary_with_key(keys, cfg["good_key"]), results)
case("upstream_dies", lambda: expect_error(lambda: chat_stream(cfg["dies"])), results)


json.dump(results, sys.stdout)
