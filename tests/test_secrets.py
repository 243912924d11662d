"""Specification of `secrets.py`, the one module that keeps credentials out of messages, URLs and prompts."""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs_ai_docstrings._internal.secrets import redact_source, scrub, scrub_url

KEY = "0123456789abcdef0123456789abcdef"
INTERNAL = Path(__file__).parent.parent / "mkdocs_ai_docstrings" / "_internal"


def test_a_message_loses_the_build_key_url_credentials_and_auth_header_values() -> None:
    message = f"failed: api-key: {KEY} at https://user:hunter2@host/x?sig=abc&v=1 (Authorization: Bearer tok123)"
    scrubbed = scrub(message, (KEY,))
    assert KEY not in scrubbed and "hunter2" not in scrubbed and "abc" not in scrubbed and "tok123" not in scrubbed
    assert "https://host/x?sig=***&v=1" in scrubbed


def test_a_url_keeps_its_host_path_and_harmless_parameters() -> None:
    assert scrub_url("https://u:p@r.openai.azure.com:8443/openai?api-version=2024-10-21&api-key=s") == (
        "https://r.openai.azure.com:8443/openai?api-version=2024-10-21&api-key=***"
    )


def test_source_loses_the_build_key_even_with_detection_off() -> None:
    source = f'KEY = "{KEY}"\nOTHER = "ghp_{"a1" * 18}"\n'
    off = redact_source(source, (KEY, ""), detect=False)
    assert off.text == 'KEY = "<redacted:API key>"\n' + source.splitlines(keepends=True)[1]
    assert (off.count, off.kinds) == (1, ("API key",))
    on = redact_source(source, (KEY,))
    assert KEY not in on.text and "ghp_" not in on.text and on.count == 2


def test_no_other_module_scrubs_or_redacts_on_its_own() -> None:
    own = {"secrets.py", "redact.py"}
    for module in sorted(INTERNAL.glob("*.py")):
        if module.name in own:
            continue
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"^def (scrub|redact)\w*\(", text, re.M), module.name
        assert "from mkdocs_ai_docstrings._internal.redact import" not in text, module.name
        assert "<redacted:" not in text, module.name
