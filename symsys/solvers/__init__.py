"""The solvers: generic over scenarios of any law, with front ends for the registry's models.

Importing this package is cheap (the command line reads the phases here while it builds its
parser); each solver module loads what it needs.
"""

#: the phases of a transformer step (each answered by the step laws that declare it:
#: :mod:`symsys.solvers.steps` chooses among them by their declared roles)
PHASES = ("decode", "prefill")
#: weight streaming's laws, by phase (its own front end, :mod:`symsys.solvers.streaming`)
STREAMING_LAWS = {"decode": "weight_streaming", "prefill": "weight_streaming_prefill"}
#: the step of a fixed workload (a CNN or ViT: FLOPs per sample), as results label it: one
#: forward pass per sample, neither a decode nor a prefill
FORWARD = "forward"
