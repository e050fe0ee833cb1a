"""Drives `recital serve` with the official `openai` client through every
channel of an answer and prints what the client received, as JSON.

argv[1]: JSON {"base": URL, "cases": [names]} (every case but
chat_stream_n3 when "cases" is left out). Each case's result is the client's own parsed
objects (`model_dump()`), so the test sees exactly what an application would.
"""
import json
import sys

import openai

cfg = json.loads(sys.argv[1])
client = openai.OpenAI(base_url=cfg["base"] + "/v1", api_key="unused", max_retries=0)
messages = [{"role": "user", "content": "Write the file."}]
out = {"openai_version": openai.__version__}


def case(name, fn):
    try:
        out[name] = {"ok": True, "result": fn()}
    except Exception as e:  # reported to the Rust side, which fails the test
        out[name] = {"ok": False, "exception": type(e).__name__, "message": str(e)}


def chat_whole():
    r = client.chat.completions.create(model="m", messages=messages, n=2, logprobs=True, top_logprobs=1)
    return r.model_dump()


def chat_stream():
    s = client.chat.completions.create(
        model="m", messages=messages, n=2, logprobs=True, stream=True
    )
    return [c.model_dump() for c in s]


def completion_whole():
    return client.completions.create(model="m", prompt="Go on:", logprobs=1).model_dump()


def completion_stream():
    s = client.completions.create(model="m", prompt="Go on:", logprobs=1, stream=True)
    return [c.model_dump() for c in s]


def responses_whole():
    return client.responses.create(model="m", input="Write the file.").model_dump()


def responses_stream():
    s = client.responses.create(model="m", input="Write the file.", stream=True)
    return [e.model_dump() for e in s]


def chat_stream_n3():
    s = client.chat.completions.create(model="m", messages=messages, n=3, stream=True)
    return [c.model_dump() for c in s]


cases = {
    "chat_whole": chat_whole,
    "chat_stream": chat_stream,
    "completion_whole": completion_whole,
    "completion_stream": completion_stream,
    "chat_stream_n3": chat_stream_n3,
    "responses_whole": responses_whole,
    "responses_stream": responses_stream,
}
default = ["chat_whole", "chat_stream", "completion_whole", "completion_stream"]
if cfg.get("responses"):
    default = ["responses_whole", "responses_stream"]
for name in cfg.get("cases", default):
    case(name, cases[name])
print(json.dumps(out))
