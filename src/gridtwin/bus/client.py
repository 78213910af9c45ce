"""The MQTT connection of the bridge: paho-mqtt in its own thread, never blocking the loop.

The client connects in the background and reconnects with exponential
back-off (``reconnect_min_s`` doubling up to ``reconnect_max_s``) whenever the
broker goes away; after each (re)connection it subscribes to the command
topics again and re-publishes the retained messages (a restarted broker may
have lost them). Policy while the broker is gone: a measurement is **dropped
and counted, not buffered**, so a run never blocks on the broker and never
delivers stale measurements after a reconnection; received commands wait in
a bounded queue (``max_pending``) until the next step takes them.

Credentials come from ``GRIDTWIN_MQTT_USERNAME`` / ``GRIDTWIN_MQTT_PASSWORD``
only, and are never logged; ``mqtts://`` connects with TLS (the system's
certificate authorities, or the file ``GRIDTWIN_MQTT_CA_FILE`` names).
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ENV_CA_FILE", "ENV_PASSWORD", "ENV_USERNAME", "BusClient", "Received"]

log = logging.getLogger("gridtwin")

ENV_USERNAME = "GRIDTWIN_MQTT_USERNAME"
ENV_PASSWORD = "GRIDTWIN_MQTT_PASSWORD"
ENV_CA_FILE = "GRIDTWIN_MQTT_CA_FILE"


@dataclass(frozen=True, slots=True)
class Received:
    """One message from the broker and its arrival [wall-clock s since the epoch]."""

    topic: str
    payload: bytes
    received_s: float


class BusClient:
    """A paho-mqtt client with back-off, drop counting and a bounded inbox.

    Parameters
    ----------
    url : str
        ``mqtt://host:port`` or ``mqtts://host:port`` (default ports 1883, 8883).
    client_id : str
        The MQTT client id.
    subscriptions : list of str
        Topic filters subscribed (QoS 1) after each connection.
    retained : callable
        Returns ``(topic, payload)`` pairs published retained after each connection.
    """

    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        subscriptions: list[str],
        retained: Callable[[], list[tuple[str, bytes]]],
        keepalive_s: int = 10,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 5.0,
        max_queued: int = 1000,
        max_pending: int = 10_000,
    ) -> None:
        import paho.mqtt.client as mqtt

        parts = urllib.parse.urlsplit(url)
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (8883 if self.tls else 1883)
        self.keepalive_s = keepalive_s
        self.subscriptions = subscriptions
        self.retained = retained
        self.max_pending = max_pending
        self.inbox: deque[Received] = deque()
        self.connects = 0
        self.disconnects = 0
        self.overflow = 0
        self.connected = False
        self._lock = threading.Lock()
        self._refused: str | None = None
        self._retained_topics: set[str] = set()
        self._mqtt = mqtt
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        client.max_queued_messages_set(max_queued)
        user, password = os.environ.get(ENV_USERNAME), os.environ.get(ENV_PASSWORD)
        if user:
            client.username_pw_set(user, password or None)
        if self.tls:
            client.tls_set(
                ca_certs=os.environ.get(ENV_CA_FILE) or None, cert_reqs=ssl.CERT_REQUIRED
            )
        # back-off: reconnect_min_s, doubling up to reconnect_max_s (paho takes seconds as floats)
        client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)  # type: ignore[arg-type]
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client
        self._stopping = False
        self._started = False
        self._unreachable_logged = False
        self.ready = threading.Event()  # set when the first attempt connected or failed

    # -- the connection ------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho's thread retries with back-off until :meth:`stop`."""
        self.client.connect_async(self.host, self.port, self.keepalive_s)
        self.client.loop_start()
        self._started = True

    def wait_connected(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the first attempt to connect; whether it is up.

        Returns at once when the broker refuses or cannot be reached.
        """
        self.ready.wait(timeout_s)
        return self.connected

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self.ready.set()
        if not self._unreachable_logged:
            self._unreachable_logged = True
            log.warning(
                "mqtt: cannot reach %s:%d; retrying with back-off (measurements are dropped)",
                self.host,
                self.port,
            )

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.ready.set()
            if self._refused != str(reason):
                log.warning("mqtt: %s:%d refused the connection: %s", self.host, self.port, reason)
            self._refused = str(reason)
            return
        with self._lock:
            self.connects += 1
            self.connected = True
        if self.connects > 1:
            log.info("mqtt: reconnected to %s:%d", self.host, self.port)
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)
        for topic, payload in self.retained():
            self._retained_topics.add(topic)
            client.publish(topic, payload, qos=1, retain=True)
        self.ready.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self._lock:
            was = self.connected
            self.connected = False
            if was and not self._stopping:  # not the bridge's own disconnect at the end
                self.disconnects += 1
        if was and not self._stopping:
            log.warning(
                "mqtt: lost the broker %s:%d (%s); measurements are dropped until it is back",
                self.host,
                self.port,
                reason,
            )

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if len(self.inbox) >= self.max_pending:
            with self._lock:
                self.overflow += 1
            return
        self.inbox.append(Received(message.topic, bytes(message.payload), time.time()))

    # -- the loop's side -----------------------------------------------------

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> bool:
        """Publish if connected; False (the message is dropped) otherwise. Never blocks."""
        if not self.connected:
            return False
        if retain:
            self._retained_topics.add(topic)
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return bool(info.rc == self._mqtt.MQTT_ERR_SUCCESS)

    def take(self) -> list[Received]:
        """Every message received since the last call, in arrival order."""
        out = []
        while self.inbox:
            out.append(self.inbox.popleft())
        return out

    def stop(self, timeout_s: float = 2.0) -> None:
        """Clear the retained messages (if connected), disconnect, end paho's thread."""
        if not self._started:
            return
        self._started = False
        self._stopping = True
        if self.connected:
            infos = [self.client.publish(t, b"", qos=1, retain=True) for t in self._retained_topics]
            deadline = time.monotonic() + timeout_s
            for info in infos:
                try:
                    info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                except (RuntimeError, ValueError):  # the connection went meanwhile
                    break
        self.client.disconnect()
        self.client.loop_stop()
