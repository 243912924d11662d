"""Credentials are redacted from source before it is sent to the model; ordinary code is left alone."""

from __future__ import annotations

import pytest

from mkdocs_ai_docstrings._internal.redact import Redaction, find_secrets, redact_secrets
from tests.redaction_corpus import ADVERSARIAL, LOOKALIKES, SECRETS, Entry

# Made-up credentials of each shape (split so that scanners of this repository do not flag them).
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
AZURE_STORAGE = "Zm9vYmFy" * 11
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITLAB = "glpat-" + "xYz12AbC34dEf56GhI78"
SLACK = "xoxb-" + "123456789012-123456789012-abcdefABCDEF123456"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
OPENAI = "sk-proj-" + "abc123DEF456ghi789JKL012mno345"
AZURE_OPENAI = "1f2e3d4c5b6a7988" + "0716253443526170"
AZURE_AI_84 = "9vX2kLq8Rt4mN7pW3zY6bC1dF5gH0jKsT8uV2wE4rQ9aZ3x" + "J6nM1oP7lB5cD0fGhJQQJ99BAACYeBjFXJ3w3AAAAACOGxyz"
PEM_BODY = "MIIEowIBAAKCAQEA7bq98U2KZTQdabcdefABCDEF0123\nabcdefABCDEF0123456789+/abcdefABCDEF0123456789=="

CASES = [
    pytest.param(f'AWS_ACCESS_KEY_ID = "{AWS_KEY_ID}"', AWS_KEY_ID, "AWS Access Key", id="aws-key-id"),
    pytest.param(f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET, "AWS Access Key", id="aws-secret"),
    pytest.param(
        f'CONN = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_STORAGE};EndpointSuffix=core"',
        AZURE_STORAGE,
        "Azure Storage Account access key",
        id="azure-storage",
    ),
    pytest.param('DSN = "postgres://admin:s3cr3t!pw@db.example.com:5432/app"', "s3cr3t!pw", None, id="postgres-url"),
    pytest.param('URI = "mongodb+srv://user:hunter2x@cluster0.mongodb.net/db"', "hunter2x", None, id="mongodb-url"),
    pytest.param(f'TOKEN = "{JWT}"', JWT, "JSON Web Token", id="jwt"),
    pytest.param(f'GH = "{GITHUB}"', GITHUB, "GitHub Token", id="github"),
    pytest.param(f'GL = "{GITLAB}"', GITLAB, "GitLab Token", id="gitlab"),
    pytest.param(f'SLACK = "{SLACK}"', SLACK, "Slack Token", id="slack"),
    pytest.param(f'STRIPE = "{STRIPE}"', STRIPE, "Stripe Access Key", id="stripe"),
    pytest.param(f'client = OpenAI(organization="o", base_url=u, default_key="{OPENAI}")', OPENAI, None, id="sk-key"),
    pytest.param(f"# sk key for tests: {OPENAI}", OPENAI, "OpenAI Token", id="sk-key-in-comment"),
    pytest.param('password = "hunter2"', "hunter2", "Secret Keyword", id="keyword"),
    pytest.param('connect(host, password="Tr0ub4dor")', "Tr0ub4dor", "Secret Keyword", id="keyword-argument"),
    pytest.param('settings = {"client_secret": "abc-123-xyz"}', "abc-123-xyz", "Secret Keyword", id="keyword-dict"),
    pytest.param('api_key: str = "abc123secretvalue"', "abc123secretvalue", "Secret Keyword", id="annotated"),
    pytest.param(f'headers = {{"api-key": "{AZURE_OPENAI}"}}', AZURE_OPENAI, None, id="api-key-header"),
    pytest.param(f"# AZURE_OPENAI_API_KEY={AZURE_OPENAI}", AZURE_OPENAI, "API Key", id="azure-openai-hex"),
    pytest.param(f"# key: {AZURE_AI_84}", AZURE_AI_84, "High Entropy Token", id="azure-ai-84"),
    pytest.param(
        'headers = {"Authorization": "Bearer abcdef1234567890abcdef"}', "abcdef1234567890abcdef", None, id="bearer"
    ),
    pytest.param(
        'headers = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA==", None, id="basic-header"
    ),
    pytest.param(
        'CS = "Server=tcp:x.database.windows.net;Database=db;User ID=me;Password=P@ssw0rd!;"',
        "P@ssw0rd!",
        "Connection String Credential",
        id="sql-connection-string",
    ),
    pytest.param(
        'URL = "https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=abcDEF123ghiJKL456mno%3D"',
        "abcDEF123ghiJKL456mno%3D",
        "Shared Access Signature",
        id="sas-url",
    ),
    pytest.param(
        'SIGNING_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "Hex High Entropy String",
        id="hex-entropy-named-like-a-key",
    ),
    pytest.param(
        f'KEY = """-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\n"""',
        PEM_BODY,
        "Private Key",
        id="pem",
    ),
    pytest.param(
        'KEY = (\n    "-----BEGIN PRIVATE KEY-----\\n"\n    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"\n'
        '    "-----END PRIVATE KEY-----\\n"\n)',
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "Private Key",
        id="pem-in-python-strings",
    ),
    pytest.param(
        f"KEY = '''-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}",
        PEM_BODY,
        "Private Key",
        id="pem-truncated",
    ),
]


