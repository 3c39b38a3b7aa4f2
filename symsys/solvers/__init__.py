"""The solvers: generic over scenarios of any law, with front ends for the registry's models.

Importing this package is cheap (the command line reads the phases here while it builds its
parser); each solver module loads what it needs.
"""

#: the phases of a transformer step, and the law that answers each
STEP_LAWS = {"decode": "decode", "prefill": "prefill"}
#: the same phases on n devices in tensor parallel
TENSOR_PARALLEL_LAWS = {"decode": "decode_tp", "prefill": "prefill_tp"}
#: the same phases split into pipeline stages, each a tensor-parallel group
PIPELINE_PARALLEL_LAWS = {"decode": "decode_pp", "prefill": "prefill_pp"}
#: the same phases with the routed experts split over an expert-parallel group (each of its
#: attention replicas a tensor-parallel group), and that group as pipeline stages
EXPERT_PARALLEL_LAWS = {"decode": "decode_ep", "prefill": "prefill_ep"}
EXPERT_PIPELINE_LAWS = {"decode": "decode_ep_pp", "prefill": "prefill_ep_pp"}
#: the same phases with the weights streamed in layer by layer
STREAMING_LAWS = {"decode": "weight_streaming", "prefill": "weight_streaming_prefill"}
#: every step law (single device, tensor, pipeline, expert parallel) with cost and energy per
#: token, by the name of the step law
COST_LAWS = {law: f"{law}_cost" for laws in (STEP_LAWS, TENSOR_PARALLEL_LAWS,
                                             PIPELINE_PARALLEL_LAWS, EXPERT_PARALLEL_LAWS,
                                             EXPERT_PIPELINE_LAWS) for law in laws.values()}
PHASES = tuple(STEP_LAWS)
#: the step of a fixed workload (a CNN or ViT: FLOPs per sample), as results label it: one
#: forward pass per sample, neither a decode nor a prefill
FORWARD = "forward"
