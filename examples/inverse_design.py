"""Inverse design with ``SynthesisSolver``: what would a device (or a deployment) need to meet a
target? Each answer is the law solved for one lever in closed form, branch by branch, then fed
back through the forward law (the round-trip error is printed).

    python examples/inverse_design.py --out DIR     # table on stdout, DIR/inverse_design.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import symsys
from symsys import Q_, SynthesisSolver
from symsys.show import banner, format_value, table

#: (question, solver arguments)
QUESTIONS = [
    ("Llama-3-8B decode in 2 ms on an H100: what HBM bandwidth?",
     dict(model="Llama3_8B", hardware="H100", target=Q_(2, "ms"), lever="memory_bandwidth")),
    ("20,000 tokens/s of Llama-3-8B decode on an A100: what batch?",
     dict(model="Llama3_8B", hardware="A100", target=Q_(20_000, "token/s"),
          lever="batch_size")),
    ("Batch 512 of Llama-3-8B in 5 ms on an H100: what peak FLOP/s?",
     dict(model="Llama3_8B", hardware="H100", target=Q_(5, "ms"), lever="peak_flops",
          batch_size=512)),
    ("Llama-3-8B decode in 3 ms on an H100: how many bytes per weight (quantisation)?",
     dict(model="Llama3_8B", hardware="H100", target=Q_(3, "ms"), lever="bytes_per_weight")),
    ("Batch 512 in 1 us on an H100 by bandwidth alone?",
     dict(model="Llama3_8B", hardware="H100", target=Q_(1, "us"), lever="memory_bandwidth",
          batch_size=512)),
    ("Llama-3-70B, batch 32 with 8k context: what memory capacity?",
     dict(model="Llama3_70B", hardware="H100", target=Q_(30, "ms"), lever="memory_capacity",
          batch_size=32, seq_len=8192)),
]


def answer(question: str, args: dict) -> dict:
    r = SynthesisSolver().solve(**args)
    return {
        "question": question, "lever": r.lever, "feasible": r.feasible,
        "required": None if r.required is None else format_value(r.required),
        "current": format_value(r.current),
        "ratio": r.ratio, "round_trip_error": r.round_trip_error,
        "closed_form": None if r.expression is None else str(r.expression),
        "explanation": r.explanation,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="directory for the JSON answers (default examples/output)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    banner(f"Inverse design (symsys {symsys.__version__})")
    answers = [answer(q, args) for q, args in QUESTIONS]
    table(["lever", "required", "current", "x current", "round trip"],
          [[a["lever"], a["required"] or "unreachable", a["current"],
            "" if a["ratio"] is None else f"{a['ratio']:.3g}x",
            "" if a["round_trip_error"] is None else f"{a['round_trip_error']:.1e}"]
           for a in answers])
    for i, a in enumerate(answers, 1):
        print(f"\n{i}. {a['question']}")
        if a["closed_form"]:
            print(f"   closed form: {a['lever']} = {a['closed_form']}")
        if a["explanation"]:
            print(f"   {a['explanation']}")
    path = out / "inverse_design.json"
    path.write_text(json.dumps(answers, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
