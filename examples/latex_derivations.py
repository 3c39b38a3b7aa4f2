"""Derivations printed and saved: the roofline and step laws' documents, and two solved cases.

The LaTeX comes from the same sympy expressions the solvers compile, so what is printed here
is what the code computes: the ridge point is solved from t_compute = t_memory, derivatives
across the max() kink come back one expression per regime, and a solved step substitutes its
own values.

    python examples/latex_derivations.py --out DIR   # DIR/derivations/*.md|*.tex, DIR/cases/*.tex
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import symsys
from symsys import derive, render
from symsys.laws import decode, roofline


def the_roofline_law() -> None:
    """One law: its aligned LaTeX, a derived closed form, exact calculus on it."""
    print("% the roofline law, as rendered from its definitions")
    print(roofline.latex())
    ridge = roofline.expr("I_ridge")
    print(f"\nridge point, solved (never typed): I* = {ridge}   LaTeX: {roofline.latex_of(ridge)}")
    # T has a max() kink: the exact derivatives come back one expression per regime
    elasticity = derive.elasticity(roofline, "beta", of="T")
    print(f"\n{elasticity}\n  LaTeX: {elasticity.latex()}")


def decode_batch_derivative() -> None:
    """dT/db of a decode step, per regime, as a person would write it (dense: E = k = 1)."""
    dT_db = derive.diff(decode, "b", of="T", variant="dense")
    print(f"\n{dT_db}\n  LaTeX: {dT_db.latex()}")


def solved_cases(out: Path) -> list[Path]:
    """A decode step and a weight-streaming step with every definition evaluated."""
    out.mkdir(parents=True, exist_ok=True)
    decode = symsys.Engine.solve(model=symsys.Models.Llama3_8B,
                                 hardware=symsys.Hardware.Cloud.H100, batch_size=1)
    stream = symsys.WeightStreamingModel().solve(model=symsys.Models.Language.GPT3,
                                                 hardware=symsys.Hardware.Cloud.Cerebras_CS3,
                                                 seq_len=2048, batch_size=1)
    written = []
    for name, result in (("decode_llama3_8b_h100", decode),
                         ("streaming_gpt3_cs3", stream)):
        path = out / f"{name}.tex"
        path.write_text(result.derivation() + "\n")
        written.append(path)
    print("\n% Llama-3-8B decode on the H100, b = 1, every line evaluated")
    print(decode.derivation())
    return written


#: the documents this example writes: the roofline and the two transformer steps
LAWS = ("roofline", "transformer_parameters", "decode", "prefill")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="directory for the documents (default examples/output)")
    out = parser.parse_args(argv).out
    the_roofline_law()
    decode_batch_derivative()
    # the laws this example discusses, in both formats (`symsys derive --all --out DIR`
    # writes every law's)
    documents = out / "derivations"
    documents.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fmt in itertools.product(LAWS, ("md", "tex")):
        path = documents / f"{name}.{fmt}"
        path.write_text(render.render(name, fmt))
        written.append(path)
    written += solved_cases(out / "cases")
    print(f"\nwrote {len(written)} files under {out}:")
    for path in written:
        print(f"  {path}")


if __name__ == "__main__":
    main()
