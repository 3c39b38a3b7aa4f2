"""Plain-text formatting of the benchmark figures: SI values and aligned tables."""

from __future__ import annotations


def fmt_si(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s",):
        return f"{value * 1e3:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "us":
        return f"{value:.1f} us"
    if unit in ("points/s", "configs/s"):
        return f"{value:.3g} /s"
    if unit == "B":
        return f"{value / 2**20:.1f} MiB"
    if unit == "ratio":
        return f"{value:.2f}x"
    return f"{value:.4g}{(' ' + unit) if unit else ''}"


def table(headers: list[str], rows: list[list], title: str = "") -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = [title, "=" * len(title)] if title else []
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    out.append(line)
    for r in cells:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(out)
