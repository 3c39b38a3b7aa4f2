"""The solvers: generic over scenarios of any law, with front ends for the registry's models.

The generic core knows no law: :mod:`~symsys.solvers.scenario` (a law bound to numbers),
:mod:`~symsys.solvers.evaluate`, :mod:`~symsys.solvers.generic` (``symsys.bind``),
:mod:`~symsys.solvers.balance` (crossings and capacity limits), :mod:`~symsys.solvers.result`
and :mod:`~symsys.solvers.sweep_result`, :mod:`~symsys.solvers.checks` (argument checks),
:mod:`~symsys.solvers.pickling` and :mod:`~symsys.solvers.progress`. The registry front ends
bind models and devices to step laws: :mod:`~symsys.solvers.options` (the step options,
declared once), :mod:`~symsys.solvers.steps` (laws chosen by their declared roles),
:mod:`~symsys.solvers.inputs`, and the solvers ``Engine`` (:mod:`~symsys.solvers.inference`),
cost, serving, sensitivity, synthesis, parallel degrees, weight streaming and training.
Sweeps (:mod:`symsys.sweeps`) and accuracy reports (:mod:`symsys.accuracy`) are layers above.

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
