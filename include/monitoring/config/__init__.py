"""Monitor files (`include/monitors/<model>.yaml`) -> validated, frozen config objects.

schema.py: the dataclasses; loader.py: YAML reading and type coercion; checks.py: rules that span keys;
ranges.py: the values each numeric key accepts; expectations.py: the model's own expectation suite file.
Stdlib + PyYAML only: DAG files load monitor files at parse time.
"""

from __future__ import annotations

from include.monitoring.catalogue import (
    CATEGORICAL_DRIFT_METHODS,
    CHANNELS,
    DEFAULT_PERFORMANCE_METRICS,
    NUMERIC_DRIFT_METHODS,
    PERFORMANCE_METRICS,
    TaskType,
)
from include.monitoring.config.checks import EARLIEST_START, LATEST_START, MAX_MODEL_NAME_LENGTH
from include.monitoring.config.expectations import EXPECTATIONS_DIR
from include.monitoring.config.loader import MONITORS_DIR, load_all_monitors, load_monitor_config, monitors_dir
from include.monitoring.config.ranges import NUMERIC_RANGES, Range
from include.monitoring.config.schema import (
    DEFAULT_PERSISTENCE,
    MAX_LOOKBACK_WINDOWS,
    SCHEDULES,
    AlertsConfig,
    ApplicationConfig,
    DriftConfig,
    DynamicThreshold,
    FeatureDrift,
    FeaturesConfig,
    LabelsConfig,
    MonitorConfig,
    PerformanceConfig,
    Persistence,
    ReferenceConfig,
    Silence,
    Tiers,
    ValidationConfig,
    WarehouseConfig,
)

__all__ = [
    "CATEGORICAL_DRIFT_METHODS",
    "CHANNELS",
    "DEFAULT_PERFORMANCE_METRICS",
    "DEFAULT_PERSISTENCE",
    "EARLIEST_START",
    "EXPECTATIONS_DIR",
    "LATEST_START",
    "MAX_LOOKBACK_WINDOWS",
    "MAX_MODEL_NAME_LENGTH",
    "MONITORS_DIR",
    "NUMERIC_DRIFT_METHODS",
    "NUMERIC_RANGES",
    "PERFORMANCE_METRICS",
    "SCHEDULES",
    "AlertsConfig",
    "ApplicationConfig",
    "DriftConfig",
    "DynamicThreshold",
    "FeatureDrift",
    "FeaturesConfig",
    "LabelsConfig",
    "MonitorConfig",
    "PerformanceConfig",
    "Persistence",
    "Range",
    "ReferenceConfig",
    "Silence",
    "TaskType",
    "Tiers",
    "ValidationConfig",
    "WarehouseConfig",
    "load_all_monitors",
    "load_monitor_config",
    "monitors_dir",
]
