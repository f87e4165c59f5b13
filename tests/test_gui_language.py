"""Japanese: everything an operator can see is translated (issue 11.9)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("PySide6")
from gui_fixtures import quiet_app  # noqa: E402,F401 - autouse

from gui.project import Project  # noqa: E402
from vpt_core.errors import VptError  # noqa: E402

ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def japanese(qapp):
    from gui.i18n import LanguageSwitcher

    languages = LanguageSwitcher()
    assert languages.apply("ja")
    yield
    languages.apply("en")


def test_class_name_and_import_problems_from_the_project_code_are_translated(japanese, tmp_path):
    from gui.error_texts import translate_error
    from gui.project_files import image_problem

    project = Project.create(tmp_path / "p", classes=["ok"])
    messages = []
    for bad in ("", "a/b", ".hidden", "x" * 81, "OK"):
        with pytest.raises(VptError) as raised:
            project.check_class_name(bad)
        messages.append(str(raised.value))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG no")
    messages += [image_problem(tmp_path / "notes.txt"), image_problem(tmp_path / "broken.png")]
    for message in messages:
        shown = translate_error(message)
        leftover = ENGLISH_WORD.findall(re.sub(r"x{20,}|notes\.txt|broken\.png|hidden|OK|ok", "", shown))
        assert shown != message and not leftover, (message, shown)
