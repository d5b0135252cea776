"""Every example in the README and in the documentation site (docs/) runs as written, so neither can drift from
the code: Python blocks run, ``callhooks`` command lines parse, scenario files load, fixtures and callback
payloads read, BXML documents parse.

A Python block gets no ``CALLHOOKS_*`` or ``CATAPULT_*`` variable it does not name on its ``# Needs:`` line
(``callhooks simulate`` there: a simulator is started and its ``CATAPULT_*`` variables set). Test functions a
block defines are called, with the ``callhooks_simulator`` fixture when they ask for it.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from callhooks import bxml, parse_event_json
from callhooks.cli import UsageError, _build_parser
from callhooks.events import UnknownEvent
from callhooks.fixtures import load_fixture
from callhooks.simulator import Simulator
from callhooks.testing import running_simulator

from .doc_blocks import ROOT, Block, all_blocks, blocks, command_lines, pages

BLOCKS = all_blocks()
LANGUAGES = {"python", "bash", "sh", "yaml", "json", "xml", "text"}


def _of(*languages: str) -> list[Block]:
    return [block for block in BLOCKS if block.language in languages and block.not_run is None]


def _ids(found: list[Block]) -> list[str]:
    return [block.name for block in found]


def test_every_page_has_its_examples_and_every_block_a_known_language() -> None:
    assert len(_of("python")) >= 30
    assert len(blocks(ROOT / "README.md")) >= 3
    unknown = [block.name for block in BLOCKS if block.language not in LANGUAGES]
    assert not unknown, f"blocks without a language this test knows: {unknown}"


def test_blocks_left_out_say_why_and_stay_rare() -> None:
    left_out = [block for block in BLOCKS if block.not_run is not None]
    assert all(len(block.not_run or "") >= 10 for block in left_out)
    assert len(left_out) <= 6, _ids(left_out)


def test_a_marked_block_is_left_out_with_its_reason_and_indented_blocks_are_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n<!-- not run: it calls the real platform -->\n```python\nimport x\n```\n\n"
        "- a list item:\n\n  ```bash\n  callhooks demo --inbound\n  ```\n"
    )
    marked, indented = blocks(page)
    assert (marked.language, marked.source, marked.not_run) == ("python", "import x\n", "it calls the real platform")
    assert (indented.language, indented.source, indented.not_run) == ("bash", "callhooks demo --inbound\n", None)
    assert command_lines(indented.source) == [["demo", "--inbound"]]


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in list(os.environ):
        if name.startswith(("CALLHOOKS_", "CATAPULT_", "PROMETHEUS_")):
            monkeypatch.delenv(name)
    yield monkeypatch


def _provide(needs: str, monkeypatch: pytest.MonkeyPatch, stack: ExitStack) -> None:
    for name, value in re.findall(r"\b([A-Z][A-Z0-9_]+)=(\S+?)(?:,|\s|$)", needs):
        monkeypatch.setenv(name, value)
    if "callhooks simulate" in needs:
        session = stack.enter_context(running_simulator())
        for name, value in session.environ.items():
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize("block", _of("python"), ids=_ids(_of("python")))
def test_python_example_runs(block: Block, clean_environment: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    with ExitStack() as stack:
        _provide(block.needs, clean_environment, stack)
        exec(compile(block.source, block.name, "exec"), namespace)
        tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
        for test in tests:
            if "callhooks_simulator" in inspect.signature(test).parameters:
                with running_simulator() as session:
                    test(callhooks_simulator=session)
            else:
                test()


def test_a_block_without_its_needs_line_fails_without_the_environment(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    # What the convention guards: a block reading CALLHOOKS_SECRET cannot pass on the test's environment alone.
    source = "from callhooks import CallHooks\nCallHooks.from_env()\n"
    with pytest.raises(ValueError, match="CALLHOOKS_SECRET"):
        exec(compile(source, "example", "exec"), {"__name__": "docs_example"})


COMMANDS = [(block, command) for block in _of("bash", "sh") for command in command_lines(block.source)]


@pytest.mark.parametrize(("block", "argv"), COMMANDS, ids=[f"{b.name}:{' '.join(c)[:40]}" for b, c in COMMANDS])
def test_command_lines_name_real_commands_and_flags(block: Block, argv: list[str]) -> None:
    parser = _build_parser()
    args, extras = parser.parse_known_args(argv)  # UsageError on an unknown command or a bad value
    assert not extras or args.command == "send", f"{block.name}: unknown arguments {extras}"


def test_command_line_check_catches_a_made_up_flag_or_command() -> None:
    (argv,) = command_lines("PORT=1 .venv/bin/callhooks run app:hooks --no-such-flag  # a comment\n")
    assert argv == ["run", "app:hooks", "--no-such-flag"]
    assert _build_parser().parse_known_args(argv)[1] == ["--no-such-flag"]
    with pytest.raises(UsageError):
        _build_parser().parse_known_args(["no-such-command"])


def test_the_docs_name_most_commands() -> None:
    named = {command[0] for _, command in COMMANDS if command}
    assert {"run", "simulate", "demo", "replay", "failed", "sign-url", "send"} <= named


@pytest.mark.parametrize("block", _of("yaml"), ids=_ids(_of("yaml")))
def test_scenario_files_load(block: Block, tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(block.source)
    Simulator.from_scenario(tmp_path / "scenario.yaml")


@pytest.mark.parametrize("block", _of("json"), ids=_ids(_of("json")))
def test_json_is_a_fixture_or_a_callback_that_parses(block: Block) -> None:
    value = json.loads(block.source)
    if isinstance(value, dict) and "format" in value:
        load_fixture(block.source)
    elif isinstance(value, dict) and "eventType" in value:
        event = parse_event_json(block.source.encode())
        assert not isinstance(event, UnknownEvent), block.name


@pytest.mark.parametrize("block", _of("xml"), ids=_ids(_of("xml")))
def test_bxml_documents_parse(block: Block) -> None:
    bxml.parse(block.source)


def test_pages_are_the_readme_and_the_site() -> None:
    assert {page.name for page in pages()} >= {"README.md", "index.md", "quickstart.md", "catapult-voice.md"}


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # As CI builds it: any broken link, missing page, unknown anchor or docstring reference fails.
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "site" / "reference" / "callhooks" / "index.html").exists()


def test_the_sites_hook_drops_the_role_prefix_of_docstring_references() -> None:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    html = "<p>:class:<code>Faults</code> and :meth:<code>Simulator.script</code>, 1:2:<b>3</b></p>"
    assert hooks.on_page_content(html) == "<p><code>Faults</code> and <code>Simulator.script</code>, 1:2:<b>3</b></p>"


def _options(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    """Each command's option strings (a command with commands of its own: theirs together)."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, set[str]] = {}
    for name, sub in commands.choices.items():
        options = {option for action in sub._actions for option in action.option_strings}
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for nested in action.choices.values():
                    options |= {option for each in nested._actions for option in each.option_strings}
        found[name] = options
    return found


def test_the_command_line_pages_table_names_real_commands_and_options() -> None:
    options = _options(_build_parser())
    rows = re.findall(r"^\| `callhooks ([\w-]+)(.*)$", (ROOT / "docs" / "guides" / "cli.md").read_text(), re.MULTILINE)
    assert {command for command, _ in rows} == set(options)
    unknown = {(command, flag) for command, row in rows for flag in re.findall(r"--[\w-]+", row)} - {
        (command, flag) for command, flags in options.items() for flag in flags
    }
    assert not unknown, sorted(unknown)
