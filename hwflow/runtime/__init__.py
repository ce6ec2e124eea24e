"""Code that ships to the board: DMA driver, power sensors, recorder, energy maths, runner.

This folder is copied into the deployment bundle as-is and runs on PYNQ images (Python >= 3.8,
old numpy), so every module imports only the standard library and numpy at module level, and
nothing from the rest of ``hwflow``; ``pynq`` is imported lazily where a real board is used.
On a PC the same code runs against :class:`EmulatedOverlay` and :class:`SimulatedSensor`.
"""

from .driver import AcceleratorDriver, BoardUnavailable, DMATimeout, DriverError, IOSpec, PynqBackend
from .emulated import EmulatedOverlay
from .energy import Measurement, align_meter_log, energy_summary, measure, repetitions_needed
from .fixedpoint import FixedType, FloatType, parse_wire_type
from .recorder import Recorder, Recording
from .sensors import (
                      CsvMeterLog,
                      HwmonSensor,
                      NoSensor,
                      PmbusSensor,
                      PowerSensor,
                      SensorError,
                      SimulatedSensor,
                      XrtSensor,
                      make_sensor,
)

__all__ = [
                      "AcceleratorDriver",
                      "BoardUnavailable",
                      "CsvMeterLog",
                      "DMATimeout",
                      "DriverError",
                      "EmulatedOverlay",
                      "FixedType",
                      "FloatType",
                      "HwmonSensor",
                      "IOSpec",
                      "Measurement",
                      "NoSensor",
                      "PmbusSensor",
                      "PowerSensor",
                      "PynqBackend",
                      "Recorder",
                      "Recording",
                      "SensorError",
                      "SimulatedSensor",
                      "XrtSensor",
                      "align_meter_log",
                      "energy_summary",
                      "make_sensor",
                      "measure",
                      "parse_wire_type",
                      "repetitions_needed",
]
