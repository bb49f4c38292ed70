"""The exception hierarchy. Every message says what failed, where, and what was expected."""

from __future__ import annotations


class MonitoringError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MonitoringError):
    """A monitor file is invalid: the message names the file, the key and the valid options."""


class ConnectionConfigError(MonitoringError):
    """An Airflow connection is missing or of a kind this package cannot use."""


class WarehouseError(MonitoringError):
    """The prediction warehouse could not be read (missing table, no answer, bad SQL)."""


class ReferenceMissingError(MonitoringError):
    """No reference profile could be found or built for a model."""


class MissingColumnsError(WarehouseError):
    """A warehouse table lacks columns the monitor file names."""


class MissingTableError(WarehouseError):
    """A table the monitor file names does not exist in the warehouse."""


class WindowNotMonitoredError(MonitoringError):
    """A task of the window's run failed for good; its failure was recorded and alerted. Retrying cannot help."""
