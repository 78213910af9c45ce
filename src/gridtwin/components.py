"""The component contract, the control-centre view and the registry.

Everything in the loop is a component: the physical world (grid, SCADA,
sensors, events), the command channel, the recorder, and every automation
function. A component declares in one place what it records and what it
reads and writes; :mod:`gridtwin.world` builds the mosaik world from the
registry and the scenario and holds no function-specific code.

The boundary
------------
An automation function reads only ports of the **control-centre view**
(:data:`VIEW_PORTS`): measurement frames, status indications as SCADA reports
them, metered powers, crew reports, estimates, forecasts. It writes only
``commands`` (a list of :class:`~gridtwin.grid.commands.Command`), which the
world connects to the command channel, time-shifted: a command decided at
``t`` acts at ``t + step`` at the earliest. Field devices' own loops (an OLTC
relay, an inverter's Q(U) curve) may also read :data:`FIELD_PORTS`, the
readings a device takes at its own terminals. Nothing else: the wiring refuses
a function that asks for any other port, and ``tests/test_boundary.py``
checks the data-flow graph of every shipped scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "FIELD_PORTS",
    "VIEW_PORTS",
    "Component",
    "Feed",
    "Flow",
    "RowWriter",
    "Wiring",
]

RowWriter = Callable[[str, int, list[dict[str, Any]]], None]
"""``(table, time_s, rows)``: appends free-form rows, stamped with ``time`` and ``sim_time_s``."""

Feed = Callable[[int, Any, RowWriter], None]
"""``(time_s, inputs, write_rows)``, called by the recorder every step: ``inputs`` maps
each recorder input (a port's name) to this step's value, None where nothing came."""

VIEW_PORTS: dict[str, str] = {
    "measurement_frame": "MeasurementFrame: value [unit in each name], sigma, valid per scalar",
    "estimate": "StateEstimate: bus_vm_pu, bus_va_degree, line_p_from_mw, ..., status",
    "forecast": "ForecastStep: quantiles per target [MW]",
    "pseudo": "PseudoForecast: per-element forecast of the step [MW, MVAr]",
    "telemetry": "Telemetry: every SCADA and metering signal below at once",
    "reported_switch_closed": "switch positions as reported [bool]",
    "reported_line_in_service": "line availability as reported [bool]",
    "reported_trafo_tap_pos": "tap positions as reported [-]",
    "fault_indication": "fault passage indicator per switch [bool]",
    "metered_load_p_mw": "metered load active power [MW], NaN without reading",
    "metered_load_q_mvar": "metered load reactive power [MVAr], NaN without reading",
    "metered_sgen_p_mw": "metered generator active power [MW], NaN without reading",
    "metered_sgen_q_mvar": "metered generator reactive power [MVAr], NaN without reading",
    "der_available_p_mw": "available active power per DER unit (its telemetry) [MW]",
    "reports": "(time_s, [event]): crew repair reports and operator requests",
    "setpoints": "VoltageCommands: the DER set-points the control centre commanded [MVAr, MW]",
    "switch_orders": "[Command]: the switchings the control centre ordered this step",
}
"""The control-centre view: every port an automation function may read."""

FIELD_PORTS: dict[str, str] = {
    "sgen_terminal_vm_pu": "each DER unit's own terminal voltage [pu] (its inverter's reading)",
}
"""Readings a field device takes itself; only a device's local loop reads them."""


@dataclass(frozen=True, slots=True)
class Flow:
    """One recorded connection: ``src.src_attr -> dest.dest_attr``."""

    src: str
    src_attr: str
    dest: str
    dest_attr: str
    time_shifted: bool = False


@dataclass(slots=True)
class _Read:
    entity: Any
    name: str
    ports: dict[str, str]
    optional: bool
    field_device: bool
    time_shifted: bool = False
    transform: Callable[[Any], Any] | None = None


class _Entities(dict[str, Any]):
    """Entities by role; a role registered on demand is started when first looked up."""

    start: Callable[[str], None] | None = None

    def __missing__(self, role: str) -> Any:
        if self.start is not None:
            self.start(role)
            if dict.__contains__(self, role):
                return dict.__getitem__(self, role)
        raise KeyError(role)


@dataclass
class Wiring:
    """What components share while the world is built.

    Attributes
    ----------
    world : mosaik.World
        The world; components start their simulators in it.
    scenario, prepared
        The scenario and its :class:`~gridtwin.world.Prepared` inputs.
    entities : dict
        Entities by role (``grid``, ``recorder``, ``scada``, ``channel``,
        ``events``, ``sensors``, ``estimator``, ...), for the physical world
        and the testbed.
    functions : dict
        Automation function entities by their name in the scenario.
    providers : dict
        View port -> (entity, attribute) that provides it.
    flows : list of Flow
        Every connection made through the wiring, for inspection.
    tables : dict
        Recorded tables (name -> :class:`~gridtwin.recording.store.TableSpec`).
    declared : dict
        The per-step tables the recorder appends generically (name ->
        :class:`~gridtwin.recording.tables.StepTable`); :meth:`record` adds to
        both.
    recorder_params : dict
        Keyword parameters of the recorder: ``store``, ``kpis``, ``on_step`` and the
        components' ``feeds`` and ``announced`` tables (see :meth:`feed`).
    sections : list of callables
        Called after the run; each returns ``{section: {key: value}}`` for ``kpis.json``.
    closing : list of callables
        Called with the recorder's store when the run ends, before it closes:
        the rows a component writes then (FLISR's ``flisr_incidents``).
    resources : dict
        Shared objects the world prepares (``engine``, ``static_engine``, ``run_id``).
    previous_step : set of str
        Functions whose commands are stamped with the previous step (see :meth:`add_function`).
    """

    world: Any
    scenario: Any
    prepared: Any
    entities: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, tuple[Any, str]] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    tables: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, Any] = field(default_factory=dict)
    recorder_params: dict[str, Any] = field(default_factory=dict)
    sections: list[Callable[[], dict[str, dict[str, Any]]]] = field(default_factory=list)
    closing: list[Callable[[Any], None]] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    previous_step: set[str] = field(default_factory=set)
    _reads: list[_Read] = field(default_factory=list)
    _names: dict[int, str] = field(default_factory=dict)
    _on_demand: dict[str, Callable[[], None]] = field(default_factory=dict)
    _roles_on_demand: dict[str, Callable[[], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entities = _Entities(self.entities)
        entities.start = self._start_role
        self.entities = entities

    def add_entity_on_demand(self, role: str, start: Callable[[], None]) -> None:
        """``start()`` adds the entity of ``role`` (with :meth:`add_entity`) when first looked up.

        A simulator nothing connects to (the command channel of an open-loop
        run) then never steps.
        """
        self._roles_on_demand[role] = start

    def _start_role(self, role: str) -> None:
        start = self._roles_on_demand.pop(role, None)
        if start is not None:
            start()

    @property
    def step_s(self) -> int:
        """The scenario's step [s]."""
        return int(self.scenario.time.step)

    def record(self, table: Any, elements: list[str]) -> None:
        """Record the declared per-step ``table`` (a StepTable) for ``elements``."""
        self.tables[table.name] = table.spec(elements)
        self.declared[table.name] = table

    def feed(self, feed: Feed, *announced: str) -> None:
        """Have the recorder call ``feed`` every step (KPI accumulators, free-form rows).

        ``announced`` names the free-form tables ``feed`` writes: they are in
        the run directory, empty with their schema, even if it never writes a row.
        """
        self.recorder_params.setdefault("feeds", []).append(feed)
        self.recorder_params.setdefault("announced", []).extend(announced)

    def add_entity(self, role: str, entity: Any) -> Any:
        """Register a physical-world or testbed entity under ``role``."""
        self.entities[role] = entity
        self._names[id(entity)] = role
        return entity

    def add_function(
        self,
        name: str,
        entity: Any,
        *,
        commands: bool = True,
        previous_step: bool = False,
        transform: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Register an automation function's entity; its ``commands`` go to the channel.

        ``previous_step``: an external function (the process bus) whose commands
        arrive between steps and are stamped with the step before the one that
        takes them in; connected without time shift, the channel still delays
        each by a step from its stamp (listed in :attr:`previous_step`).
        ``transform`` (an external mosaik function's): turns its ``commands``
        output into checked :class:`~gridtwin.grid.commands.Command` objects on
        the way.
        """
        if name in self.functions or name in self.entities:
            raise ValueError(f"two components named {name!r}")
        self.functions[name] = entity
        self._names[id(entity)] = name
        if not commands:
            return entity
        if previous_step:
            self.previous_step.add(name)
            self.connect(entity, self.entities["channel"], "commands")
            return entity
        self.connect(
            entity,
            self.entities["channel"],
            "commands",
            time_shifted=True,
            initial_data={"commands": []},
            **({"transform": transform} if transform is not None else {}),
        )
        return entity

    def provide(self, port: str, entity: Any, attr: str | None = None) -> None:
        """``entity.attr`` provides the view port ``port``."""
        if port not in VIEW_PORTS and port not in FIELD_PORTS:
            raise ValueError(f"{port!r} is not a control-centre port")
        self.providers[port] = (entity, attr or port)

    def provide_on_demand(self, ports: list[str], start: Callable[[], None]) -> None:
        """``start()`` provides ``ports`` (with :meth:`provide`) when first needed.

        A simulator nobody reads (SCADA in an open-loop run) then never steps;
        :meth:`finish` starts it for a read, :meth:`start_on_demand` for a
        script that asks for the ports or entities of a built world.
        """
        for port in ports:
            if port not in VIEW_PORTS and port not in FIELD_PORTS:
                raise ValueError(f"{port!r} is not a control-centre port")
            self._on_demand[port] = start

    def start_on_demand(self, port: str | None = None) -> None:
        """Start what provides ``port`` on demand (every such provider without ``port``)."""
        if port is None:
            for role in list(self._roles_on_demand):
                self._start_role(role)
        ports = [port] if port is not None else list(self._on_demand)
        for name in ports:
            start = self._on_demand.get(name)
            if start is None:
                continue
            for other in [p for p, s in self._on_demand.items() if s is start]:
                del self._on_demand[other]
            start()

    def read(
        self,
        entity: Any,
        *ports: str | tuple[str, str],
        optional: bool = False,
        field_device: bool = False,
        time_shifted: bool = False,
        transform: Callable[[Any], Any] | None = None,
    ) -> None:
        """``entity`` reads these view ports (``port`` or ``(port, its input attribute)``).

        Connected in :meth:`finish`, when every provider is known. A port
        outside the control-centre view (or the field readings, for a
        ``field_device``) is refused. ``time_shifted``: the value of the
        previous step (None at the first), to read a port downstream of oneself.
        ``transform``: applied to each value on the way (an external function
        reads the JSON wire form).
        """
        allowed = set(VIEW_PORTS) | (set(FIELD_PORTS) if field_device else set())
        mapping: dict[str, str] = {}
        for port in ports:
            src, dest = (port, port) if isinstance(port, str) else port
            if src not in allowed:
                raise ValueError(
                    f"{src!r} is not a control-centre port; expected one of "
                    + ", ".join(sorted(allowed))
                )
            mapping[src] = dest
        self._reads.append(
            _Read(
                entity,
                self.name_of(entity),
                mapping,
                optional,
                field_device,
                time_shifted,
                transform,
            )
        )

    def has(self, port: str) -> bool:
        """Whether some component provides ``port`` (or will, on demand)."""
        return port in self.providers or port in self._on_demand

    def missing(self, ports: Any) -> list[str]:
        """The ``ports`` no component provides (yet: call after the built-ins are added)."""
        return [p for p in ports if not self.has(p)]

    def connect(self, src: Any, dest: Any, *attrs: str | tuple[str, str], **kwargs: Any) -> None:
        """``world.connect``, recorded in :attr:`flows`."""
        self.world.connect(src, dest, *attrs, **kwargs)
        for attr in attrs:
            a, b = (attr, attr) if isinstance(attr, str) else attr
            self.flows.append(
                Flow(
                    self.name_of(src),
                    a,
                    self.name_of(dest),
                    b,
                    bool(kwargs.get("time_shifted", False)),
                )
            )

    def name_of(self, entity: Any) -> str:
        """The role or function name of a registered entity."""
        return self._names.get(id(entity), getattr(entity, "full_id", "?"))

    def finish(self) -> None:
        """Connect every requested read to its provider."""
        for read in self._reads:
            for src, dest in read.ports.items():
                self.start_on_demand(src)
                if src not in self.providers:
                    if read.optional:
                        continue
                    raise ValueError(f"{read.name} reads {src!r}, which nothing provides")
                entity, attr = self.providers[src]
                extra = {"transform": read.transform} if read.transform is not None else {}
                if read.time_shifted:
                    self.connect(
                        entity,
                        read.entity,
                        (attr, dest),
                        time_shifted=True,
                        initial_data={attr: None},
                        **extra,
                    )
                else:
                    self.connect(entity, read.entity, (attr, dest), **extra)
        self._reads.clear()


class Component(Protocol):
    """A part of the loop, declared in one place.

    ``plan`` runs before the run store exists: it adds the component's tables
    and recorder parameters (KPI accumulators) and its KPI sections.
    ``add`` starts its simulators, registers what it provides and reads, and
    makes its connections.
    """

    name: str

    def plan(self, wiring: Wiring) -> None:
        """Declare tables, recorder parameters and KPI sections."""

    def add(self, wiring: Wiring) -> None:
        """Start simulators and connect them."""