@pytest.mark.parametrize(("source", "secret", "kind"), CASES)
def test_each_kind_of_secret_is_replaced(source: str, secret: str, kind: str | None) -> None:
    result = redact_secrets(source)
    assert secret not in result.text
    assert result.count == 1
    assert len(result.kinds) == 1
    if kind is not None:
        assert result.kinds == (kind,)
    assert f"<redacted:{result.kinds[0]}>" in result.text
    # Only the value goes: the code around it stays as written.
    before, _, after = source.partition(secret)
    assert result.text == f"{before}<redacted:{result.kinds[0]}>{after}"


def test_private_key_markers_stay_readable() -> None:
    result = redact_secrets(f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n-----END EC PRIVATE KEY-----")
    assert result.text == "-----BEGIN EC PRIVATE KEY-----\n<redacted:Private Key>\n-----END EC PRIVATE KEY-----"


ORDINARY_CODE = '''
"""Helpers for talking to the weather service.

See https://example.com/docs/api?version=2#auth for details; authenticate with `Bearer <token>`.
"""

from __future__ import annotations

import hashlib
import os
from typing import Final

SECRET_ENV: Final = "WEATHER_API_SECRET"
PASSWORD_PROMPT = "Enter your password"
BACKEND = "weather.secrets.VaultBackend"
TEMPLATE = "{scheme}://{user}:{password}@{host}"
HOMEPAGE = "https://user@example.com/path"
UUID = "123e4567-e89b-12d3-a456-426614174000"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class WeatherClientWithAVeryLongDescriptiveName:
    """A client.

    Args:
        api_key: The key; read from `$WEATHER_API_KEY` when omitted.
        password: The user's password.
    """

    def __init__(self, api_key: str | None = None, password: str = "", token_type: str = "bearer") -> None:
        self.api_key = api_key or os.environ["WEATHER_API_KEY"]
        self.password = password
        if password == "":
            raise ValueError("password must not be empty")
        self.headers = {"Authorization": f"Bearer {self.api_key}"}
        self.url = f"postgres://{self.user}:{password}@{self.host}/db"
        self.digest = hashlib.sha256(password.encode()).hexdigest()

    def connect(self, *, password: str) -> dict[str, int | None]:
        return login(user=self.user, password=password, secret=get_secret("weather"))
'''


def test_ordinary_code_is_left_unchanged() -> None:
    assert redact_secrets(ORDINARY_CODE) == Redaction(text=ORDINARY_CODE, count=0, kinds=())


def test_secrets_are_counted_one_by_one() -> None:
    source = f'A = "{AWS_KEY_ID}"\nB = "{GITHUB}"\npassword = "hunter2"\nC = "{AWS_KEY_ID}"\n'
    result = redact_secrets(source)
    assert result.count == 4
    assert result.kinds == ("AWS Access Key", "GitHub Token", "Secret Keyword")
    assert result.text == (
        'A = "<redacted:AWS Access Key>"\nB = "<redacted:GitHub Token>"\n'
        'password = "<redacted:Secret Keyword>"\nC = "<redacted:AWS Access Key>"\n'
    )


def test_a_secret_seen_by_several_detectors_counts_once() -> None:
    # Keyword, hex entropy and the 32-hex pattern all see this value.
    result = redact_secrets(f'api_key = "{AZURE_OPENAI}"')
    assert result.count == 1
    assert result.text == 'api_key = "<redacted:API Key>"'


def test_extra_literals_are_removed_wherever_they_occur() -> None:
    own_key = "my-own-key-that-looks-harmless"
    source = f"# the key is {own_key}\nprint('{own_key}')\nx = 1  # {own_key[:10]}\n"
    result = redact_secrets(source, extra_literals=[own_key, "", "   "])
    assert own_key not in result.text
    assert result.count == 2
    assert result.kinds == ("Configured Secret",)
    assert result.text.endswith("x = 1  # my-own-key\n")


def test_extra_literals_overlapping_a_detected_secret_count_once() -> None:
    result = redact_secrets(f'GH = "{GITHUB}"', extra_literals=[GITHUB[4:]])
    assert result.count == 1
    assert GITHUB[4:] not in result.text


def test_redacting_twice_finds_nothing_new() -> None:
    source = "\n".join(str(case.values[0]) for case in CASES)
    once = redact_secrets(source)
    assert once.count == len(CASES)
    twice = redact_secrets(once.text)
    assert twice == Redaction(text=once.text, count=0, kinds=())


def test_three_hundred_snippets_each_lose_exactly_their_secrets() -> None:
    # The speed of this is measured by bench/redaction.py (ms per kB), not asserted here.
    snippet = ORDINARY_CODE + "\n".join(str(case.values[0]) for case in CASES[:6])
    snippets = [snippet.replace("weather", f"weather{number}") for number in range(300)]
    counts = [redact_secrets(text).count for text in snippets]
    assert counts == [6] * 300


@pytest.mark.parametrize("text", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_adversarial_input_is_scanned_and_a_second_pass_finds_nothing_new(text: str) -> None:
    # Linear time on these inputs is measured by bench/redaction.py (`adversarial_ms_max`); a regex that
    # backtracks catastrophically on one of them makes this test run into the suite's timeout.
    once = redact_secrets(text)
    assert len(once.text) <= len(text) + 40 * once.count
    assert redact_secrets(once.text).count == 0


# ----------------------------------------------------------------------------------------------------------------------
# The corpus (tests/redaction_corpus.py): every credential gone, every look-alike kept; measured in bench/redaction.py


@pytest.mark.parametrize("entry", SECRETS, ids=[entry.id for entry in SECRETS])
def test_every_corpus_secret_is_redacted_entirely(entry: Entry) -> None:
    found = [(finding.start, finding.end) for finding in find_secrets(entry.source)]
    redacted = redact_secrets(entry.source).text
    for spans in entry.secrets:
        for start, end in spans:
            assert any(a <= start and end <= b for a, b in found), entry.source[start:end]
            if end - start >= 6:
                assert entry.source[start:end] not in redacted


@pytest.mark.parametrize("entry", LOOKALIKES, ids=[entry.id for entry in LOOKALIKES])
def test_corpus_lookalikes_are_left_alone(entry: Entry) -> None:
    assert redact_secrets(entry.source) == Redaction(text=entry.source, count=0, kinds=())


def test_the_corpus_holds_enough_of_each_side() -> None:
    assert len(SECRETS) >= 80
    assert len(LOOKALIKES) >= 70
    assert all(entry.secrets for entry in SECRETS)


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        pytest.param('KEY = "AKIA" "IOSFODNN7EXAMPLE"\n', ('KEY = "', '"\n'), id="implicit"),
        pytest.param('KEY = ("AKIA"  # id\n       "IOSFODNN7EXAMPLE")\n', ('KEY = ("', '")\n'), id="parenthesised"),
    ],
)
def test_a_key_split_across_literals_is_redacted_as_one(source: str, kept: tuple[str, str]) -> None:
    result = redact_secrets(source)
    assert result.count == 1
    assert result.text == f"{kept[0]}<redacted:AWS Access Key>{kept[1]}"


