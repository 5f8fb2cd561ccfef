"""What `tasktalk demo` runs: the spec's Cellphone Store CRM task and its finished siblings.

Pure data and timing, so the pacing can be read (and tested) without running anything.
Durations are seconds at speed 1; the whole CRM run takes about three minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CRM_KEY = "demo-cellphone-store-crm"


@dataclass(frozen=True)
class DemoStep:
    name: str
    seconds: float
    substeps: tuple[str, ...] = ()
    requires_approval: bool = False
    logs: tuple[str, ...] = ()


CRM_STEPS: tuple[DemoStep, ...] = (
    DemoStep(
        "Create database tables",
        30,
        logs=(
            "Creating table customers (id, name, phone, email)",
            "Creating table products (id, model, brand, price, stock)",
            "Creating table sales (id, customer_id, product_id, sold_at)",
            "Creating table repairs (id, customer_id, device, issue, status)",
        ),
    ),
    DemoStep(
        "Generate application UI",
        80,
        substeps=("Customer list view", "Product list view", "Sales form", "Repair board"),
        logs=("Rendering list components", "Wiring forms to the API", "Styling the repair board"),
    ),
    DemoStep(
        "Add search and filters",
        35,
        requires_approval=True,
        logs=("Indexing customers by phone", "Adding brand and price filters"),
    ),
    DemoStep(
        "Configure workflows",
        35,
        logs=("Repair status: received -> diagnosed -> fixed -> collected", "Low-stock alert"),
    ),
)

#: Finished runs imported with their real timing, so estimates have history from the start:
#: (idempotency key, title, complexity in tables, per-step seconds).
SAMPLE_RUNS: tuple[tuple[str, str, int, tuple[float, ...]], ...] = (
    ("demo-sample-phone-repair", "Phone Repair Tracker", 3, (24, 70, 30, 28)),
    ("demo-sample-accessories", "Accessories Shop CRM", 4, (31, 86, 36, 33)),
    ("demo-sample-franchise", "Franchise Stores CRM", 7, (52, 140, 61, 58)),
)


def crm_task_body() -> dict[str, Any]:
    return {
        "title": "Cellphone Store CRM",
        "kind": "crm-app",
        "complexity": 4,
        "idempotency_key": CRM_KEY,
        "steps": [
            {
                "name": step.name,
                "substeps": list(step.substeps),
                "requires_approval": step.requires_approval,
            }
            for step in CRM_STEPS
        ],
    }


def total_seconds(speed: float) -> float:
    return sum(step.seconds for step in CRM_STEPS) / speed
