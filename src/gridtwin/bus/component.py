"""The MQTT bridge as a component (``mqtt:`` section or ``--mqtt URL``).

::

    Sensors.frame, Estimator.estimate, Forecaster.forecast, Scada.reported_*
        ──view──► BusPublish ──► broker
    broker ──► BusCommands ──commands (stamped with the previous step)──► Channel ──► Grid

The bridge is on the control-centre side of the boundary: it reads only view
ports and writes only commands through the command channel.
"""

from __future__ import annotations

import json
from typing import Any

from gridtwin.components import Wiring
from gridtwin.grid.topology import element_names

__all__ = ["MqttBridge"]


class MqttBridge:
    """The process bus: publishes the control-centre view, takes commands."""

    name = "mqtt"

    def plan(self, wiring: Wiring) -> None:
        self.bridge: Any = None
        wiring.sections.append(lambda: {"bus": self.bridge.section()} if self.bridge else {})

    def add(self, wiring: Wiring) -> None:
        from gridtwin.bus.bridge import Bridge, BusClock
        from gridtwin.bus.client import BusClient
        from gridtwin.bus.commands import CommandParser, target_specs
        from gridtwin.bus.topics import Topics, resolve_prefix
        from gridtwin.grid.command_limits import REJECTED_TABLE

        scenario, prep = wiring.scenario, wiring.prepared
        spec = scenario.mqtt
        run_id = str(wiring.resources.get("run_id", scenario.name))
        topics = Topics(resolve_prefix(spec.topic_prefix, run_id, scenario.name))
        views = _views(wiring, topics)
        factor = scenario.realtime.factor if scenario.realtime is not None else None
        wall = spec.clock == "wall" or (spec.clock == "auto" and factor is not None)
        step_s = wiring.step_s
        clock = BusClock(
            int(scenario.time.start.timestamp()), wall, step_s * (factor or 1.0) if wall else step_s
        )
        parser = CommandParser(
            target_specs(prep.net, scenario.profiles.sgen_scale), spec.formats.commands
        )
        client = BusClient(
            spec.url,
            spec.client_id or f"gridtwin-{run_id}",
            subscriptions=[topics.commands],
            retained=lambda: bridge.retained(),
            keepalive_s=spec.keepalive_s,
            reconnect_min_s=spec.reconnect_min_s,
            reconnect_max_s=spec.reconnect_max_s,
            max_queued=spec.max_queued,
            max_pending=spec.max_pending_commands,
        )
        store = wiring.recorder_params["store"]
        store.append_rows(REJECTED_TABLE, [])  # present in the run directory even if empty
        info = {
            "run_id": run_id,
            "scenario": scenario.name,
            "step_s": step_s,
            "start": scenario.time.start.isoformat(),
            "clock": "wall" if wall else "simulated",
            "formats": spec.formats.model_dump(),
            "prefix": topics.prefix,
        }
        bridge = Bridge(
            client,
            topics,
            parser,
            clock,
            views,
            spec.max_lateness_s if spec.max_lateness_s is not None else clock.step_s,
            store,
            run_info=json.dumps(info, separators=(",", ":")).encode(),
            qos=spec.qos,
            step_s=step_s,
        )
        self.bridge = bridge
        client.start()
        client.wait_connected(spec.connect_wait_s)  # the first frames reach a broker that is up
        world = wiring.world
        publish = world.start("BusPublish", bridge=bridge, step_s=step_s).BusPublish()
        wiring.add_function("mqtt_view", publish, commands=False)
        ports = {"measurements": ["measurement_frame"], "estimates": ["estimate"]}
        ports["forecasts"] = ["forecast"]
        ports["status"] = ["reported_switch_closed", "reported_trafo_tap_pos"]
        wiring.read(publish, *[p for group in views for p in ports[group]], optional=True)
        commands = world.start("BusCommands", bridge=bridge, step_s=step_s).BusCommands()
        wiring.add_function("mqtt", commands, previous_step=True)


def _views(wiring: Wiring, topics: Any) -> dict[str, Any]:
    from gridtwin.bus.views import estimate_view, forecast_view, measurement_view, status_view

    spec, prep = wiring.scenario.mqtt, wiring.prepared
    views = {}
    if spec.publish.measurements and prep.plan is not None:
        views["measurements"] = measurement_view(
            topics.measurements, prep.plan.sc_name, spec.formats.measurements
        )
    if spec.publish.estimates and wiring.scenario.estimation is not None:
        views["estimates"] = estimate_view(
            topics.estimates, element_names(prep.net, "bus"), spec.formats.estimates
        )
    if spec.publish.forecasts and prep.forecaster is not None:
        views["forecasts"] = forecast_view(
            topics.forecasts,
            prep.forecaster.targets.names,
            prep.forecaster.config.quantiles,
            spec.formats.forecasts,
        )
    if spec.publish.status:
        views["status"] = status_view(
            topics.status,
            element_names(prep.net, "switch"),
            element_names(prep.net, "trafo"),
            spec.formats.status,
        )
    return views
