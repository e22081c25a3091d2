"""Runs the OPEA GenAIComps 1.1 stand-ins of ../shared/peers/opea-v1.1/fakes.py for the tests.

fakes.py is used as it is, with two additions the tests need: a port of 0 binds a free port, and one
JSON line on stdout tells every service's actual address once all listen. Where fakes.py disagrees
with GenAIComps' v1.1 source, the source wins and the correction is made here, with the file and line
it comes from:

- comps/cores/proto/docarray.py @ v1.1 l.13-20: TextDoc mixes in TopologyInfo, whose
  `downstream_black_list: Optional[list] = []` pydantic 2 (fastapi 0.115.5 in every 1.1 image's
  requirements.txt) collects as a field, so every TextDoc answer carries it, and the guardrail's block
  (comps/guardrails/llama_guard/langchain/guardrails_tgi.py l.81-83) sets it to [".*"].

Each log record also gets `effective`: the request as the handler saw it after validation (the
pydantic model's dump, defaults filled in), so tests compare what a service would act on, not bytes.

Usage: python3 opea11_stand_ins.py FAKES_PY SPEC.json LOG.jsonl
"""
import importlib.util, json, sys, threading, types
from typing import List, Optional, Union
from http.server import ThreadingHTTPServer


def load_fakes(path):
    spec = importlib.util.spec_from_file_location("opea11_fakes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def correct(fakes):
    class TextDoc(fakes.BaseDoc):
        text: Union[str, List[str]] = None
        downstream_black_list: Optional[list] = []

    fakes.TextDoc = TextDoc
    fakes.SearchedDoc.model_fields["retrieved_docs"].annotation = List[TextDoc]
    fakes.SearchedDoc.model_rebuild(force=True)
    for role, (path, port, _) in list(fakes.ROLES.items()):
        if role == "embedding":
            fakes.ROLES[role] = (path, port, Union[TextDoc, fakes.EmbeddingRequest, fakes.ChatCompletionRequest])
        elif role == "guardrail":
            fakes.ROLES[role] = (path, port, Union[fakes.GeneratedDoc, TextDoc])
    handle = fakes.handle

    seen = threading.local()

    def handle_corrected(role, name, obj):
        seen.effective = obj.model_dump(mode="json") if hasattr(obj, "model_dump") else None
        status, body, ctype = handle(role, name, obj)
        if role == "guardrail" and isinstance(body, dict) and str(body.get("text", "")).startswith("Violated policies"):
            body["downstream_black_list"] = [".*"]
        return status, body, ctype

    fakes.handle = handle_corrected

    def dumps(value, *args, **kwargs):  # fakes.py writes each log record with json.dumps(rec)
        if isinstance(value, dict) and "service" in value and "role" in value:
            value = {**value, "effective": getattr(seen, "effective", None)}
            seen.effective = None
        return json.dumps(value, *args, **kwargs)

    fakes.json = types.SimpleNamespace(dumps=dumps, loads=json.loads, JSONDecodeError=json.JSONDecodeError)


def serve(fakes_path, spec, log_file):
    """Starts one server thread per spec entry; returns the entries with their bound ports."""
    fakes = load_fakes(fakes_path)
    correct(fakes)
    ready = []
    for s in spec:
        server = ThreadingHTTPServer((s["host"], s["port"]), fakes.make_handler(s["role"], s["name"], log_file))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ready.append({**s, "port": server.server_address[1]})
    return ready


def main():
    ready = serve(sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3])
    print(json.dumps({"ready": ready}), flush=True)
    sys.stdin.read()  # runs until the parent closes our stdin (or dies)


if __name__ == "__main__":
    main()
