"""Which device is which vehicle: uid -> (device id, vehicle id), cached in the worker.

A uid not in the cache triggers a reload (at most every `reload_every_s`), so a terminal
registered while the worker runs is picked up without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telemetry.encode import position_rejection
from telemetry.model import Position, Rejection, StatusChange


@dataclass(frozen=True, slots=True)
class DeviceBinding:
    device_id: int
    vehicle_id: int | None
    report_interval_s: int


def with_ids(p: Position, device_id: int, vehicle_id: int) -> Position:
    """`p` resolved (dataclasses.replace does the same, several times slower: ingest's hot path)."""
    return Position(
        p.device_uid, p.ts_ms, p.received_ms, p.lat, p.lon, p.speed_kmh, p.heading_deg, p.acc,
        p.fix, p.odometer_km, p.fuel_l, p.soc_pct, p.alarm, p.seq, device_id, vehicle_id,
    )


Loader = Callable[[], Awaitable[dict[str, DeviceBinding]]]


class DeviceRegistry:
    def __init__(self, loader: Loader, *, topic_root: str, reload_every_s: float = 5.0) -> None:
        self._loader = loader
        self._topic_root = topic_root
        self._reload_every_s = reload_every_s
        self._bindings: dict[str, DeviceBinding] = {}
        self._loaded_at = float("-inf")

    async def load(self) -> None:
        self._bindings = await self._loader()
        self._loaded_at = time.monotonic()

    def get(self, uid: str) -> DeviceBinding | None:
        return self._bindings.get(uid)

    async def _lookup(self, uid: str) -> DeviceBinding | None:
        binding = self._bindings.get(uid)
        if binding is None and time.monotonic() - self._loaded_at >= self._reload_every_s:
            await self.load()
            binding = self._bindings.get(uid)
        return binding

    async def resolve(
        self, positions: list[Position]
    ) -> tuple[list[Position], list[Rejection]]:
        """Positions with device and vehicle ids set, and rejections for unknown devices."""
        resolved: list[Position] = []
        rejections: list[Rejection] = []
        for pos in positions:
            binding = await self._lookup(pos.device_uid)
            if binding is None or binding.vehicle_id is None:
                reason = "unknown_device" if binding is None else "unbound_device"
                rejections.append(self._rejection(pos, reason))
                continue
            resolved.append(with_ids(pos, binding.device_id, binding.vehicle_id))
        return resolved, rejections

    async def resolve_status(
        self, changes: list[StatusChange]
    ) -> tuple[list[tuple[StatusChange, DeviceBinding]], list[Rejection]]:
        known: list[tuple[StatusChange, DeviceBinding]] = []
        rejections: list[Rejection] = []
        for change in changes:
            binding = await self._lookup(change.device_uid)
            if binding is None:
                rejections.append(
                    Rejection(
                        f"{self._topic_root}/devices/{change.device_uid}/status",
                        change.status.encode(),
                        "unknown_device",
                        f"device {change.device_uid!r} is not registered",
                        change.received_ms,
                        change.device_uid,
                    )
                )
            else:
                known.append((change, binding))
        return known, rejections

    def _rejection(self, pos: Position, reason: str) -> Rejection:
        detail = (
            f"device {pos.device_uid!r} is not registered"
            if reason == "unknown_device"
            else f"device {pos.device_uid!r} is not bound to a vehicle"
        )
        return position_rejection(self._topic_root, pos, reason, detail)
