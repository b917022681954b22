"""pydantic's plugins off while the engine loads (the `reconcile` command, the Ansible modules).

pydantic looks up every installed distribution's entry points for plugins when it builds the
engine's models; none is wanted here, and the look-up costs more than a whole plan. Only while
loading: the commands a run starts (activation, tedge) get the environment the process was given.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

PLUGINS_OFF = "PYDANTIC_DISABLE_PLUGINS"


@contextmanager
def plugins_off():
    """A value the caller set is left as it is; nesting is harmless."""
    ours = PLUGINS_OFF not in os.environ
    if ours:
        os.environ[PLUGINS_OFF] = "__all__"
    try:
        yield
    finally:
        if ours:
            os.environ.pop(PLUGINS_OFF, None)
