"""Part of the desktop app; see gui/__init__.py."""
