"""symsys sweep: evaluate every combination of models, devices, precisions, tensor-parallel
degrees, batches, contexts and hypothetical hardware; print it, reduce it (best, Pareto), or
write it to a file."""

from __future__ import annotations

import re

from symsys.solvers import PHASES

HELP = ("sweep models x devices x precisions x tensor-parallel degrees x batches x contexts x "
        "hypothetical hardware")
EXAMPLES = """  symsys sweep Llama3_8B A100,H100,B200 --batch-size 1,8,64,512
  symsys sweep Llama3_8B TPUv5p,H100                (precision auto: bf16 on TPUs, fp16 on H100)
  symsys sweep Llama3_8B,Mixtral_8x7B H100 --batch-size 1:1025 --seq-len 0,2048 --json
  symsys sweep Llama3_8B H100 --weight-precision int4,int8,fp16 --kv-precision fp8,fp16
  symsys sweep Llama3_8B all --batch-size 1   (every device in the registry)
  symsys sweep Llama3_8B H100 -b 1:513 --best throughput --pareto latency,throughput
  symsys sweep Llama3_70B H100 --bandwidth 1:10:0.25TB/s --capacity 80,141,192,288GiB \\
      --where "latency <= 20 ms" --pareto bandwidth:min,capacity:min
  symsys sweep Llama3_70B H100,H200,B200 -b 1:513 -s 2048 --cost \\
      --where "latency <= 20 ms" --pareto latency,cost_per_token
  symsys sweep Llama3_8B,Llama3_70B H100 -b 1:100001 --bandwidth 1:8:0.5TB/s \\
      --backend dask --best throughput --out best.parquet
  symsys sweep Llama3_70B H100 DGX_H100 --tp 1,2,4,8 --batch 1,8,64
  symsys sweep Llama3_70B DGX_H100 --tp 1,2,4,8 -b 1:257 -s 4096 --cost \\
      --where "latency <= 20 ms" --pareto latency,cost_per_token

--tp (--tensor-parallel) sweeps tensor-parallel degrees: each row is one device of a group
of n (memory_footprint and latency_communication per device, throughput the group's, cost
for n devices). A system (DGX_H100) brings its fast domain; a degree its K/V heads or the
domain forbid is kept as an infeasible row with the reason (symsys solve would refuse it).

Hypothetical hardware (--peak, --bandwidth, --capacity) replaces every device's number and
is a sweep axis. Give a comma list with one unit at the end ("2,3.35,8 TB/s") or a range
START:STOP:STEP UNIT with STOP included when the steps land on it ("1:10:0.5TB/s" is
1, 1.5, ..., 10 TB/s). Units are required.

--where takes conditions on the columns ("feasible", "latency <= 20 ms",
"throughput >= 5k token/s", "bottleneck == Compute"); --best, --pareto and --top use the
feasible rows that meet them. --out writes the rows (or, with a reduction, the reduced rows)
as .csv or .parquet (Parquet needs pyarrow)."""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(\S.*?)\s*")
_LIST = re.compile(rf"\s*((?:{_NUMBER}\s*,\s*)*{_NUMBER})\s*([^\d\s,.+-][^,]*?)\s*")


#: the most values one range option gives (a sweep axis, not a memory bomb)
MAX_VALUES = 10**7


def _ints(text: str):
    import numpy as np

    from symsys.errors import InvalidParameter

    shown = text if len(text) <= 60 else f"{text[:60]}..."
    try:
        if ":" in text:
            start, stop, *step = (int(x) for x in text.split(":"))
            if len(step) > 1 or step == [0]:
                raise ValueError
            values = range(start, stop, step[0] if step else 1)
        else:
            values = [int(x) for x in text.split(",")]
        count = len(values)
    except (ValueError, OverflowError):  # OverflowError: a range too long for len()
        raise InvalidParameter(f"{shown!r}: expected N, N,M,... or START:STOP[:STEP] "
                               f"(STEP not 0, at most {MAX_VALUES:,} values)") from None
    if count > MAX_VALUES:  # before numpy allocates them
        raise InvalidParameter(f"{shown!r}: {count:,} values; a range gives at most "
                               f"{MAX_VALUES:,}")
    ends = (values[0], values[-1]) if isinstance(values, range) and count else values
    if any(abs(v) > 2**53 for v in ends):  # a range lies between its ends
        raise InvalidParameter(f"{shown!r}: values beyond 2**53 = {2**53} (not exact as "
                               "floats); expected counts such as 1,8,64 or 1:513")
    if isinstance(values, range):
        values = np.arange(values.start, values.stop, values.step)
    if not len(values):
        raise InvalidParameter(f"{shown!r}: the range START:STOP[:STEP] is empty")
    return values


