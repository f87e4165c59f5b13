"""Training settings in plain words, shared by the settings form and the runs table (translated)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication


def depth_names() -> dict[str, str]:
    return {"deep": QCoreApplication.translate("SettingNames", "Every layer (deep, more accurate)"),
            "shallow": QCoreApplication.translate("SettingNames", "First layer only (shallow, faster)")}


def init_names() -> dict[str, str]:
    return {"mean_pool": QCoreApplication.translate("SettingNames", "From the pictures: averages"),
            "max_pool": QCoreApplication.translate("SettingNames", "From the pictures: strongest features"),
            "kmeans": QCoreApplication.translate("SettingNames", "From the pictures: typical patterns (k-means)"),
            "sample": QCoreApplication.translate("SettingNames", "From the pictures: random samples"),
            "random": QCoreApplication.translate("SettingNames", "Random (recommended)")}


def fit_names() -> dict[str, str]:
    return {"crop": QCoreApplication.translate("SettingNames",
                                               "Centre of the picture (the model's own; edges are cut off)"),
            "whole": QCoreApplication.translate("SettingNames", "Whole picture, stretched to fit"),
            "pad": QCoreApplication.translate("SettingNames", "Whole picture, with borders added")}


def short_init_names() -> dict[str, str]:
    """For table cells."""
    return {"mean_pool": QCoreApplication.translate("SettingNames", "averages"),
            "max_pool": QCoreApplication.translate("SettingNames", "strongest features"),
            "kmeans": QCoreApplication.translate("SettingNames", "typical patterns"),
            "sample": QCoreApplication.translate("SettingNames", "samples"),
            "random": QCoreApplication.translate("SettingNames", "random")}


def prompts_text(count, depth: str) -> str:
    if depth == "shallow":
        return QCoreApplication.translate("SettingNames", "{count}, first layer").format(count=count)
    return QCoreApplication.translate("SettingNames", "{count}, every layer").format(count=count)
