"""The running sandbox's parts, handed to routes, resources and background workers."""

from __future__ import annotations

from dataclasses import dataclass

from psp_sandbox.clock import Clock
from psp_sandbox.faults import Faults
from psp_sandbox.settings import Settings
from psp_sandbox.store import Store
from psp_sandbox.webhooks import Dispatcher


@dataclass
class Sandbox:
    settings: Settings
    store: Store
    clock: Clock
    faults: Faults
    dispatcher: Dispatcher

    @classmethod
    def open(cls, settings: Settings) -> Sandbox:
        store = Store(settings.db_path)
        store.create_schema()
        faults = Faults(store)
        return cls(settings, store, Clock(store), faults, Dispatcher(store, settings, faults))