#: the dimension of each option read by :func:`quantities`
OPTION_UNITS = {"--peak": "FLOP/s", "--bandwidth": "B/s", "--capacity": "B",
                "--price": "USD/hour"}
_OPTION_EXAMPLES = {"--peak": "500:2000:250TFLOP/s", "--bandwidth": "1:10:0.5TB/s",
                    "--capacity": "80,141,192GiB", "--price": "1:4:0.5USD/hour"}


def quantities(text: str, option: str):
    """``--bandwidth`` text as a Quantity array: "2,3.35,8 TB/s", "2TB/s,8TB/s" or
    "START:STOP:STEP UNIT" (STOP included when the steps land on it). Every value must be
    finite in the option's unit (``OPTION_UNITS``): '1e308 GiB' overflows bytes."""
    quantity = _quantities(text, option)
    _check_values(quantity, text, option)
    return quantity


def _quantities(text: str, option: str):
    import numpy as np

    from symsys.errors import InvalidParameter
    from symsys.units import Q_

    match = _RANGE.fullmatch(text)
    if match:
        start, stop, step = (float(x) for x in match.groups()[:3])
        if not step > 0 or not stop >= start or not np.isfinite(stop - start):
            raise InvalidParameter(f"{option} {text!r}: a range START:STOP:STEP UNIT needs "
                                   "finite numbers, STEP > 0 and STOP >= START")
        count = int(np.floor((stop - start) / step * (1 + 1e-12))) + 1
        if count > MAX_VALUES:
            raise InvalidParameter(f"{option} {text!r}: {count:,} values; at most "
                                   f"{MAX_VALUES:,}")
        return Q_(start + step * np.arange(count), _unit(match.group(4), text, option))
    match = _LIST.fullmatch(text)
    if match:
        values = [float(x) for x in match.group(1).split(",")]
        return Q_(np.array(values), _unit(match.group(2), text, option))
    if "," in text:
        items = [_quantities(part, option) for part in text.split(",")]
        first = items[0].units
        if any(q.dimensionality != items[0].dimensionality for q in items):
            raise InvalidParameter(f"{option} {text!r}: the values are in units of different "
                                   f"dimensions; give them all in {OPTION_UNITS.get(option)}")
        return Q_(np.concatenate([np.atleast_1d(q.m_as(first)) for q in items]), first)
    raise InvalidParameter(f"{option} {text!r}: expected a list with units ('2,3.35,8 TB/s') "
                           "or a range START:STOP:STEP UNIT ('1:10:0.5TB/s')")


def _unit(unit_text: str, text: str, option: str):
    """The unit of a list or range, read by :func:`symsys.units.unit` (bounded exponents);
    text that is not a unit is an error naming the option."""
    import pint

    from symsys.errors import InvalidParameter, UnitError
    from symsys.units import unit

    try:
        return unit(unit_text.strip())
    except UnitError as exc:  # an unbounded exponent or an overlong unit: say which
        why = str(exc)
    except pint.UndefinedUnitError as exc:
        why = f"{', '.join(map(repr, exc.unit_names)) or repr(unit_text)} is not a unit"
    except Exception:  # pint raises many types (TokenError, DefinitionSyntaxError, ...)
        why = f"{unit_text.strip()!r} is not a unit"
    raise InvalidParameter(f"{option} {text!r}: {why}; expected values in "
                           f"{OPTION_UNITS.get(option, 'a unit')}, e.g. "
                           f"'{_OPTION_EXAMPLES.get(option, '1:10:0.5TB/s')}'")


def _check_values(quantity, text: str, option: str) -> None:
    """Every value of ``quantity`` finite and > 0 in the option's unit, else an error naming
    the first bad one."""
    import numpy as np

    from symsys.errors import InvalidParameter
    from symsys.units import Q_, check_range

    expected = OPTION_UNITS.get(option)
    if expected is None:
        return
    if not quantity.check(expected):
        raise InvalidParameter(f"{option} {text!r}: got {quantity.units:~P} "
                               f"({quantity.dimensionality}); expected values in {expected}")
    with np.errstate(over="ignore"):
        canonical = np.atleast_1d(quantity.m_as(expected))
    for value in np.atleast_1d(quantity.magnitude)[~(np.isfinite(canonical) & (canonical > 0))]:
        check_range(Q_(float(value), quantity.units), expected, f"{option} {text!r}",
                    error=InvalidParameter)


