"""The builder is typed: mypy (strict) rejects a misspelled attribute, a wrong value type or a verb nested where
the platform does not allow it, before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[2]

USER_CODE = """\
from callhooks import bxml

fine = bxml.Response(
    bxml.Gather(bxml.SpeakSentence("Hi", gender="male"), request_url="https://a.example/", max_digits=3),
    bxml.Transfer(bxml.PhoneNumber("+19195550100"), bxml.Record(), transfer_to="+19195550101"),
    bxml.Redirect(request_url_timeout=5000),
    bxml.Pause(length=3),
)
bxml.Gather(max_digit=3)
bxml.Gather(max_digits="3")
bxml.SpeakSentence("Hi", gender="robot")
bxml.Redirect(request_url="https://a.example/")
bxml.Gather(bxml.Hangup())
bxml.Transfer(bxml.Gather())
bxml.Response(bxml.PhoneNumber("+19195550100"))
"""


@pytest.mark.slow  # runs mypy over a file: 20 s
@pytest.mark.timeout(300)
def test_mypy_strict_rejects_what_the_platform_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "user.py").write_text(USER_CODE)
    monkeypatch.setenv("MYPYPATH", str(ROOT))
    monkeypatch.chdir(tmp_path)
    # The project's settings (strict) and cache, which the `mypy` step before the tests has filled.
    settings = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache")]
    report, _, _ = mypy_api.run([*settings, "--no-error-summary", "user.py"])
    errors = {int(line): message for line, message in re.findall(r"^user\.py:(\d+): error: (.*)$", report, re.M)}
    assert sorted(errors) == list(range(9, 16)), report
    assert 'Unexpected keyword argument "max_digit" for "Gather"; did you mean "max_digits"?' in errors[9]
    assert 'incompatible type "str"; expected "int | None"' in errors[10]
    assert "expected \"Literal['female', 'male']\"" in errors[11]
    assert 'Missing named argument "request_url_timeout" for "Redirect"' in errors[12]
    assert 'Argument 1 to "Gather" has incompatible type "Hangup"' in errors[13]
    assert 'Argument 1 to "Transfer" has incompatible type "Gather"' in errors[14]
    assert 'Argument 1 to "Response" has incompatible type "PhoneNumber"' in errors[15]
