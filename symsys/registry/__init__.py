"""The hardware, system and model zoos: data files with provenance, loaded into frozen
dataclasses."""

from symsys.registry.hardware import Hardware
from symsys.registry.models import Models
from symsys.registry.systems import Systems

__all__ = ["Hardware", "Models", "Systems"]
