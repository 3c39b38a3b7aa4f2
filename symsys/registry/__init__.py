"""The hardware and model zoos (data files with provenance, loaded into frozen dataclasses)."""

from symsys.registry.hardware import Hardware
from symsys.registry.models import Models

__all__ = ["Hardware", "Models"]
