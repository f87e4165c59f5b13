"""Languages: English (the source text) and Japanese, via Qt's translation system.

Every visible string goes through ``self.tr`` or ``QCoreApplication.translate``;
the Japanese catalogue is ``resources/translations/vpt_ja.ts`` compiled to
``vpt_ja.qm``. Switching language installs another translator; Qt then sends
every widget a LanguageChange event and each one re-reads its texts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

import resources

LANGUAGES = {"en": "English", "ja": "日本語"}
TRANSLATIONS_DIR = Path(resources.__file__).resolve().parent / "translations"


def system_language() -> str:
    """'ja' on a Japanese system, else 'en'."""
    for name in QLocale.system().uiLanguages():
        if name.lower().startswith("ja"):
            return "ja"
        if name.lower().startswith("en"):
            return "en"
    return "ja" if QLocale.system().language() == QLocale.Language.Japanese else "en"


def catalogue_path(language: str) -> Path:
    return TRANSLATIONS_DIR / f"vpt_{language}.qm"


class QtGapsTranslator(QTranslator):
    """Qt's own dialog texts that its shipped catalogue lacks (Qt 6 added mnemonics to these two labels)."""

    TEXTS = {"ja": {("QFileDialog", "&Look in:"): "場所(&L):",
                    ("QFileDialog", "Files of &type:"): "ファイルの種類(&T):"}}

    def __init__(self, language: str, parent=None):
        super().__init__(parent)
        self.table = self.TEXTS.get(language, {})

    def translate(self, context, source, disambiguation=None, n=-1):  # noqa: ARG002 - Qt's signature
        return self.table.get((context, source))   # None: not ours, ask the next catalogue

    def isEmpty(self) -> bool:  # noqa: N802
        return not self.table


class LanguageSwitcher:
    """Holds the installed translators so a switch can replace them."""

    def __init__(self) -> None:
        self.language = "en"
        self._installed: list[QTranslator] = []

    def apply(self, language: str) -> bool:
        """Install ``language``; False (and English) if its catalogue is missing or unreadable."""
        app = QCoreApplication.instance()
        for translator in self._installed:
            app.removeTranslator(translator)
        self._installed.clear()
        self.language = "en"
        if language not in LANGUAGES:
            return False
        if language == "en":
            return True
        translator = QTranslator(app)
        if not translator.load(str(catalogue_path(language))):
            return False
        app.installTranslator(translator)
        self._installed.append(translator)
        qt_translator = QTranslator(app)   # Qt's own dialogs (file chooser, message box buttons)
        from PySide6.QtCore import QLibraryInfo

        qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_translator.load(QLocale(language), "qtbase", "_", qt_folder):
            app.installTranslator(qt_translator)
            self._installed.append(qt_translator)
        gaps = QtGapsTranslator(language, app)
        app.installTranslator(gaps)
        self._installed.append(gaps)
        self.language = language
        return True


def set_text(label, make_text) -> None:
    """Show ``make_text()`` now and again after a language switch (for texts that depend on state)."""
    label._make_text = make_text
    label.setText(make_text())


def refresh_texts(widget) -> None:
    from PySide6.QtWidgets import QLabel

    for label in widget.findChildren(QLabel):
        make_text = getattr(label, "_make_text", None)
        if make_text is not None:
            label.setText(make_text())


class Retranslating:
    """Mixin for widgets: call ``retranslate()`` when the language changes (put it before the Qt class)."""

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            refresh_texts(self)
        super().changeEvent(event)

    def retranslate(self) -> None:
        raise NotImplementedError
