"""What a law is: an ordered system of named definitions over symbols from the symbol table.

A law knows its inputs (ordered), its outputs, the results derived from it by calculus
(never typed), its regimes (the terms of its max()), how to flatten an output to an
expression of inputs only, and how to render itself as an aligned LaTeX derivation.
Pure sympy: no numpy, no pint, no registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from symsys import symbols as S


@dataclass(frozen=True)
class Derived:
    """A result obtained from the law by calculus, e.g. the ridge point.

    ``build`` receives the law and returns the closed form. ``solves`` is the equation
    ``(lhs, rhs)`` that was solved for ``unknown``; it is printed beside the result, rendered
    from the same symbols, so the annotation cannot drift from what the code did.
    """

    symbol: sp.Symbol
    build: Callable[[Law], sp.Expr]
    solves: tuple[sp.Expr, sp.Expr]
    unknown: sp.Symbol
    given: dict = field(default_factory=dict)  # substitutions under which it holds
    #: the result as printed, when it reads better over the law's own outputs than over its
    #: inputs (None: print the flattened result)
    shown: Callable[[Law], sp.Expr] | None = None
    #: the factory call that made it (``("balance", args)``): its ``build`` is a closure,
    #: which pickle cannot name, so it pickles as that call
    recipe: tuple | None = field(default=None, compare=False, repr=False)

    def __reduce_ex__(self, protocol):
        if self.recipe is None:
            return object.__reduce_ex__(self, protocol)
        factory, args = self.recipe
        return getattr(Derived, factory), args

    @staticmethod
    def balance(symbol, lhs, rhs, unknown, given=None) -> Derived:
        """The ``unknown`` at which outputs ``lhs`` and ``rhs`` are equal (flattened, exact)."""
        given = given or {}

        def build(law: Law) -> sp.Expr:
            equation = sp.Eq(law.expr(lhs).xreplace(given), law.expr(rhs).xreplace(given))
            solutions = sp.solve(equation, unknown)
            if len(solutions) != 1:
                raise ValueError(f"{law.name}: {lhs} = {rhs} has {len(solutions)} solutions")
            return sp.simplify(solutions[0])

        return Derived(symbol, build, (lhs, rhs), unknown, given,
                       recipe=("balance", (symbol, lhs, rhs, unknown, given)))

    @staticmethod
    def solve(symbol, lhs, rhs, unknown, whole, given=None) -> Derived:
        """The ``unknown`` at which outputs ``lhs`` and ``rhs`` are equal, solved with the
        law's outputs ``whole`` kept as symbols: they must not depend on the unknown (a
        microbatch's time does not depend on how many microbatches there are). It prints
        over them, as a reader would write it, and compiles with each replaced by its
        flattened expression. ``unknown`` may be an output itself (the number of microbatches
        m), solved for as a symbol of the equation.
        """
        given = given or {}
        stop = frozenset((*whole, unknown))

        def shown(law: Law) -> sp.Expr:
            gap = (law.partial(lhs, stop) - law.partial(rhs, stop)).xreplace(given)
            # linear in the unknown or in its reciprocal (a time of n devices' shares): the
            # root by its slope, in the law's own grouping, with no solve and no expansion
            slope = sp.diff(gap, unknown)
            if unknown not in slope.free_symbols:
                return sp.factor_terms(-gap.xreplace({unknown: 0}) / slope)
            inverse = sp.Dummy("w", positive=True)
            gap_w = gap.xreplace({unknown: 1 / inverse})
            slope = sp.expand(sp.diff(gap_w, inverse))
            if inverse not in slope.free_symbols:
                intercept = sp.expand(gap_w - slope * inverse)
                if inverse not in intercept.free_symbols:
                    return sp.simplify(-slope / intercept)
            solutions = sp.solve(gap, unknown)
            if len(solutions) != 1:
                raise ValueError(f"{law.name}: {lhs} = {rhs} has {len(solutions)} solutions "
                                 f"in {unknown}")
            return sp.factor_terms(solutions[0])

        def build(law: Law) -> sp.Expr:
            return shown(law).xreplace({w: law.expr(w) for w in whole}).xreplace(given)

        return Derived(symbol, build, (lhs, rhs), unknown, given, shown,
                       recipe=("solve", (symbol, lhs, rhs, unknown, tuple(whole), given)))


#: the parallel degrees a step law may model, as the step options name them
PARALLELISMS = ("tensor", "pipeline", "expert")


@dataclass(frozen=True)
class StepRole:
    """How the registry's front ends use a law: as one step of a transformer on hardware.

    ``Engine.solve``, the cost, sensitivity, synthesis and serving solvers, the registry sweep
    and the command line choose the law of a request from these declarations (never from its
    name): the law of the request's ``phase`` whose ``parallel`` degrees are the fewest that
    cover the degrees asked for (a degree above 1, or a link latency for ``"tensor"``); a
    law asked for by name (``law="my_step"``) must cover them. A front end fills the inputs
    the registry and the options give (the model's summaries, the device, ``n_g`` and the
    link for ``"tensor"``, ``n_pp`` for ``"pipeline"``, ``n_ep`` for ``"expert"``); the
    law's other inputs come from its defaults or the request's ``inputs``.

    Parameters
    ----------
    phase : str
        ``"decode"`` or ``"prefill"``: the step the law answers.
    parallel : tuple of str
        The degrees it models, of :data:`PARALLELISMS` (empty: one device).
    devices : sympy expression, optional
        The devices the step occupies, over its inputs (``n_g``, ``n_g n_pp``); its cost
        extension prices that many (None: one device, or an input ``n_dev``).
    communication, dispatch, stage : sympy Symbol, optional
        The outputs that are the step's communication time, its all-to-all time and one
        pipeline stage's time: results report them (``latency_communication``...), and the
        communication share is communication over the stage (else the latency).
    prices : str, optional
        Set on a cost-and-energy extension: the name of the step law it prices.
    """

    phase: str
    parallel: tuple[str, ...] = ()
    devices: sp.Expr | None = None
    communication: sp.Symbol | None = None
    dispatch: sp.Symbol | None = None
    stage: sp.Symbol | None = None
    prices: str | None = None

    def __post_init__(self):
        unknown = set(self.parallel) - set(PARALLELISMS)
        if unknown:
            raise ValueError(f"StepRole parallel {sorted(unknown)}: choose from "
                             f"{', '.join(PARALLELISMS)}")
        object.__setattr__(self, "parallel",
                           tuple(p for p in PARALLELISMS if p in self.parallel))

    def card(self) -> dict:
        """The role as plain data (symbol names), for the law's card."""

        def name(symbol):
            return None if symbol is None else symbol.name

        return {"phase": self.phase, "parallel": self.parallel,
                "communication": name(self.communication), "dispatch": name(self.dispatch),
                "stage": name(self.stage), "prices": self.prices}


