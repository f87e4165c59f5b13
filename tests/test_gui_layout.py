"""The window is usable at 1280 x 720 in both languages (issue 11.4). The real-window test checks it on an X screen."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QPoint, QRect  # noqa: E402

from conftest import tiny_backbone_config  # noqa: E402
from gui_fixtures import quiet_app  # noqa: E402,F401 - autouse

from gui.project import Project  # noqa: E402

SCREEN = (1280, 720)


@pytest.fixture
def window(qtbot, tmp_path):
    from gui.app import build_window

    window = build_window("en")
    qtbot.addWidget(window)
    project = Project.create(tmp_path / "p", "layout", tiny_backbone_config().to_dict(),
                             classes=["ok", "scratch", "pit", "crack"])
    window.set_project(project)
    window.show()
    yield window
    window.close_project()
    window.languages.apply("en")


def inside(window, widget) -> bool:
    """Whether ``widget`` is shown entirely inside the window (not cut off, not scrolled away sideways)."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    return widget.isVisible() and window.rect().contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_window_fits_a_1280x720_screen(window, qtbot, language):
    window.set_language(language)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1100 and hint.height() <= 650, hint      # room to spare on a 1280 x 720 panel PC
    window.resize(*SCREEN)
    qtbot.wait(50)
    assert (window.width(), window.height()) == SCREEN
    capture = window.pages["capture"]
    for widget in (capture.class_list.delete_button, capture.import_folder_button, capture.capture_button,
                   capture.source_bar.start_button):
        assert inside(window, widget), widget.text()


@pytest.mark.parametrize("language", ["en", "ja"])
def test_advanced_settings_scroll_without_hiding_buttons(window, qtbot, language):
    window.set_language(language)
    window.resize(*SCREEN)
    window.show_page("train")
    page = window.pages["train"]
    page.form.advanced_toggle.setChecked(True)
    qtbot.wait(50)
    assert inside(window, page.start_button) and inside(window, page.cancel_button)
    scroll = page.settings_scroll
    assert not scroll.horizontalScrollBar().isVisible()
    change = page.form.model_row.change_button
    right_edge = change.mapTo(scroll.viewport(), QPoint(change.width(), 0)).x()
    assert right_edge <= scroll.viewport().width()                    # not hidden behind the scroll bar
    scroll.ensureWidgetVisible(page.form.arguments_edit)             # the last field can be reached
    qtbot.wait(20)
    assert page.form.arguments_edit.visibleRegion().boundingRect().width() > 0


def test_long_setting_names_show_in_full_in_their_lists(window):
    window.set_language("ja")
    box = window.pages["train"].form.fit_box
    view = box.view()
    widest = max(view.fontMetrics().horizontalAdvance(box.itemText(row)) for row in range(box.count()))
    assert view.minimumWidth() > widest                                 # every item in full...
    assert box.minimumSizeHint().width() < widest                       # ...though the box itself is narrow
