"""A corpus for measuring redaction both ways: credentials that must go, look-alikes that must stay.

Every value is synthesised (a seeded generator in the real format, or a vendor's published example such as AWS's
`AKIAIOSFODNN7EXAMPLE`); none is a real secret. Snippets are Python source as a documented object would hold it.
In a snippet, `«...»` marks one secret; `«+...»` continues the previous secret (a key split across literals). The
markers are removed to give `Entry.source`; their spans become `Entry.secrets`.
"""

from __future__ import annotations

import base64
import json
import random
import re
from dataclasses import dataclass

__all__ = ["LOOKALIKES", "SECRETS", "Entry"]

_RNG = random.Random(20240610)
_HEX = "0123456789abcdef"
_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALNUM = _UPPER + _UPPER.lower() + _DIGITS
_B64 = _ALNUM + "+/"
_B64URL = _ALNUM + "-_"


def _r(alphabet: str, length: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(length))


def _b64(length: int) -> str:
    return base64.b64encode(_RNG.randbytes(length)).decode()


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _pem_body(lines: int, sep: str = "\n") -> str:
    text = base64.b64encode(_RNG.randbytes(48 * lines)).decode()
    return sep.join(text[i : i + 64] for i in range(0, len(text), 64))


@dataclass(frozen=True)
class Entry:
    """One snippet of Python source, with the spans of each secret it holds."""

    id: str
    source: str
    secrets: tuple[tuple[tuple[int, int], ...], ...] = ()
    """Each secret as the spans (start, end) of `source` that make it up (several when split across literals)."""


_MARK = re.compile(r"«(\+?)(.*?)»", re.DOTALL)


def _entry(entry_id: str, marked: str) -> Entry:
    parts: list[str] = []
    secrets: list[list[tuple[int, int]]] = []
    position = 0
    length = 0
    for match in _MARK.finditer(marked):
        before = marked[position : match.start()]
        parts.append(before)
        length += len(before)
        value = match.group(2)
        span = (length, length + len(value))
        if match.group(1) and secrets:
            secrets[-1].append(span)
        else:
            secrets.append([span])
        parts.append(value)
        length += len(value)
        position = match.end()
    parts.append(marked[position:])
    return Entry(entry_id, "".join(parts), tuple(tuple(spans) for spans in secrets))


# ----------------------------------------------------------------------------------------------------------------------
# Credentials (synthesised values in real formats)

_AWS_ID = "AKIA" + _r(_UPPER + _DIGITS, 16)
_AWS_SECRET = _r(_B64, 40)
_AZURE_STORAGE = _b64(64)
_AZURE_SB = _b64(32)
_AZURE_HEX = _r(_HEX, 32)
_AZURE_84 = _r(_ALNUM, 52) + "JQQJ99BAACYeBjFXJ3w3AAAAACOG" + _r(_ALNUM, 4)
_GOOGLE = "AIza" + _r(_B64URL, 35)
_GOOGLE2 = "AIza" + _r(_B64URL, 35)
_GCP_SECRET = "GOCSPX-" + _r(_B64URL, 28)
_GHP = "ghp_" + _r(_ALNUM, 36)
_GH_FINE = "github_pat_" + _r(_ALNUM, 22) + "_" + _r(_ALNUM, 59)
_GHO = "gho_" + _r(_ALNUM, 36)
_GLPAT = "glpat-" + _r(_B64URL, 20)
_SLACK_BOT = f"xoxb-{_r(_DIGITS, 12)}-{_r(_DIGITS, 13)}-{_r(_ALNUM, 24)}"
_SLACK_HOOK = f"https://hooks.slack.com/services/T{_r(_UPPER, 8)}/B{_r(_UPPER, 10)}/{_r(_ALNUM, 24)}"
_STRIPE = "sk_live_" + _r(_ALNUM, 24)
_STRIPE_RK = "rk_live_" + _r(_ALNUM, 24)
_OPENAI = "sk-proj-" + _r(_B64URL, 48) + "T3BlbkFJ" + _r(_B64URL, 48)
_OPENAI_OLD = "sk-" + _r(_ALNUM, 20) + "T3BlbkFJ" + _r(_ALNUM, 20)
_ANTHROPIC = "sk-ant-api03-" + _r(_B64URL, 93) + "AA"
_NPM = "npm_" + _r(_ALNUM, 36)
_PYPI = "pypi-AgEIcHlwaS5vcmc" + _r(_B64URL, 120)
_TWILIO_SK = "SK" + _r(_HEX, 32)
_TWILIO_TOKEN = _r(_HEX, 32)
_SENDGRID = "SG." + _r(_B64URL, 22) + "." + _r(_B64URL, 43)
_JWT = (
    _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "1234567890", "name": "Ada", "iat": 1516239022})
    + "."
    + _r(_B64URL, 43)
)
_HF = "hf_" + _r(_ALNUM, 34)
_PASSWORD = "Tr0ub4dor&" + _r(_ALNUM, 4)
_PASSWORD2 = "hunter2x!"

