"""The process bus: an MQTT bridge between the control-centre view and external functions.

Each step the bridge publishes what a control centre sees (measurement
frames; optionally estimates and reported switch and tap positions) and
takes commands (switch open/close, tap position, DER P limit and Q
set-point, storage P) from the broker. It sits on the control-centre side
of the boundary: it reads only view ports and writes only commands through
the command channel, like a built-in function.

Modules: :mod:`.payloads` (VILLASnode and SOGNO JSON), :mod:`.topics` (the
topic layout), :mod:`.commands` (parsing and validating commands),
:mod:`.client` (the paho-mqtt client: reconnect with back-off, drops),
:mod:`.bridge_sim` (the mosaik simulators) and :mod:`.component` (the
component that wires them).
"""
