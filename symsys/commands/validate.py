"""symsys validate: predicted against measured kernel times, and the speed-of-light bound."""

from __future__ import annotations

from pathlib import Path

HELP = "compare predictions with measured kernel times (shipped Vidur data, or --data PATH)"
EXAMPLES = """  symsys validate
  symsys validate --json
  symsys validate --data path/to/profiles/      # <gpu>__<model>.csv in Vidur's format
  symsys validate --lomo                        # add leave-one-model-out cross-validation
  symsys validate --training                    # training iterations vs Megatron (Table 5)
  symsys validate --multi-gpu                   # tensor-parallel decode vs gpt-fast (A100)
  symsys validate --e2e                         # single-GPU requests vs gpt-fast, TensorRT-LLM"""


def add_arguments(parser):
    parser.add_argument("--data", type=Path, default=None,
                        help="a <gpu>__<model>.csv file or a folder of them (Vidur format)")
    parser.add_argument("--lomo", action="store_true",
                        help="also fit leave-one-model-out and report held-out errors")
    parser.add_argument("--multi-gpu", action="store_true",
                        help="tensor-parallel decode (TP 1-8) against gpt-fast's published "
                             "A100 tokens/s, speed of light and calibrated (kernel + link)")
    parser.add_argument("--e2e", action="store_true",
                        help="single-GPU end-to-end requests (gpt-fast, torchao, TensorRT-LLM "
                             "on A100/H100): speed of light and calibrated, per row")
    parser.add_argument("--training", action="store_true",
                        help="training iterations against Korthikanti et al. 2022 (Megatron "
                             "GPT 22B-1T on A100), beside Calculon's predictions")
    parser.add_argument("--law", action="append", default=None,
                        help="calibrated law(s) to report: roofline, smooth, gemm (default all)")


def run(args):
    from symsys.calibration import LAWS, cross_validation, load_vidur, report
    from symsys.errors import InvalidParameter

    if args.multi_gpu:
        from symsys.accuracy import multi_gpu

        data = multi_gpu.report()
        return multi_gpu.render(data), data
    if args.e2e:
        from symsys.accuracy import e2e

        data = e2e.report()
        return e2e.render(data), data
    if args.training:
        from symsys.accuracy import training as training_accuracy

        data = training_accuracy.report()
        return training_accuracy.render(data), data
    laws = tuple(args.law or LAWS)
    unknown = [law for law in laws if law not in LAWS]
    if unknown:
        raise InvalidParameter(f"--law {unknown[0]!r}: laws are {', '.join(LAWS)}")
    if args.data is not None and not _exists(args.data):
        raise InvalidParameter(f"--data {args.data}: no such file or folder")
    datasets = load_vidur(args.data)
    data = report(datasets, laws)
    if args.lomo:
        data["cross_validation"] = cross_validation(datasets, laws)
    return render(data), data


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; a name the system cannot look up (too long, a NUL byte) is an
    error naming it."""
    from symsys.errors import InvalidParameter

    try:
        return path.exists()
    except (OSError, ValueError) as exc:
        shown = str(path) if len(str(path)) <= 60 else f"{str(path)[:60]}..."
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidParameter(f"--data {shown}: cannot read it ({reason}); expected a "
                               "<gpu>__<model>.csv file or a folder of them") from None


def _pct(stats) -> str:
    return f"{stats['median']:7.1%} {stats['mean']:7.1%} {stats['p90']:7.1%}"


def render(data: dict) -> str:
    """The report as plain text: per device an error table, per operation, the bound check."""
    lines = [f"measured data: {data['source']}", "",
             "errors are |predicted / measured - 1|: median, mean, 90th percentile"]
    for key, device in data["devices"].items():
        columns = [("speed of light", device["speed_of_light"])]
        columns += [(f"calibrated {law}", r) for law, r in device["calibrated"].items()]
        lines += ["", f"{key} {device['precision']}: {device['speed_of_light']['all']['n']} "
                      f"kernels of {', '.join(device['models'])}; measured / speed of light "
                      f"median {device['slowdown_median']:.2f}",
                  f"  {'':30s} {'median':>7s} {'mean':>7s} {'p90':>7s}"]
        lines += [f"  {name:30s} {_pct(r['all'])}" for name, r in columns]
        for op in device["speed_of_light"]["by_op"]:
            lines.append(f"  {op}")
            lines += [f"    {name:28s} {_pct(r['by_op'][op])}" for name, r in columns]
        lines += [f"  profile: {r['profile']}" for r in device["calibrated"].values()]
        bad = device["violations"]
        lines.append(f"  speed-of-light bound: {len(bad)} kernel(s) measured faster than it")
        lines += [f"    VIOLATION {v}" for v in bad[:20]]
        if len(bad) > 20:
            lines.append(f"    ... and {len(bad) - 20} more (see --json)")
    for key, laws in data.get("cross_validation", {}).items():
        lines += ["", f"{key}: leave-one-model-out (fit on the other models, predict this one)"]
        for law, result in laws.items():
            lines.append(f"  {law:10s} {'pooled':20s} {_pct(result['pooled'])}")
            lines += [f"  {'':10s} {model:20s} {_pct(stats)}"
                      for model, stats in result["models"].items()]
    return "\n".join(lines)
