"""Finite-state machines of the dispatch workflow, as tables. Pure code.

A machine is a table {(state, event): next state}. Anything not in it is an illegal transition:
refused with an error that names the state and the event (in Chinese and English, for the
person who pressed the button), never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


class IllegalTransition(Exception):
    def __init__(self, machine: str, state: StrEnum, event: StrEnum, allowed: list[str]) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        self.allowed = allowed
        hint = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{machine}: '{event.value}' is not allowed in state '{state.value}' (allowed: {hint})"
        )


@dataclass(frozen=True)
class Machine(Generic[S, E]):
    name: str
    table: dict[tuple[S, E], S]

    def next(self, state: S, event: E) -> S:
        try:
            return self.table[(state, event)]
        except KeyError:
            raise IllegalTransition(self.name, state, event, self.allowed(state)) from None

    def allowed(self, state: S) -> list[str]:
        """The events possible in `state` (for the buttons a page shows)."""
        return sorted({e.value for (s, e) in self.table if s == state})

    def can(self, state: S, event: E) -> bool:
        return (state, event) in self.table