SECRETS: tuple[Entry, ...] = tuple(
    _entry(entry_id, marked)
    for entry_id, marked in [
        ("aws-access-key-id", f'AWS_ACCESS_KEY_ID = "«{_AWS_ID}»"\n'),
        ("aws-secret-kwarg", f's3 = boto3.client("s3", aws_secret_access_key="«{_AWS_SECRET}»")\n'),
        ("aws-secret-bare", f'    ("default", "«{_AWS_SECRET}»"),\n'),
        (
            "aws-pair-ini",
            f'CREDS = """[default]\naws_access_key_id = «{_AWS_ID}»\naws_secret_access_key = «{_AWS_SECRET}»\n"""\n',
        ),
        (
            "azure-storage-connection-string",
            f'CONN = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=«{_AZURE_STORAGE}»;'
            'EndpointSuffix=core.windows.net"\n',
        ),
        (
            "azure-service-bus",
            'SB = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;'
            f'SharedAccessKey=«{_AZURE_SB}»"\n',
        ),
        ("azure-openai-hex-kwarg", f'client = AzureOpenAI(azure_endpoint=url, api_key="«{_AZURE_HEX}»")\n'),
        ("azure-openai-hex-environ", f'os.environ["AZURE_OPENAI_API_KEY"] = "«{_AZURE_HEX}»"\n'),
        ("azure-openai-hex-setdefault", f'os.environ.setdefault("AZURE_OPENAI_API_KEY", "«{_AZURE_HEX}»")\n'),
        ("azure-cognitive-header", f'headers = {{"Ocp-Apim-Subscription-Key": "«{_AZURE_HEX}»"}}\n'),
        ("azure-ai-84-header", f'headers = {{"api-key": "«{_AZURE_84}»"}}\n'),
        ("azure-ai-84-bare", f'KEY = "«{_AZURE_84}»"\n'),
        ("google-api-key", f'GOOGLE_MAPS = "«{_GOOGLE}»"\n'),
        (
            "google-api-key-url",
            f'URL = "https://maps.googleapis.com/maps/api/geocode/json?address=x&key=«{_GOOGLE2}»"\n',
        ),
        ("google-api-key-comment", f"# works with «{_GOOGLE}» for now\n"),
        (
            "gcp-oauth-client-secret",
            f'CLIENT = {{"client_id": "123-abc.apps.googleusercontent.com", "client_secret": "«{_GCP_SECRET}»"}}\n',
        ),
        (
            "gcp-service-account-json",
            'SA = \'{"type": "service_account", "project_id": "demo", '
            f'"private_key": "-----BEGIN PRIVATE KEY-----\\\\n«{_pem_body(6, chr(92) * 2 + "n")}»\\\\n-----END PRIVATE KEY-----\\\\n", '
            '"client_email": "svc@demo.iam.gserviceaccount.com"}\'\n',
        ),
        ("github-classic", f'GITHUB_TOKEN = "«{_GHP}»"\n'),
        ("github-fine-grained", f'gh = Github(auth=Auth.Token("«{_GH_FINE}»"))\n'),
        ("github-oauth", f'session.headers["Authorization"] = "token «{_GHO}»"\n'),
        ("gitlab", f'gl = gitlab.Gitlab(url, private_token="«{_GLPAT}»")\n'),
        ("slack-bot", f'app = App(token="«{_SLACK_BOT}»")\n'),
        ("slack-webhook", f'WEBHOOK = "«{_SLACK_HOOK}»"\n'),
        ("stripe-secret", f'stripe.api_key = "«{_STRIPE}»"\n'),
        ("stripe-restricted", f'RESTRICTED = "«{_STRIPE_RK}»"\n'),
        ("openai-project", f'client = OpenAI(api_key="«{_OPENAI}»")\n'),
        ("openai-legacy", f"# OPENAI_API_KEY=«{_OPENAI_OLD}»\n"),
        ("anthropic", f'client = anthropic.Anthropic(api_key="«{_ANTHROPIC}»")\n'),
        ("npmrc", f'NPMRC = "//registry.npmjs.org/:_authToken=«{_NPM}»\\n"\n'),
        ("npm-bare", f'NPM = "«{_NPM}»"\n'),
        ("pypi", f'PYPIRC = """[pypi]\nusername = __token__\npassword = «{_PYPI}»\n"""\n'),
        ("twilio-key", f'client = Client("«{_TWILIO_SK}»", "«{_TWILIO_TOKEN}»", account_sid)\n'),
        ("twilio-auth-token", f'TWILIO_AUTH_TOKEN = "«{_TWILIO_TOKEN}»"\n'),
        ("sendgrid", f'sg = SendGridAPIClient("«{_SENDGRID}»")\n'),
        ("huggingface", f'login(token="«{_HF}»")\n'),
        ("jwt", f'headers = {{"Authorization": "Bearer «{_JWT}»"}}\n'),
        ("jwt-bare", f'SESSION = "«{_JWT}»"\n'),
        (
            "pem-rsa",
            f'KEY = """-----BEGIN RSA PRIVATE KEY-----\n«{_pem_body(8)}»\n-----END RSA PRIVATE KEY-----\n"""\n',
        ),
        ("pem-ec", f'EC = """\n-----BEGIN EC PRIVATE KEY-----\n«{_pem_body(3)}»\n-----END EC PRIVATE KEY-----"""\n'),
        (
            "pem-openssh",
            f'SSH = """-----BEGIN OPENSSH PRIVATE KEY-----\n«{_pem_body(7)}»\n-----END OPENSSH PRIVATE KEY-----\n"""\n',
        ),
        (
            "pem-pkcs8-escaped",
            f'PK = "-----BEGIN PRIVATE KEY-----\\n«{_pem_body(5, chr(92) + "n")}»\\n-----END PRIVATE KEY-----\\n"\n',
        ),
        (
            "pem-encrypted",
            f'ENC = """-----BEGIN ENCRYPTED PRIVATE KEY-----\n«{_pem_body(6)}»\n-----END ENCRYPTED PRIVATE KEY-----"""\n',
        ),
        ("postgres-url", 'DATABASE_URL = "postgresql://app_user:«S3cure!pass»@db.internal:5432/app"\n'),
        ("mysql-url", 'engine = create_engine("mysql+pymysql://root:«my5ql-R00t»@127.0.0.1/shop")\n'),
        ("mongodb-srv", 'URI = "mongodb+srv://reader:«qW8zLp2vXn»@cluster0.ab1cd.mongodb.net/?retryWrites=true"\n'),
        ("redis-no-user", 'REDIS = "redis://:«p4ssw0rdRedis»@cache:6379/0"\n'),
        ("amqp-url", 'BROKER = "amqp://guest:«Rabb1tMQ-pw»@rabbit:5672//"\n'),
        (
            "odbc",
            'CS = "Driver={ODBC Driver 18 for SQL Server};Server=tcp:db,1433;Uid=sa;Pwd=«Sql$erver2022»;Encrypt=yes"\n',
        ),
        ("odbc-password", 'CS = "Server=db;Database=app;User Id=app;Password=«Pa55w0rd»;"\n'),
        (
            "url-api-key",
            'resp = requests.get("https://api.example.com/v1/items?api_key=«a8f5f167f44f4964e6c998dee827110c»&page=2")\n',
        ),
        ("url-access-token", 'url = f"{base}/me?fields=id&access_token=«EAAGm0PX4ZCpsBA1x9ZC8q»"\n'),
        (
            "url-sas",
            'BLOB = "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2030-01-01&sig=«Xk2%2Fq9L8vB3nM1pZ7wR4tY6uI0oP5aS%3D»"\n',
        ),
        ("url-user-pass", 'feed = "https://bob:«b0bs-Secret»@feeds.example.com/rss"\n'),
        ("url-token-param", 'HOOK = "https://ci.example.com/hook?token=«7d2f9a41c8e3b6»"\n'),
        ("yaml-password", 'CONFIG = """\ndatabase:\n  host: db\n  password: «hunter2x!»\n"""\n'),
        ("yaml-api-key", 'CONFIG = """\nservice:\n  api_key: «k3y-Zp9Qw2Lm»\n  timeout: 30\n"""\n'),
        ("ini-secret", 'INI = """\n[auth]\nuser = admin\nsecret = «s3cr3t-Value_42»\n"""\n'),
        ("shell-export", 'SCRIPT = """#!/bin/sh\nexport APP_SECRET=«Xy7!kQ2#pL9»\nexport APP_ENV=prod\n"""\n'),
        ("shell-export-quoted", "SCRIPT = \"export DB_PASSWORD='«Qw3rty!9»'\\nrun\"\n"),
        ("dotenv", f'ENV = """\nDEBUG=false\nSTRIPE_SECRET_KEY=«{_STRIPE}»\nDB_PASS=«Zx9-Lk8-Mn7»\n"""\n'),
        ("dotenv-escaped", 'ENV = "SMTP_PASSWORD=«mai1-Pa55»\\nSMTP_HOST=mail\\n"\n'),
        (
            "toml-token",
            'PYPROJECT = """\n[tool.poetry.http-basic.private]\nusername = "ci"\npassword = "«c1-Pa$$w0rd»"\n"""\n',
        ),
        ("json-in-string", 'PAYLOAD = \'{"username": "ada", "password": "«L0velace#1815»"}\'\n'),
        ("dict-literal", f'settings = {{"password": "«{_PASSWORD}»", "user": "ada"}}\n'),
        ("dict-literal-secret-key", 'SECRET_KEY = "«django-insecure-8f$k2^m!x7q@z3w#p9r*v1b&n6c)t4y»"\n'),
        ("keyword-default", f'def connect(host, password="«{_PASSWORD}»"):\n    return Db(host, password)\n'),
        ("keyword-default-annotated", 'def login(user: str, token: str = "«tk_9a8b7c6d5e4f3g»") -> None:\n    ...\n'),
        ("annotated-attribute", 'api_key: Final[str] = "«a1b2c3d4e5-KEY-f6g7h8»"\n'),
        ("split-implicit", f'KEY = "«{_AWS_ID[:4]}»" "«+{_AWS_ID[4:]}»"\n'),
        ("split-plus", f'KEY = "«{_OPENAI[:3]}»" + "«+{_OPENAI[3:]}»"\n'),
        (
            "split-parenthesised",
            f'TOKEN = (\n    "«{_GHP[:14]}»"\n    "«+{_GHP[14:28]}»"\n    "«+{_GHP[28:]}»"\n)\n',
        ),
        ("split-google", f'MAPS_KEY = ("«{_GOOGLE[:20]}»"  # browser key\n            "«+{_GOOGLE[20:]}»")\n'),
        ("split-password", 'password = ("«hunt»" + "«+er2x!!»")\n'),
        ("split-slack", f'SLACK = "«{_SLACK_BOT[:10]}»" + \\\n    "«+{_SLACK_BOT[10:]}»"\n'),
        ("bearer-header", f'requests.get(url, headers={{"Authorization": "Bearer «{_r(_B64URL, 40)}»"}})\n'),
        ("basic-auth-header", 'headers = {"Authorization": "Basic «YWRtaW46czNjcjN0UGFzcw==»"}\n'),
        ("libpq-dsn", 'conn = psycopg2.connect("host=db user=app password=«BByReQMsm9Wc9» dbname=x")\n'),
        ("discord-style-token", 'BOT_TOKEN = "«cUEqPbENqTyH5xJ8tpqX.JQ4I9d.Ov8GZ4fKq1OKtbgZVaMWUFuXBVj»"\n'),
        ("requests-auth-pair", 'resp = requests.get(url, auth=("admin", "«dctBYVhnSg9E4!»"))\n'),
        ("docker-login-string", 'run("docker login -u me -p «H6yO4GFQRC5xLRwI0b26» registry.example.com")\n'),
        ("cli-password-flag", 'CMD = ["psql", "--password=«pG-Adm1n-2024»", "-h", "db"]\n'),
        ("discord-webhook", f'HOOK = "«https://discord.com/api/webhooks/123456789012345678/{_r(_B64URL, 68)}»"\n'),
        ("azure-search-key", f'search = SearchClient(endpoint, index, AzureKeyCredential("«{_r(_HEX, 32)}»"))\n'),
        (
            "client-secret-url",
            f'url = "https://api.example.com/v2/oauth?client_secret=«{_r(_ALNUM, 24)}»&client_id=abc"\n',
        ),
        ("minio-pair", f'client = Minio("s3", access_key="«{_AWS_ID}»", secret_key="«{_r(_B64, 40)}»")\n'),
        ("hex-token-json", f'    "token": "«{_r(_HEX, 40)}»",\n'),
    ]
)
"""Snippets holding credentials, each labelled."""


