"""Business profiles beyond their own file (core/profile.py): scaffolding a new one and
checking that the files a profile points at load and agree (``tether init``, ``tether check``)."""
