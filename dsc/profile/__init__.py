"""`dsc profile` and `dsc init`: see what a data file holds, then start its policy from the evidence.

:func:`build_profile` turns loaded rows (:func:`load_files`, :func:`load_spec`) into a JSON-ready
dict; :func:`render_profile` shows it as rich tables; :func:`starter_policy` writes the starter
`.dspec` the figures suggest. See docs/profile.md.
"""
from dsc.profile.build import build_profile
from dsc.profile.init import starter_policy
from dsc.profile.load import Loaded, ProfileError, load_files, load_spec
from dsc.profile.render import render_profile

__all__ = ["Loaded", "ProfileError", "build_profile", "load_files", "load_spec", "render_profile", "starter_policy"]