@dataclass(frozen=True, eq=False)
class Law:
    """An ordered system ``output = expression`` over table symbols.

    Besides its definitions a law declares the roles the generic solvers need, so a new law
    needs no solver code: ``latency`` (the output a latency target or a sensitivity refers to),
    ``rate`` (items per second), ``footprint`` (bytes held) and the ``capacity`` input it is
    checked against, its ``regimes`` (the named terms of its max(), any number of them), its
    ``levers`` (inputs a user can invest in; their readable names come from the symbol table)
    and its ``integers`` (inputs that are counts: batch, context, devices). ``variants`` name
    exact specialisations of every expression (``"dense"``: E = k = 1) that kernels may be
    compiled for. ``step`` (a :class:`StepRole`) makes it a step the registry's front ends
    choose by its declared phase and parallel degrees.
    """

    name: str
    title: str
    summary: str
    inputs: tuple[sp.Symbol, ...]
    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...]
    derived: tuple[Derived, ...] = ()
    regimes: tuple[tuple[str, sp.Symbol], ...] = ()
    defaults: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    latency: sp.Symbol | None = None
    rate: sp.Symbol | None = None
    footprint: sp.Symbol | None = None
    capacity: sp.Symbol | None = None
    levers: tuple[sp.Symbol, ...] = ()
    integers: tuple[sp.Symbol, ...] = ()
    variants: dict = field(default_factory=dict)
    step: StepRole | None = None

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name.isidentifier()
                and self.name.isascii()):
            # the name keys the law's kernel files: it must never be read as a path
            raise ValueError(f"law name {self.name!r}: a law's name must be a Python identifier "
                             "(letters, digits and underscores, not starting with a digit)")
        # the one argument order of compiled functions: the symbol table's
        object.__setattr__(self, "inputs", S.order(self.inputs))
        known = set(self.inputs)
        for output, rhs in self.definitions:
            missing = rhs.free_symbols - known
            if missing:
                undefined = sorted(map(str, missing))
                raise ValueError(f"law {self.name}: {output} uses undefined {undefined}")
            known.add(output)
        self._check_roles()

    def _check_roles(self) -> None:
        outputs, inputs = set(self.outputs), set(self.inputs)
        for role in ("latency", "rate", "footprint"):
            symbol = getattr(self, role)
            if symbol is not None and symbol not in outputs:
                raise ValueError(f"law {self.name}: {role} {symbol} is not one of its outputs")
        if (self.capacity is None) != (self.footprint is None):
            raise ValueError(f"law {self.name}: a footprint and its capacity come together")
        if self.capacity is not None and self.capacity not in inputs:
            raise ValueError(f"law {self.name}: capacity {self.capacity} is not an input")
        for label, term in self.regimes:
            if term not in outputs:
                raise ValueError(f"law {self.name}: regime {label} term {term} is not an output")
        for symbol in (*self.levers, *self.integers):
            if symbol not in inputs:
                raise ValueError(f"law {self.name}: {symbol} is not an input")
        if self.step is not None:
            for role in ("communication", "dispatch", "stage"):
                symbol = getattr(self.step, role)
                if symbol is not None and symbol not in outputs:
                    raise ValueError(f"law {self.name}: step {role} {symbol} is not one of "
                                     "its outputs")
            if self.step.devices is not None and not self.step.devices.free_symbols <= inputs:
                raise ValueError(f"law {self.name}: step devices {self.step.devices} is not "
                                 "an expression of its inputs")
        for symbol in self.levers:
            if not S.info(symbol).lever:
                raise ValueError(f"law {self.name}: lever {symbol} has no lever name in the "
                                 "symbol table (declare it with lever=...)")

    def card(self) -> dict:
        """The law's structure as plain data (names and units only), stored beside every
        compiled kernel so a cold process can label, check and wrap results without sympy."""

        def name(symbol):
            return None if symbol is None else symbol.name

        symbols = (*self.inputs, *self.outputs, *(d.symbol for d in self.derived))
        return {
            "law": self.name,
            "inputs": tuple(s.name for s in self.inputs),
            "outputs": tuple(s.name for s in self.outputs),
            "latency": name(self.latency), "rate": name(self.rate),
            "footprint": name(self.footprint), "capacity": name(self.capacity),
            "regimes": tuple((label, term.name) for label, term in self.regimes),
            "levers": tuple((S.info(x).lever, x.name) for x in self.levers),
            "integers": tuple(s.name for s in self.integers),
            "units": {s.name: S.info(s).unit for s in symbols},
            # numeric defaults, so a cold front end binds them without reading the law
            "defaults": {s.name: float(v) for s, v in self.defaults.items()
                         if isinstance(v, int | float | sp.Number)},
            "notes": tuple(self.notes),
            "step": None if self.step is None else self.step.card(),
        }

    # --- structure ------------------------------------------------------------------------
    @property
    def outputs(self) -> tuple[sp.Symbol, ...]:
        return tuple(output for output, _ in self.definitions)

    def symbol(self, name: str | sp.Symbol) -> sp.Symbol:
        """The input, output or derived symbol called ``name``."""
        if isinstance(name, sp.Symbol):
            name = name.name
        for candidate in (*self.inputs, *self.outputs, *(d.symbol for d in self.derived)):
            if candidate.name == name:
                return candidate
        valid = [s.name for s in (*self.inputs, *self.outputs, *(d.symbol for d in self.derived))]
        from symsys.errors import InvalidParameter, suggest

        raise InvalidParameter(
            f"law {self.name!r} has no symbol {name!r}; it has {', '.join(valid)}."
            + suggest(name, valid)
        )

    @cached_property
    def _flat_outputs(self) -> dict[sp.Symbol, sp.Expr]:
        flat: dict[sp.Symbol, sp.Expr] = {}
        for output, rhs in self.definitions:
            flat[output] = rhs.xreplace(flat)
        return flat

    @cached_property
    def _flat(self) -> dict[sp.Symbol, sp.Expr]:
        # derived results are built from the flattened outputs, never from each other
        flat = dict(self._flat_outputs)
        for derived in self.derived:
            flat[derived.symbol] = derived.build(self)
        return flat

    def expr(self, name: str | sp.Symbol) -> sp.Expr:
        """``name`` (an output or derived symbol) as an expression of the inputs only."""
        symbol = self.symbol(name)
        if symbol in self.inputs:
            return symbol
        if symbol in self._flat_outputs:
            return self._flat_outputs[symbol]
        return self._flat[symbol]

    def rhs(self, name: str | sp.Symbol) -> sp.Expr:
        """The right-hand side of ``name`` as written in the law (in terms of earlier outputs)."""
        symbol = self.symbol(name)
        for output, rhs in self.definitions:
            if output == symbol:
                return rhs
        return self._flat[symbol]

    def partial(self, name: str | sp.Symbol, stop=frozenset()) -> sp.Expr:
        """``name`` written out through the law's definitions down to its inputs and the
        symbols in ``stop`` (which stay symbols)."""
        symbol = self.symbol(name)
        if symbol in stop or symbol in self.inputs:
            return symbol
        rhs = self.rhs(symbol)
        return rhs.xreplace({x: self.partial(x, stop) for x in rhs.free_symbols
                             if x not in self.inputs})

    # --- rendering ------------------------------------------------------------------------
    def latex_of(self, expr: sp.Expr) -> str:
        return sp.latex(expr, symbol_names=S.latex_names(), mul_symbol=" ")

    def latex(self, derived: bool = True) -> str:
        """The law as one aligned block: each definition a line, then the derived results."""
        lines = [
            f"{self.latex_of(out)} &= {self.latex_of(rhs)}" for out, rhs in self.definitions
        ]
        if derived:
            for result in self.derived:
                lhs, rhs = (self.latex_of(side) for side in result.solves)
                given = ", ".join(f"{self.latex_of(k)} = {self.latex_of(v)}"
                                  for k, v in result.given.items())
                shown = (self._flat[result.symbol] if result.shown is None
                         else result.shown(self))
                lines.append(
                    f"{self.latex_of(result.symbol)} &= {self.latex_of(shown)}"
                    rf" && \text{{solves }} {lhs} = {rhs} \text{{ for }} "
                    f"{self.latex_of(result.unknown)}"
                    + (rf" \text{{ with }} {given}" if given else "")
                )
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __repr__(self) -> str:
        return f"<Law {self.name}: {', '.join(o.name for o in self.outputs)}>"
