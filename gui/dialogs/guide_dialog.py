"""Help > Operator guide: the whole workflow on one page, in plain words."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from ..i18n import Retranslating


class GuideDialog(Retranslating, QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.text = QTextBrowser()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        self.resize(720, 560)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Operator guide"))
        steps = [
            self.tr("<b>1 Capture.</b> Choose where the pictures come from (a camera, a video, a network camera or "
                    "a folder) and press Start. Add a class for each kind of part or defect, for example “ok” and "
                    "“scratch”. Choose a class with the number keys, then press Space to take a picture or B for "
                    "a burst. Take at least 5, better 20, pictures per class, of different parts."),
            self.tr("<b>2 Train.</b> Give the task a name and press Start training. The checks above the button "
                    "say what is missing. The bar shows the whole run and the time left."),
            self.tr("<b>3 Evaluate.</b> The big figure is how often the task was right on pictures it did not "
                    "learn from: trust this one. “Check on the project's pictures” tests it on pictures taken after "
                    "training; click a "
                    "red cell to see the pictures it got wrong, and move them to the right class if they were "
                    "sorted wrongly."),
            self.tr("<b>4 Export.</b> Tick the tasks the station should run and press Build bundle. Copy the "
                    "bundle folder to the station."),
            self.tr("<b>5 Live.</b> Press Start inspection. Good parts show in green, defects in red, and “Not "
                    "sure” in amber: check those parts by hand. Use Good results… to say which classes are good."),
            self.tr("Mistakes can be undone with Ctrl+Z. Deleted pictures go to the project's trash. Everything "
                    "is saved as you go."),
        ]
        self.text.setHtml("".join(f"<p>{step}</p>" for step in steps))