def _objectives(text: str) -> dict:
    from symsys.errors import InvalidParameter
    from symsys.sweeps.reduce import MAXIMIZE

    out = {}
    for part in text.split(","):
        name, _, sense = part.strip().partition(":")
        if not name or sense not in ("", "min", "max"):
            raise InvalidParameter(f"--pareto {text!r}: expected COLUMN[:min|max],... "
                                   "e.g. latency,throughput or bandwidth:min,capacity:min")
        out[name] = sense or ("max" if name in MAXIMIZE else "min")
    return out


def add_arguments(parser):
    from symsys.commands._common import efficiency_argument, memory_fraction_argument

    parser.add_argument("models", help="comma-separated model names")
    parser.add_argument("hardware", nargs="+",
                        help="device or system names (comma- or space-separated), or 'all'")
    parser.add_argument("--batch-size", "-b", default="1", help="N, N,M,... or START:STOP[:STEP]")
    parser.add_argument("--seq-len", "-s", default=None, help="N, N,M,... or START:STOP[:STEP]")
    parser.add_argument("--precision", "-p", default="auto",
                        help="comma-separated compute precisions (default auto: each device's "
                             "native 16-bit format)")
    parser.add_argument("--weight-precision", default=None,
                        help="comma-separated weight formats, e.g. int4,int8,fp16 "
                             "(default: the compute precision)")
    parser.add_argument("--kv-precision", default=None,
                        help="comma-separated K/V cache formats, e.g. fp8,fp16")
    parser.add_argument("--tensor-parallel", "--tp", default=None, metavar="DEGREES",
                        help="tensor-parallel degrees as a sweep axis: N, N,M,... or "
                             "START:STOP[:STEP], e.g. 1,2,4,8 (default: one device)")
    parser.add_argument("--ep", "--expert-parallel", dest="expert_parallel", type=int,
                        default=1, help="one expert-parallel degree for an MoE model's routed "
                                        "experts (not an axis; default 1)")
    parser.add_argument("--phase", default="decode", choices=PHASES)
    parser.add_argument("--law", default=None, metavar="NAME",
                        help="the step law by name (default: the package's for the phase and "
                             "degrees; a registered or installed package's law too)")
    parser.add_argument("--set", action="append", default=None, metavar="NAME=VALUES",
                        help="any input of the step law by symbol name, one value or a sweep "
                             "axis, repeatable: a_acc=0.6,0.7,0.8 or t_o='0,5,10 us'")
    efficiency_argument(parser)
    memory_fraction_argument(parser)
    for name, example in (("peak", "500:2000:250TFLOP/s"), ("bandwidth", "1:10:0.5TB/s"),
                          ("capacity", "80,141,192GiB")):
        parser.add_argument(f"--{name}", default=None,
                            help=f"hypothetical {name} replacing every device's, as a sweep "
                                 f"axis: a list or START:STOP:STEP UNIT, e.g. {example}")
    parser.add_argument("--cost", action="store_true",
                        help="add cost_per_token, energy_per_token and tokens_per_joule "
                             "(each device's on-demand cloud price and TDP, or --price/--power)")
    parser.add_argument("--price", default=None,
                        help="with --cost: one device's price replacing every device's, as a "
                             "sweep axis: a list or START:STOP:STEP UNIT, e.g. "
                             "'1:4:0.5USD/hour'")
    parser.add_argument("--power", default=None,
                        help="with --cost: one device's power for every device, e.g. '700 W'")
    parser.add_argument("--where", action="append", default=None, metavar="CONDITION",
                        help="row condition for the reductions, repeatable, e.g. "
                             "'latency <= 20 ms' (the feasible rows are always required)")
    parser.add_argument("--best", default=None, metavar="COLUMN",
                        help="print the best row per --per group by COLUMN (throughput is "
                             "maximised, others minimised)")
    parser.add_argument("--per", default="model",
                        help="label columns --best groups by (default model; '' for one)")
    parser.add_argument("--pareto", default=None, metavar="COL[:min|max],...",
                        help="print the Pareto front over 2 or 3 columns, e.g. "
                             "latency,throughput")
    parser.add_argument("--top", type=int, default=None, metavar="K",
                        help="print the K best rows by --best (default throughput)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="write the rows (or the reduced rows) to FILE.csv or FILE.parquet")
    parser.add_argument("--backend", default="numpy", choices=("numpy", "dask"),
                        help="numpy (this process) or dask (a cluster; needs symsys[dask])")
    parser.add_argument("--scheduler", default=None,
                        help="dask: a running cluster's address, e.g. tcp://host:8786 "
                             "(default: a local cluster on this machine's cores)")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="configurations per chunk (numpy, with a reduction) or per Dask "
                             "block")
    parser.add_argument("--rows", type=int, default=40, help="rows to print (text output)")


