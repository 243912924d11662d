"""End-to-end: an object whose shown source holds a credential is not made visible by the plugin.

Documenting an object publishes its signature and, with `show_source`, its source. mkdocstrings hides undocumented
objects, so these credentials were not on the site before the plugin; they must not be after it either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BuildResult, build, build_env, make_site
from tests.emulator import AzureEmulator
from tests.test_build import marked_ids, site_objects, text_of

# Made-up credentials, assembled here so that scanners of this repository do not flag them.
PASSWORD = "Tr0ub4dor&" + "3xq"
TOKEN = "ghp_" + "Zt9Qk2LmW8xR4vB7nC1pD5sF3gH6jK0aE2yU"
AWS_KEY = "AKIA" + "Q3EGRTZ7WXN2LPVM"
SECRETS = (PASSWORD, TOKEN, AWS_KEY)

API_SOURCE = f'''\
def connect(host, password="{PASSWORD}"):
    return (host, password)


def fetch(url):
    token = "{TOKEN}"
    return url, token


class Signer:
    def sign(self, payload):
        key = "{AWS_KEY}"
        return payload, key

    def close(self):
        return None


def add(a, b):
    return a + b
'''
PACKAGE = {"vault/__init__.py": '"""Vault helpers."""\n', "vault/api.py": API_SOURCE}
PAGES = {"index.md": "# API\n\n::: vault.api\n"}
HANDLER = {"show_source": True}
REASON = (
    "secret: {kind} at src/vault/api.py:{line}; remove it from the code (objects holding credentials are not published)"
)


def _line_of(text: str) -> int:
    return next(number for number, line in enumerate(API_SOURCE.splitlines(), 1) if text in line)


def _leaks(result: BuildResult) -> list[str]:
    """Secrets found in a page's markup or in its text (entities decoded, highlighting spans removed)."""
    return [
        f"{secret!r} in {page}"
        for page, html in result.pages().items()
        for secret in SECRETS
        if secret in html or secret in text_of(html)
    ]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, BuildResult, list[str]]:
    """A build without the plugin, then one with it against the emulator, and the request bodies it received."""
    with AzureEmulator(api_key="test-key") as emulator:
        root = tmp_path_factory.mktemp("secret-objects")
        plain_site = make_site(root / "plain", PACKAGE, PAGES, handler_options=HANDLER, plugins_order=("mkdocstrings",))
        plain = build(plain_site, build_env(None, root))
        site = make_site(root / "plugin", PACKAGE, PAGES, {"cache_dir": str(root / "cache")}, handler_options=HANDLER)
        with_plugin = build(site, build_env(emulator, root), emulator=emulator)
        bodies = [json.dumps(request.body) for request in emulator.requests]
    return plain, with_plugin, bodies


def test_without_the_plugin_the_undocumented_objects_and_their_secrets_are_hidden(
    builds: tuple[BuildResult, BuildResult, list[str]],
) -> None:
    plain, _, _ = builds
    assert plain.returncode == 0, plain.output
    assert not _leaks(plain)
    assert not {"vault.api.connect", "vault.api.fetch", "vault.api.Signer"} & set(site_objects(plain))


def test_with_the_plugin_no_secret_reaches_the_site(builds: tuple[BuildResult, BuildResult, list[str]]) -> None:
    _, result, _ = builds
    assert result.returncode == 0, result.output
    assert not _leaks(result)
    assert not any(secret in result.output for secret in SECRETS)
    report = json.dumps(result.report)
    assert not any(secret in report for secret in SECRETS)


def test_the_clean_function_is_generated_and_marked(builds: tuple[BuildResult, BuildResult, list[str]]) -> None:
    _, result, _ = builds
    assert result.statuses()["vault.api.add"] == "generated"
    assert "vault.api.add" in marked_ids(result)


def test_objects_holding_credentials_are_skipped_with_file_and_line(
    builds: tuple[BuildResult, BuildResult, list[str]],
) -> None:
    _, result, _ = builds
    assert result.report is not None
    reasons = {item["path"]: (item["status"], item["reason"]) for item in result.report["objects"]}
    password = REASON.format(kind="Secret Keyword", line=_line_of(PASSWORD))
    token = REASON.format(kind="GitHub Token", line=_line_of(TOKEN))
    key = REASON.format(kind="AWS Access Key", line=_line_of(AWS_KEY))
    assert reasons["vault.api.connect"] == ("skipped", password)
    assert reasons["vault.api.fetch"] == ("skipped", token)
    # The class shows its whole body, so the key in one method keeps the class and all its methods off the page.
    assert reasons["vault.api.Signer"] == ("skipped", key)
    assert reasons["vault.api.Signer.sign"] == ("skipped", key)
    assert reasons["vault.api.Signer.close"] == ("skipped", key)
    assert f"vault.api.connect not generated: {password}" in result.output
    assert not {"vault.api.connect", "vault.api.fetch", "vault.api.Signer"} & set(site_objects(result))


def test_no_secret_is_sent_to_the_model(builds: tuple[BuildResult, BuildResult, list[str]]) -> None:
    _, _, bodies = builds
    assert bodies, "the clean objects were generated through the emulator"
    assert not [secret for secret in SECRETS for body in bodies if secret in body]


def test_the_check_can_be_turned_off(tmp_path: Path, emulator: AzureEmulator) -> None:
    site = make_site(
        tmp_path,
        PACKAGE,
        PAGES,
        {"cache_dir": str(tmp_path / "cache"), "skip_objects_with_secrets": False},
        handler_options=HANDLER,
    )
    result = build(site, build_env(emulator, tmp_path), emulator=emulator)
    assert result.returncode == 0, result.output
    assert result.statuses()["vault.api.connect"] == "generated"
    # Then the source is published as it is: the choice is the maintainer's.
    assert _leaks(result)


def test_only_what_the_plugin_would_newly_show_is_checked(tmp_path: Path) -> None:
    import griffe

    from mkdocs_ai_docstrings._internal.discovery import discover
    from mkdocs_ai_docstrings._internal.settings import Settings

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        f'KEY = "{AWS_KEY}"\n\n\n'
        "class Documented:\n"
        '    """People documented this class: it is on the page already, with its source."""\n\n'
        f'    def sign(self):\n        return "{TOKEN}"\n\n'
        "    def close(self):\n        return None\n",
        encoding="utf-8",
    )
    package = griffe.load("pkg", search_paths=[str(tmp_path)])
    candidates = {c.path: c for c in discover(package, Settings(include_attributes=True))}
    # The module's own source is never shown, so its members are judged one by one.
    assert candidates["pkg"].secret is None
    assert candidates["pkg.KEY"].secret is not None
    assert candidates["pkg.KEY"].secret.startswith("secret: AWS Access Key at ")
    assert candidates["pkg.KEY"].secret.split(";")[0].endswith("pkg/__init__.py:1")
    # A method's own source is shown once it is documented; its documented class adds nothing new.
    assert candidates["pkg.Documented.sign"].secret is not None
    assert candidates["pkg.Documented.close"].secret is None
    assert "pkg.Documented" not in candidates
