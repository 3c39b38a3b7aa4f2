"""Derivations printed and saved: every law's document, and two solved cases with their numbers.

The LaTeX comes from the same sympy expressions the solvers compile, so what is printed here
is what the code computes: the ridge point is solved from t_compute = t_memory, the derivative
at the max() kink is reported one-sided, and a solved step substitutes its own values.

    python examples/latex_derivations.py --out DIR   # DIR/derivations/*.md|*.tex, DIR/cases/*.tex
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sympy as sp

import symsys
from symsys import derive, render
from symsys import symbols as S
from symsys.laws import roofline


def the_roofline_law() -> None:
    """One law: its aligned LaTeX, a derived closed form, exact calculus on it."""
    print("% the roofline law, as rendered from its definitions")
    print(roofline.latex())
    ridge = roofline.expr("I_ridge")
    print(f"\nridge point, solved (never typed): I* = {ridge}   LaTeX: {roofline.latex_of(ridge)}")
    T = roofline.expr("T")
    # T has a max() kink: split it into its smooth branches and differentiate each exactly
    for branch, conditions in derive.branches(T):
        where = " and ".join(str(c) for c in conditions)
        slope = sp.simplify(sp.diff(branch, S.beta))
        elasticity = sp.simplify(slope * S.beta / branch)
        print(f"where {where}:\n  T = {branch}\n  dT/dbeta = {slope}   "
              f"elasticity = {elasticity}   LaTeX: {sp.latex(elasticity)}")


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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="directory for the documents (default examples/output)")
    out = parser.parse_args(argv).out
    the_roofline_law()
    written = [*render.write_all(out / "derivations", "md"),
               *render.write_all(out / "derivations", "tex"),
               *solved_cases(out / "cases")]
    print(f"\nwrote {len(written)} files under {out}:")
    for path in written:
        print(f"  {path}")


if __name__ == "__main__":
    main()
