"""Redaction measured both ways on the corpus in `tests/redaction_corpus.py`.

Prints, as `key: value` lines:

- the detection rate: secrets whose every character is gone from the redacted text, divided by the secrets;
- the false-redaction rate: look-alike snippets altered by redaction, divided by the look-alikes;
- the runtime per KB of source, over the whole corpus repeated `--repeat` times.

With `--verbose`, every miss and every altered look-alike is printed too.

Usage:
    python bench/redaction.py [--repeat 50] [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mkdocs_ai_docstrings._internal.redact import find_secrets, redact_secrets  # noqa: E402
from tests.redaction_corpus import ADVERSARIAL, LOOKALIKES, SECRETS, Entry  # noqa: E402


def missed(entry: Entry) -> list[str]:
    """The labelled secrets of `entry` of which some character survives redaction."""
    covered = [(finding.start, finding.end) for finding in find_secrets(entry.source)]
    redacted = redact_secrets(entry.source).text
    misses = []
    for spans in entry.secrets:
        gone = all(any(start <= a and b <= end for start, end in covered) for a, b in spans)
        pieces = [entry.source[a:b] for a, b in spans]
        if not gone or any(len(piece) >= 6 and piece in redacted for piece in pieces):
            misses.append("".join(pieces))
    return misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    secrets = sum(len(entry.secrets) for entry in SECRETS)
    misses = {entry.id: missed(entry) for entry in SECRETS}
    detected = secrets - sum(len(found) for found in misses.values())
    altered = {entry.id: redact_secrets(entry.source) for entry in LOOKALIKES}
    altered = {key: result for key, result in altered.items() if result.count}

    texts = [entry.source for entry in (*SECRETS, *LOOKALIKES)]
    size_kb = sum(len(text.encode()) for text in texts) / 1024
    redact_secrets("warm up")
    start = time.perf_counter()
    for _ in range(args.repeat):
        for text in texts:
            redact_secrets(text)
    elapsed = time.perf_counter() - start

    print(f"secret_snippets: {len(SECRETS)}")
    print(f"secrets: {secrets}")
    print(f"detected: {detected}")
    print(f"detection_rate: {detected / secrets:.4f}")
    print(f"lookalikes: {len(LOOKALIKES)}")
    print(f"lookalikes_altered: {len(altered)}")
    print(f"false_redaction_rate: {len(altered) / len(LOOKALIKES):.4f}")
    print(f"corpus_kb: {size_kb:.1f}")
    print(f"ms_per_kb: {elapsed * 1000 / (size_kb * args.repeat):.3f}")
    # A whole file of ordinary code is the common case: time one large text too.
    big = "\n".join(entry.source for entry in LOOKALIKES) * 20
    start = time.perf_counter()
    redact_secrets(big)
    print(f"ms_per_kb_large_text: {(time.perf_counter() - start) * 1000 / (len(big.encode()) / 1024):.3f}")
    # Inputs built to make a backtracking regex blow up (the tests check their result; the time is here).
    adversarial = []
    for text in ADVERSARIAL.values():
        start = time.perf_counter()
        redact_secrets(text)
        adversarial.append((time.perf_counter() - start) * 1000)
    print(f"adversarial_ms_max: {max(adversarial):.1f}")
    if args.verbose:
        for key, found in misses.items():
            for secret in found:
                print(f"MISSED {key}: {secret[:60]!r}")
        for key, result in altered.items():
            print(f"ALTERED {key}: {result.text.strip()[:160]!r}")


if __name__ == "__main__":
    main()
