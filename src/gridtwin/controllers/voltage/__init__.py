"""Voltage control: on-load tap changer, local DER curves, centralized optimization."""

from gridtwin.controllers.voltage.central import CentralDecision, CentralVoltageControl
from gridtwin.controllers.voltage.controller import LocalCurves, VoltageCommands, VoltageController
from gridtwin.controllers.voltage.curves import PRESETS, Curve, first_order
from gridtwin.controllers.voltage.oltc import Oltc

__all__ = [
    "PRESETS",
    "CentralDecision",
    "CentralVoltageControl",
    "Curve",
    "LocalCurves",
    "Oltc",
    "VoltageCommands",
    "VoltageController",
    "first_order",
]