def _economics(args) -> dict:
    """--cost: the default columns plus cost and energy, priced and powered as given."""
    if not args.cost:
        if args.price is not None or args.power is not None:
            from symsys.errors import InvalidParameter

            raise InvalidParameter("--price/--power apply with --cost")
        return {}
    from symsys.sweeps.grid import DEFAULT_COLUMNS, ECONOMICS

    price = None if args.price is None else quantities(args.price, "--price")
    return {"columns": [*DEFAULT_COLUMNS, *ECONOMICS], "price": price, "power": args.power}


def law_inputs(texts) -> dict | None:
    """``--set NAME=VALUES`` texts as ``inputs=``: each split by the step option's own reader
    (:func:`symsys.solvers.checks.law_inputs`), its values numbers ("0.6,0.8") for a
    dimensionless input, else a list or range with a unit ("0,5,10 us", "1:4:1TB/s"), which
    the law's unit checks."""
    if not texts:
        return None
    from symsys.solvers import checks
    from symsys.solvers.options import OPTIONS

    out = {}
    for name, values in checks.law_inputs(OPTIONS["inputs"], texts):
        try:
            out[name] = [float(v) for v in values.split(",")]
        except ValueError:
            out[name] = _quantities(values, f"--set {name}")
    return out


def run(args):
    from symsys.errors import InvalidParameter
    from symsys.registry import Hardware
    from symsys.sweeps import reduce
    from symsys.sweeps.sweep import sweep

    if args.rows < 0:
        raise InvalidParameter(f"--rows {args.rows}: expected a number of rows >= 0")
    names = ",".join(args.hardware)
    hardware = Hardware.list() if names == "all" else names.split(",")
    reducing = args.best or args.pareto or args.top
    progress = False if args.json else None  # a bar on a terminal, never in JSON output
    lists = {name: None if getattr(args, name) is None else getattr(args, name).split(",")
             for name in ("weight_precision", "kv_precision")}
    result = sweep(model=args.models.split(","), hardware=hardware,
                   batch_size=_ints(args.batch_size),
                   seq_len=None if args.seq_len is None else _ints(args.seq_len),
                   tensor_parallel=(None if args.tensor_parallel is None
                                    else _ints(args.tensor_parallel)),
                   precision=args.precision.split(","), phase=args.phase,
                   efficiency=args.efficiency, **lists,
                   **({} if args.expert_parallel == 1
                      else {"expert_parallel": args.expert_parallel}),
                   **({} if args.memory_fraction is None
                      else {"memory_fraction": args.memory_fraction}),
                   **{name: None if getattr(args, name) is None else
                      quantities(getattr(args, name), f"--{name}")
                      for name in ("peak", "bandwidth", "capacity")},
                   backend=args.backend, scheduler=args.scheduler,
                   **_economics(args), law=args.law, inputs=law_inputs(args.set),
                   chunk_size=args.chunk_size if (reducing or args.backend == "dask") else None,
                   progress=progress)
    if not reducing:
        if args.where:
            raise InvalidParameter("--where applies to --best, --pareto and --top")
        if args.backend == "dask":
            result = result.compute()
        if args.out:
            result.write(args.out)
        data = result.to_dict()
        return result.table(args.rows) + _written(args.out), data
    where = ["feasible", *(args.where or [])]
    reducers, titles = [], []
    if args.best and args.top is None:
        per = tuple(p for p in args.per.split(",") if p)
        reducers.append(reduce.Best(args.best, per, where))
        titles.append(f"best {args.best} per {', '.join(per) or 'sweep'}")
    if args.top is not None:
        reducers.append(reduce.TopK(args.top, args.best or "throughput", where))
        titles.append(f"top {args.top} by {args.best or 'throughput'}")
    if args.pareto:
        reducers.append(reduce.Pareto(_objectives(args.pareto), where))
        titles.append(f"Pareto front: {args.pareto}")
    answers = reduce.apply(result, *reducers, progress=progress)
    if args.out:
        if len(answers) != 1:
            raise InvalidParameter("--out with a reduction writes one table: give one of "
                                   "--best, --top, --pareto")
        answers[0].write(args.out)
    text = "\n\n".join(f"{title} ({' and '.join(where)}):\n{answer.table(args.rows)}"
                       for title, answer in zip(titles, answers))
    total = getattr(result, "configurations", None) or len(result)
    data = {"kind": "sweep", "configurations": total, "where": where,
            "skipped": list(result.skipped),
            "reductions": {title: answer.to_dict() for title, answer in zip(titles, answers)}}
    return f"{total:,} configurations\n\n{text}{_written(args.out)}", data


def _written(path) -> str:
    return f"\nwrote {path}" if path else ""
