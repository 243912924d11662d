"""One `mkdocs build` in this process, printing as JSON the seconds the product itself spent in it.

Run by `warm_rebuild.py` (`python bench/_own_share.py mkdocs.yml`): the wall ratios of whole builds move with the
load of a shared machine, while the product's own share, timed inside the build, moves much less. Timed: importing
the package (the MkDocs stack imported first, as a build has it), the extension's `on_package`, and the end of the
build (final report, coverage page, summary), which runs when the build's modules collection is released.
"""

from __future__ import annotations

import json
import sys
import time

import mkdocs.commands.build
import mkdocs.config
import mkdocs.config.config_options
import mkdocs.plugins
import mkdocstrings  # noqa: F401  (the MkDocs stack a build imports before the extension)
import mkdocstrings_handlers.python  # noqa: F401

started = time.perf_counter()
from mkdocs_ai_docstrings._internal import extension, standalone  # noqa: E402

spent = {"import": time.perf_counter() - started, "on_package": 0.0, "end_of_build": 0.0}


def _timed(owner: type, name: str, phase: str) -> None:
    original = getattr(owner, name)

    def timed(*args: object, **kwargs: object) -> object:
        begin = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[phase] += time.perf_counter() - begin

    setattr(owner, name, timed)


_timed(extension.AIDocstringsExtension, "on_package", "on_package")
_timed(standalone.StandaloneBuild, "close", "end_of_build")
config = mkdocs.config.load_config(sys.argv[1])
begin = time.perf_counter()
mkdocs.commands.build.build(config)
for build in list(standalone._OPEN):  # what the release of the collection (or the exit) would run
    build.close()
spent["build"] = time.perf_counter() - begin
print(json.dumps({name: round(value, 4) for name, value in spent.items()}))