def test_separate_statements_are_not_joined() -> None:
    # An attribute and its docstring are two literals on two lines, outside brackets: not one string.
    source = 'PREFIX = "AKIA"\n"""The prefix of AWS key IDs."""\nSUFFIX = "IOSFODNN7EXAMPLE"\n'
    assert redact_secrets(source).count == 0


@pytest.mark.parametrize(
    ("source", "secret"),
    [
        pytest.param('api_key = "d41d8cd98f00b204e9800998ecf8427e"', True, id="key-name"),
        pytest.param('EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"', False, id="hash-name"),
        pytest.param('x = "d41d8cd98f00b204e9800998ecf8427e"', False, id="no-context"),
        pytest.param('pair = ("AKIAIOSFODNN7EXAMPLE", "d41d8cd98f00b204e9800998ecf8427e")', True, id="beside-a-key"),
        pytest.param("# AZURE_OPENAI_API_KEY=d41d8cd98f00b204e9800998ecf8427e", True, id="comment-key-name"),
        pytest.param('assert md5(b"").hexdigest() == "d41d8cd98f00b204e9800998ecf8427e"', False, id="hexdigest"),
    ],
)
def test_a_32_hex_value_is_judged_by_its_context(source: str, secret: bool) -> None:
    found = "d41d8cd98f00b204e9800998ecf8427e" not in redact_secrets(source).text
    assert found is secret


def test_findings_name_kind_and_line() -> None:
    source = f'"""Module."""\n\nA = 1\nKEY = "{AWS_KEY_ID}"\nB = 2\n\nDSN = "postgres://u:s3cr3t!pw@db/x"\n'
    findings = find_secrets(source)
    assert [(finding.kind, finding.line) for finding in findings] == [
        ("AWS Access Key", 4),
        ("Basic Auth Credentials", 7),
    ]
    assert source[findings[0].start : findings[0].end] == AWS_KEY_ID
