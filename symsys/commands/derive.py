"""symsys derive: print or write the derivation documents of the laws."""

from __future__ import annotations

from pathlib import Path

HELP = "print a law's derivation (Markdown or LaTeX), or write all of them"
EXAMPLES = """  symsys derive roofline
  symsys derive decode --format tex
  symsys derive --all --out derivations/"""


def add_arguments(parser):
    parser.add_argument("name", nargs="?", help="law name (see --list)")
    parser.add_argument("--format", choices=("md", "tex"), default="md")
    parser.add_argument("--all", action="store_true", help="every law")
    parser.add_argument("--out", type=Path, help="directory to write NAME.md/.tex into")
    parser.add_argument("--list", action="store_true", help="list the laws")


def run(args):
    from symsys import render
    from symsys.errors import InvalidParameter
    from symsys.laws import ALL

    if args.list:
        return "\n".join(f"{name:24s} {law.title}" for name, law in ALL.items()), list(ALL)
    if args.all:
        if args.out is None:
            text = "\n\n".join(render.render(n, args.format) for n in ALL)
            return text, {n: render.render(n, args.format) for n in ALL}
        try:
            paths = render.write_all(args.out, args.format)
        except OSError as exc:
            raise InvalidParameter(f"--out {args.out}: cannot write there ({exc})") from None
        return "\n".join(f"wrote {p}" for p in paths), [str(p) for p in paths]
    if not args.name:
        raise InvalidParameter("give a law name or --all; laws: " + ", ".join(ALL))
    text = render.render(args.name, args.format)
    if args.out is not None:
        path = args.out / f"{args.name}.{args.format}"
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            raise InvalidParameter(f"--out {args.out}: cannot write there ({exc})") from None
        return f"wrote {path}", str(path)
    return text, {"name": args.name, "format": args.format, "document": text}
