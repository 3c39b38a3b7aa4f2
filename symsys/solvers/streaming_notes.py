"""What a weight-streaming answer means for its case: the notes under its derivation.

Each note is computed from the sourced registry numbers of the case (the link as the vendor
states it, dense vs sparse peak, the local memory) and from the solved result, so a claim such
as "read in bytes the link would be 8x too fast" is evaluated, not typed.
"""

from __future__ import annotations

from symsys.units import Q_


def _q(quantity) -> str:
    return f"{quantity.to_compact():.4g~P}"


def _tex_q(quantity) -> str:
    if str(quantity.dimensionality) in ("[time]", "[information]", "[flop]"):
        quantity = quantity.to_compact()  # ms, GB, GFLOP; rates keep their unit
    return f"{quantity:.4g~L}".replace("µ", r"\mu ")


def _tex_text(text: str) -> str:
    for ch in "_%&#$":
        text = text.replace(ch, "\\" + ch)
    return text


def _case_notes(r) -> list[str]:
    """Notes on a WeightStreamingResult: the link, the peak, the local memory, the verdict."""
    hw, store, precision = r.hardware, r.hardware.streaming, r.inputs.precision
    link = store.injection_bandwidth
    in_bytes = link.to("GB/s")
    notes = [f"beta_inj = {link:.4g~P}" + ("" if link.units == in_bytes.units else
                                             f" = {in_bytes:.4g~P}")
             + f", from {store.name} (source: "
             f"{hw.source_of('streaming.injection_bandwidth').document})."]
    unit_name = format(link.units, "D")
    if "bit" in unit_name:  # vendors state links in bits/s; a bytes reading is 8x too fast
        misread = Q_(link.magnitude, unit_name.replace("bit", "byte"))
        values = {**r.inputs.values, "beta_inj": misread.m_as("B/s")}
        wrong = type(r)(r.scenario.replace(**values), r.scenario.replace(**values).call(
            r.SPECS))
        notes.append(f"The vendor states this link in bits per second. Read as {misread:.4g~P} "
                     f"it would be {(misread / link).m_as(''):.0f}x too fast: t_inj "
                     f"{_q(wrong.layer_injection_time)} instead of {_q(r.layer_injection_time)}, "
                     f"B* {wrong.optimal_batch_exact:.4g} instead of "
                     f"{r.optimal_batch_exact:.4g}.")
    peak = hw.compute.peak(precision)
    peak_source = hw.source_of(f"peak_dense.{precision}").document
    estimate = " It is an estimate, not a vendor figure." if peak_source.upper().startswith(
        "ESTIMATE") else ""
    sparse = hw.compute.peak_sparse.get(precision)
    notes.append(f"Pi = dense {precision} peak {peak:.4g~P}.{estimate}"
                 + (f" The {sparse:.4g~P} figure counts sparsity and is not used." if sparse
                    else ""))
    notes.append(f"C_chip = {hw.memory.capacity:~P} of {hw.memory.type} holds K/V, activations "
                 f"and weight buffers; the {_q(r.weight_bytes)} of weights live in {store.name}"
                 + (f" ({store.external_capacity:~P})." if store.external_capacity else "."))
    notes.append(_verdict(r))
    return notes


def _verdict(r) -> str:
    """When weight streaming is the right model for this case, and when it is not."""
    if r.raw["W_step"] <= r.inputs.values["C_chip"]:
        return (f"The weights ({_q(r.weight_bytes)}) fit in local memory "
                f"({r.memory_capacity:~P}): keeping them resident (symsys.Engine) avoids the "
                f"injection wall entirely; streaming them is a choice here, not a necessity.")
    if r.operating_wall == "Compute":
        op = r.operating
        return (f"Streaming hides injection from b = B* = {r.optimal_batch_size} "
                f"({r.optimal_tokens:.4g} tokens per step), within the on-chip limit "
                f"b_max = {r.max_feasible_batch}: there it runs compute-bound at "
                f"{op.throughput_tokens_per_sec:.4g} tokens/s.")
    op = r.operating
    at = (f"runs injection-bound at b = {r.operating_batch}, {op.throughput_tokens_per_sec:.4g} "
          f"tokens/s" if op else "does not fit at any batch")
    return (f"On-chip memory caps the batch at b_max = {r.max_feasible_batch}, below "
            f"B* = {r.optimal_batch_size} ({r.optimal_tokens:.4g} tokens per step): this step "
            f"{at}. Streaming pays when a step has that many tokens per streamed layer "
            f"(training, long prefill); a model this size that must answer with low latency is "
            f"served with its weights resident in on-chip memory across several systems "
            f"(layers pipelined over devices), which this law does not model.")
