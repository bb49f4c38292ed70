"""Monitor files -> validated, frozen config objects (being split into modules; see schema.py)."""

from include.monitoring.config.schema import *  # noqa: F403 (one step of the split: the module moved as a whole)
