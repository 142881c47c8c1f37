"""Personas: who runs the deployment and at what scale (the fleet size a simulation multiplies one device by)."""
from __future__ import annotations

import attrs

from ..errors import UnknownEntryError


@attrs.frozen(kw_only=True)
class Persona:
    name: str
    role: str
    description: str
    scale_factor: float  # devices (or nodes of the scenario's fleet) the persona's deployment runs
    primary_constraint: str
    unit_of_scale: str


class Personas:
    """The four deployment stories of 0.1.x's labs. The scale factors are narrative sizes of each story (one
    cluster; an edge fleet of 10^4 devices; an app on 10^8 phones; 10^7 sensors), not measurements."""

    CloudTitan = Persona(name="Cloud Titan", role="LLM infrastructure lead",
                         description="Runs datacenter clusters that train and serve large models.", scale_factor=1.0,
                         primary_constraint="total cost of ownership and grid power", unit_of_scale="Cluster")
    EdgeGuardian = Persona(name="Edge Guardian", role="Edge AI systems engineer",
                           description="Deploys perception models to a fleet of embedded GPUs.", scale_factor=1e4,
                           primary_constraint="latency within a power envelope", unit_of_scale="Device")
    MobileNomad = Persona(name="Mobile Nomad", role="Mobile ML engineer",
                          description="Ships on-device models inside a phone app.", scale_factor=1e8,
                          primary_constraint="battery energy per inference", unit_of_scale="Phone")
    TinyPioneer = Persona(name="Tiny Pioneer", role="TinyML engineer",
                          description="Runs always-on models on battery-powered microcontrollers.", scale_factor=1e7,
                          primary_constraint="memory (SRAM and flash) and microjoules", unit_of_scale="Sensor")

    @classmethod
    def get(cls, name: str) -> Persona:
        key = name.replace(" ", "").lower()
        for attr in ("CloudTitan", "EdgeGuardian", "MobileNomad", "TinyPioneer"):
            persona = getattr(cls, attr)
            if key in (attr.lower(), persona.name.replace(" ", "").lower()):
                return persona
        raise UnknownEntryError("Personas", name, lambda: ["CloudTitan", "EdgeGuardian", "MobileNomad", "TinyPioneer"])