# ----------------------------------------------------------------------------------------------------------------------
# Look-alikes (must be left exactly as they are)

LOOKALIKES: tuple[Entry, ...] = tuple(
    Entry(entry_id, source)
    for entry_id, source in [
        ("md5-test-vector", 'assert hashlib.md5(b"abc").hexdigest() == "900150983cd24fb0d6963f7d28e17f72"\n'),
        ("sha1-test-vector", 'assert sha1(b"abc").hexdigest() == "a9993e364706816aba3e25717850c26c9cd0d89d"\n'),
        (
            "sha256-vectors",
            "VECTORS = [\n"
            '    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),\n'
            '    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),\n'
            "]\n",
        ),
        (
            "sha512-expected",
            'EXPECTED = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a'
            '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"\n',
        ),
        ("md5-digest-name", 'EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"\n'),
        (
            "hash-dict",
            'DIGESTS = {"md5": "5d41402abc4b2a76b9719d911017c592", "sha1": "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"}\n',
        ),
        (
            "hmac-test-vector",
            'def test_hmac():\n    assert hmac.new(b"key", b"msg", "md5").hexdigest() == "18e3548c59ad40dc03907b1b46b3d1e5"\n',
        ),
        ("git-sha", 'COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"\n'),
        ("git-sha-short", 'BUILT_FROM = "3f78685"  # git rev-parse --short HEAD\n'),
        ("git-sha-12", 'REVISION = "3f786850e387"\n'),
        ("git-sha-bare", '    return "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"\n'),
        (
            "pre-commit-rev",
            'HOOKS = """\n- repo: https://github.com/psf/black\n  rev: 3f786850e387550fdab836ed7e6dc881de23001b\n"""\n',
        ),
        ("uuid-dashed", 'NAMESPACE = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")\n'),
        ("uuid-upper", 'SUBSCRIPTION_ID = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"\n'),
        ("uuid-braces", 'CLSID = "{00021401-0000-0000-C000-000000000046}"\n'),
        ("uuid-urn", 'ID = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"\n'),
        ("uuid-hex32", 'request_id = "f81d4fae7dec11d0a76500a0c91e6bf6"\n'),
        ("uuid-hex32-call", 'run_id = uuid.UUID(hex="5f0c2f3e9b8a4d7c8e1f2a3b4c5d6e7f")\n'),
        (
            "sri-hash",
            'SCRIPT = \'<script src="x.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC" '
            "crossorigin></script>'\n",
        ),
        (
            "sri-value",
            'INTEGRITY = "sha512-Q2bFTOhEALkN8hOms2FKTDLy7eugP2zFZ1T8LCvX42Fp3WoNr3bjZSAHeOsHrbV1Fu9/A0EzCinRE7Af1ofPrw=="\n',
        ),
        ("base64-text", 'GREETING = base64.b64decode("SGVsbG8sIFdvcmxkISBUaGlzIGlzIGp1c3QgYSBncmVldGluZy4=")\n'),
        ("base64-text-constant", 'BANNER = "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw=="\n'),
        (
            "data-uri",
            'PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="\n',
        ),
        ("long-identifier", 'TEST_NAME = "test_that_the_frobnicator_handles_unicode_input_correctly"\n'),
        ("long-camel", 'FACTORY = "AbstractSingletonProxyFactoryBeanConfigurationProvider"\n'),
        ("dotted-path", 'FIELD = "django.contrib.contenttypes.fields.GenericForeignKey"\n'),
        ("mixed-identifier", 'CACHE_KEY = "UserProfileSerializerV2CacheEntryForTenantId"\n'),
        ("css-colours", 'PALETTE = {"primary": "#1e90ff", "accent": "#FF4081", "muted": "rgb(120, 120, 120)"}\n'),
        ("version-strings", '__version__ = "2.31.0"\nMIN_API = "2024-10-21"\nDEV = "0.15.0.dev3+g1a2b3c4d"\n'),
        (
            "pip-hashes",
            'REQUIREMENTS = """\nrequests==2.31.0 \\\\\n    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f\n"""\n',
        ),
        (
            "lock-checksum",
            'LOCK = """\n[[package]]\nname = "six"\nchecksum = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"\n"""\n',
        ),
        ("docker-digest", 'IMAGE = "python@sha256:7b8e6f3c1d2a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"\n'),
        ("regex-aws", 'AWS_KEY_PATTERN = re.compile(r"(?<![A-Z0-9])AKIA[0-9A-Z]{16}(?![A-Z0-9])")\n'),
        ("regex-base64", 'BASE64 = re.compile(r"^[A-Za-z0-9+/]{40,}={0,2}$")\n'),
        ("regex-openai", 'OPENAI_KEY = re.compile(r"sk-[A-Za-z0-9_-]{20,}")\n'),
        ("getpass", 'password = getpass.getpass("Password: ")\n'),
        ("annotation", "class Login:\n    password: str\n    token: str | None = None\n"),
        ("environ", 'token = os.environ["TOKEN"]\napi_key = os.getenv("API_KEY", "")\n'),
        ("passthrough", "client = Client(api_key=api_key, password=password, token=self.token)\n"),
        ("compare-empty", 'if password == "":\n    raise ValueError("empty password")\n'),
        ("placeholder-angle", 'client = Client(api_key="<your-key>")\n'),
        ("placeholder-changeme", 'DEFAULTS = {"password": "changeme", "token": "xxx"}\n'),
        ("placeholder-your", 'API_KEY = "YOUR_API_KEY_HERE"\nSECRET = "your-secret-here"\n'),
        ("placeholder-template", 'URL = "postgres://{user}:{password}@{host}/db"\nTOKEN = "${GITHUB_TOKEN}"\n'),
        ("placeholder-jinja", 'ACTION = "token: ${{ secrets.PYPI_TOKEN }}"\n'),
        ("placeholder-stars", 'MASKED = {"password": "********", "api_key": "sk-..."}\n'),
        ("placeholder-url-words", 'EXAMPLE = "postgresql://user:password@localhost:5432/mydb"\n'),
        ("mock-test-key", 'def test_client():\n    client = Client(api_key="test-key", token="fake-token")\n'),
        (
            "mock-docstring",
            'def make():\n    """Build one.\n\n    >>> make_client(password="dummy-password")\n    """\n',
        ),
        ("mock-values", 'MOCK_SECRET = "mock-secret"\nFAKE_PASSWORD = "fake_password"\n'),
        (
            "docstring-prose",
            'def f(password):\n    """Check it.\n\n    Args:\n        password: The password: at least 8 characters.\n    """\n',
        ),
        ("config-template", 'TEMPLATE = """\ndatabase:\n  password: ${DB_PASSWORD}\n  token: !env API_TOKEN\n"""\n'),
        ("config-reference", 'ENV = """\nSECRET_KEY=\nAPI_KEY=changeme\nDB_PASSWORD=<set me>\n"""\n'),
        ("url-query-plain", 'DOCS = "https://example.com/search?q=tokenizer&page=2&key=value"\n'),
        ("arn", 'ROLE = "arn:aws:iam::123456789012:role/service-role/MyLambdaRole"\n'),
        ("numbers", "LARGE = 123456789012345678901234567890\nMASK = 0xDEADBEEFCAFEBABE\n"),
        ("token-kinds", 'TOKEN_TYPES = ("access_token", "refresh_token", "id_token")\nSECRET_ENV = "APP_SECRET_KEY"\n'),
        ("password-prompt", 'PROMPT = "Enter your password: "\nHINT = "password: use 12+ characters"\n'),
        ("hash-of-password", "password_hash = hashlib.sha256(password.encode()).hexdigest()\n"),
        ("etag", 'headers = {"ETag": "\\"33a64df551425fcc55e4d42a148795d9f25f89d4\\""}\n'),
        ("hash-list", 'KNOWN_GOOD = ["5d41402abc4b2a76b9719d911017c592", "7d793037a0760186574b0282f2f435e7"]\n'),
        ("parent-sha", 'parent_sha = "e83c5163316f89bfbde7d9ab23ca2e25604af290"\n'),
        ("object-id", 'object_id = "5f0c2f3e9b8a4d7c8e1f2a3b"\n'),
        (
            "wheel-hash",
            'WHEEL = "pkg-1.0.0-py3-none-any.whl#sha256=4c7a9b8e2f1d3c5b6a7e8f9d0c1b2a3e4f5d6c7b8a9e0f1d2c3b4a5e6f7d8c9b"\n',
        ),
        ("base64-url-text", 'BASE = "aHR0cHM6Ly9leGFtcGxlLmNvbS9wYXRoL3RvL3Jlc291cmNl"\n'),
        ("traceparent", 'TRACE_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"\n'),
        ("author-yaml", 'META = """\nauthor: jdoe1984\ntokenizer: gpt2-medium-v2\nbypass_cache: on2\n"""\n'),
        ("secret-file-path", 'TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"\n'),
        ("vault-read", 'secret = vault.read("kv/app")["data"]["secret"]\n'),
        ("kwargs-pop", 'self.api_key = kwargs.pop("api_key", None)\n'),
        ("comment-code", '# password=os.getenv("DB_PASSWORD"), token=get_token()\n'),
        ("blake2-comment", 'h = blake2b(b"", digest_size=16).hexdigest()  # "cae66941d9efbd404e4d88758ea67670"\n'),
        ("url-keyword-param", 'SEARCH = "https://pypi.org/search/?q=&keyword=tokenizers&page=3"\n'),
        ("nonce-name", 'FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"\n'),
    ]
)
"""Snippets of ordinary code that look like credentials; none must change."""


ADVERSARIAL = {
    "keyword-run": "secret" * 5000 + '="x"',
    "keywords-per-line": ("secret " * 140 + '="x"\n') * 20,
    "pem-markers": "-----BEGIN PRIVATE KEY-----" * 3000,
    "dashes": "sk-" + "a-" * 20000,
    "npm": "//a/:_authToken=" * 3000,
    "url-shapes": "://a:" * 10000,
}
"""Inputs built to make a backtracking pattern blow up: tests check the result, bench/redaction.py the time."""
