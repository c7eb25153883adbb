"""The simulator process: the world on a simulated clock, published over MQTT.

``run_simulator(settings)`` blocks until SIGINT/SIGTERM or until ``sim_duration_s`` wall
seconds have passed, then prints one line ``simulator: published=N acked=M vehicles=V
duration_s=T commands=C answered=A`` (and writes the same as JSON to ``stats_file`` when given).

Every simulated terminal answers the platform's commands (simulator/commands.py); a share may
answer late or never (settings ``sim_ack_late_share``, ``sim_ack_never_share``,
``sim_ack_delay_s``; default: every command at once).

In demo mode (``settings.demo`` with a database) most random outings are filed with an
approved request and a dispatch order before the car leaves (simulator/demo_orders.py); the
line then ends with ``orders_filed=F orders_uncovered=U``.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType

import orjson

from fleet.config import Settings
from fleet.scenario.load import load_scenario
from simulator.clock import SimClock
from simulator.commands import AckPolicy
from simulator.demo_orders import DemoOrders, start_demo_orders
from simulator.publisher import GatewayPublisher
from simulator.script import Script, load_scripts
from simulator.world import CST, World

log = logging.getLogger(__name__)

MAX_WAIT_S = 0.5  # longest nap between two looks at the clock, so a stop is noticed quickly
ACK_TIMEOUT_S = 10.0


def run_simulator(
    settings: Settings,
    *,
    stats_file: Path | None = None,
    scripts: Sequence[Script] = (),
    script_file: Path | None = None,
    start: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Runs the device simulator; returns the process exit code.

    ``scripts``/``script_file`` override the random plan of their vehicles; ``start`` is the
    simulated start time (default: now, Asia/Shanghai); ``stop`` lets an embedding process
    end the run (signals do the same when this runs in the main thread).
    """
    if not settings.mqtt_url:
        print("simulator: FLEET_MQTT_URL is not set", file=sys.stderr)
        return 2
    scenario = load_scenario(settings.scenario_path)
    if script_file is not None:
        scripts = (*scripts, *load_scripts(script_file))
    world = World(
        scenario,
        start=start or datetime.now(CST).replace(microsecond=0),
        seed=settings.sim_seed,
        interval_s=settings.sim_interval_s,
        parked_interval_s=settings.sim_parked_interval_s,
        vehicles=settings.sim_vehicles,
        scripts=scripts,
        report_outings=settings.demo and bool(settings.database_url),  # demo orders
    )
    stop = stop or threading.Event()
    publisher = GatewayPublisher(
        settings.mqtt_url,
        client_id=f"fleet-simulator-{os.getpid()}",
        topic_root=settings.mqtt_topic_root,
    )
    publisher.answer_commands(world.uids, ack_policy(settings))
    restore = _install_signal_handlers(stop)
    orders: DemoOrders | None = None
    try:
        if not publisher.connect(timeout_s=ACK_TIMEOUT_S):
            publisher.close()
            print(f"simulator: cannot connect to {settings.mqtt_url}", file=sys.stderr)
            return 1
        orders = start_demo_orders(settings, scenario, world.start, world.take_outing_reports())
        publisher.start(world.uids, timeout_s=ACK_TIMEOUT_S)
        if start is None:  # "now": connecting and filing took seconds; device time is wall time
            world.start_later(datetime.now(CST))
            if orders is not None:
                orders.start = world.start
        clock = SimClock(settings.sim_speedup)
        _loop(world, publisher, clock, stop, settings.sim_duration_s, orders)
        duration_s = clock.elapsed_wall_s()
        publisher.finish(world.uids, timeout_s=ACK_TIMEOUT_S)
    finally:
        restore()
        order_stats = orders.close() if orders is not None else None
    stats = {
        "published": publisher.published,
        "acked": publisher.acked,
        "vehicles": len(world.vehicles),
        "duration_s": round(duration_s, 1),
        "commands": publisher.responder.received if publisher.responder else 0,
        "answered": publisher.responder.answered if publisher.responder else 0,
    }
    if order_stats is not None:
        stats["orders_filed"] = order_stats["filed"]
        stats["orders_uncovered"] = order_stats["left_uncovered"] + order_stats["refused"]
    print("simulator: " + " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)
    if stats_file is not None:
        stats_file.write_bytes(orjson.dumps(stats))
    return 0


def ack_policy(settings: Settings) -> AckPolicy:
    """How the simulated terminals answer commands. The settings may predate these fields:
    then every command is answered at once."""
    return AckPolicy(
        late_share=float(getattr(settings, "sim_ack_late_share", 0.0) or 0.0),
        never_share=float(getattr(settings, "sim_ack_never_share", 0.0) or 0.0),
        late_delay_s=float(getattr(settings, "sim_ack_delay_s", 30.0) or 0.0),
        seed=settings.sim_seed,
    )


def _loop(
    world: World,
    publisher: GatewayPublisher,
    clock: SimClock,
    stop: threading.Event,
    duration_s: float | None,
    orders: DemoOrders | None = None,
) -> None:
    # Advance in slices of at most MAX_WAIT_S wall seconds' worth of simulated time, so that
    # a simulator running behind its clock still notices a stop or the end of its duration.
    slice_s = clock.speedup * MAX_WAIT_S
    sim_s = 0.0
    while not stop.is_set():
        elapsed = clock.elapsed_wall_s()
        if duration_s is not None and elapsed >= duration_s:
            return
        sim_s = min(clock.now_s(), sim_s + slice_s)
        if orders is not None:
            orders.wait_filed(sim_s)  # an outing's order is written before the car leaves
        for message in world.advance_to(sim_s):
            publisher.publish_position(message.uid, message.payload)
        if orders is not None:
            orders.submit(world.take_outing_reports())
        next_s = world.next_due_s()
        wait = MAX_WAIT_S if next_s is None else clock.wall_delay_s(next_s)
        if duration_s is not None:
            wait = min(wait, duration_s - elapsed)
        stop.wait(min(max(wait, 0.0), MAX_WAIT_S))


def _install_signal_handlers(stop: threading.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop``; returns a function restoring the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, frame: FrameType | None) -> None:
        log.info("simulator: signal %s, stopping", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
