"""A tiny document model rendered to both HTML and Markdown.

Sections are built once as data (paragraphs, tables of source-tagged values, images, cards)
and rendered twice, so report.html and report.md cannot disagree about a figure or its
source. Values carry their source kind; the renderers give each kind its own look:
HTML badges and value styles (an estimate is italic, dashed and prefixed "≈"), Markdown
markers (``*≈1,234*`` estimate, ``1,234°`` emulated, ``30 µJ†`` reference), both explained
by the legend at the top.

The HTML is self-contained: CSS inline, images as ``data:`` URIs, no scripts, and a
Content-Security-Policy that forbids any fetch, so the page opens offline and cannot leak.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Sequence, Union

from .sources import KIND_LABEL, KIND_MEANING, KINDS, NOT_RUN, source_kind


@dataclass
class V:
    """A figure: its text (None = missing), where it comes from, and what to say if missing."""

    text: str | None
    source: str | None = None
    kind: str | None = None
    missing: str = NOT_RUN
    badge: bool = False  # show the source badge right after the value
    note: str | None = None  # tooltip / small print
    only_badge: bool = False  # show just the source badge (a "source" column)

    def __post_init__(self) -> None:
        if self.kind is None and self.source:
            self.kind = source_kind(self.source)

    @property
    def is_missing(self) -> bool:
        return self.text is None

    @property
    def shown(self) -> str:
        if self.text is None:
            return self.missing
        if self.kind == "estimate" and self.text[:1].isdigit():
            return "≈" + self.text
        return self.text


Cell = Union[str, V, None]


@dataclass
class Para:
    parts: Sequence[Cell]
    cls: str = ""


@dataclass
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    caption: str | None = None
    numeric: Sequence[int] = ()  # right-aligned columns


@dataclass
class Image:
    path: Path
    alt: str
    caption: str | None = None


@dataclass
class Card:
    title: str
    value: V
    sub: Sequence[Cell] = ()


@dataclass
class Cards:
    cards: Sequence[Card]


@dataclass
class Missing:
    """A whole block that did not run: say so plainly, and what would produce it."""

    text: str
    how: str | None = None


@dataclass
class Details:
    summary: str
    blocks: Sequence[Any]


@dataclass
class Legend:
    kinds: Sequence[str] = KINDS


Block = Union[Para, Table, Image, Cards, Missing, Details, Legend]


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Any] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: Sequence[Cell]
    sections: list[Section]


# ----------------------------------------------------------------------------------- HTML

CSS = """
:root{--measured:#1b7837;--vendor:#2166ac;--open:#01665e;--emulated:#b35806;--estimate:#c51b7d;--software:#4d4d4d;
--reference:#757575;--line:#e3e3e3;--muted:#6b6b6b;--bg:#fafafa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1d1d1d;
line-height:1.45;background:#fff}
main{max-width:1180px;margin:0 auto;padding:1.2em 1.4em 3em}
header.top{background:#23303e;color:#fff;padding:1.2em 1.4em}
header.top .in{max-width:1180px;margin:0 auto}
header.top h1{margin:0 0 .2em;font-size:1.55em;font-weight:650}
header.top .sub{color:#cfd8e3;font-size:.88em}
header.top .sub code{color:#fff}
nav.toc{display:flex;flex-wrap:wrap;gap:.3em .9em;margin:.9em 0 .4em;font-size:.88em}
nav.toc a{color:#2166ac;text-decoration:none} nav.toc a:hover{text-decoration:underline}
h2{font-size:1.22em;margin:1.7em 0 .5em;padding-bottom:.25em;border-bottom:2px solid var(--line)}
h3{font-size:1em;margin:1.1em 0 .4em}
p{margin:.45em 0}
.muted{color:var(--muted)} .small{font-size:.84em}
table{border-collapse:collapse;margin:.5em 0 .8em;font-size:.88em;width:auto;max-width:100%}
caption{caption-side:top;text-align:left;font-size:.85em;color:var(--muted);padding:.2em 0}
th,td{border-bottom:1px solid var(--line);padding:.32em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f7;font-weight:600;white-space:nowrap}
tr:nth-child(even) td{background:#fcfcfc}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tw{overflow-x:auto}
figure{margin:.6em 0 1em}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px;background:#fff}
figcaption{font-size:.82em;color:var(--muted);margin-top:.25em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:.8em;margin:.6em 0}
.card{border:1px solid var(--line);border-left:5px solid #bbb;border-radius:6px;padding:.65em .9em;background:#fff}
.card .t{font-size:.8em;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .big{font-size:1.55em;font-weight:650;margin:.1em 0 .15em}
.card .s{font-size:.82em;color:#444}
.card.k-measured{border-left-color:var(--measured)} .card.k-vendor{border-left-color:var(--vendor)}
.card.k-open{border-left-color:var(--open)}
.card.k-emulated{border-left-color:var(--emulated);border-style:dotted;border-left-style:solid}
.card.k-estimate{border-left-color:var(--estimate);border-style:dashed;border-left-style:solid}
.card.k-software{border-left-color:var(--software)} .card.k-none{border-left-color:#ccc;background:var(--bg)}
.v.k-measured{color:#0f4d22;font-weight:600}
.v.k-vendor{color:#143f6b}
.v.k-open{color:#01665e;text-decoration:underline solid #80cdc1}
.v.k-emulated{color:#7a3d04;text-decoration:underline dotted #e08214}
.v.k-estimate{color:#8e0152;font-style:italic;text-decoration:underline dashed #c51b7d}
.v.k-reference{color:#555}
.v.missing{color:#8a8a8a;font-style:italic;font-weight:400}
.fitno{color:#b2182b!important}
.badge{display:inline-block;font-size:.72em;line-height:1.3;padding:.08em .5em;border-radius:999px;white-space:nowrap;
vertical-align:middle;margin-left:.3em;border:1px solid transparent;font-weight:500}
.b-measured{background:var(--measured);color:#fff}
.b-vendor{background:var(--vendor);color:#fff}
.b-open{background:var(--open);color:#fff}
.b-emulated{background:#fee0b6;color:#7a3d04;border:1px dotted #b35806}
.b-estimate{background:#fff;color:#8e0152;border:1px dashed #c51b7d;font-style:italic}
.b-software{background:#e8e8e8;color:#333}
.b-reference{background:#fff;color:#555;border:1px solid #9e9e9e}
.b-none{background:#f0f0f0;color:#777;font-style:italic}
.legend{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.25em 1.2em;font-size:.83em;
border:1px solid var(--line);border-radius:6px;padding:.6em .9em;background:var(--bg);margin:.5em 0 0}
.legend .badge{margin:0 .4em 0 0;min-width:8.5em;text-align:center}
.missingbox{border:1px dashed #c8c8c8;border-radius:6px;padding:.6em .9em;color:#666;background:var(--bg);margin:.5em 0}
.missingbox b{color:#555}
details{margin:.5em 0} summary{cursor:pointer;color:#2166ac;font-size:.9em}
footer{margin-top:2.5em;font-size:.8em;color:var(--muted);border-top:1px solid var(--line);padding-top:.6em}
@media print{header.top{background:#fff;color:#000} header.top .sub{color:#333} nav.toc{display:none}
details{display:block} .card{break-inside:avoid} figure{break-inside:avoid}}
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def badge_html(source: str | None, kind: str | None = None, text: str | None = None) -> str:
    k = kind or source_kind(source)
    if k is None:
        return '<span class="badge b-none">not run</span>'
    label = text or (KIND_LABEL[k] + (f" · {short_source(source)}" if source and source != k else ""))
    return f'<span class="badge b-{k}" title="{escape(source or KIND_LABEL[k])}">{escape(label)}</span>'


def short_source(source: str | None) -> str:
    """'estimate:rule4ml' -> 'rule4ml', 'measured:pmbus' -> 'pmbus' (the kind is the badge colour)."""
    if not source:
        return ""
    head, _, tail = source.partition(":")
    return tail or head


def value_html(v: Cell) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return escape(v)
    if v.is_missing:
        return f'<span class="v missing" title="{escape(v.note or "")}">{escape(v.missing)}</span>'
    if v.only_badge:
        return badge_html(v.source, v.kind)
    cls = f"v k-{v.kind}" if v.kind else "v"
    title = v.source or v.note or ""
    s = f'<span class="{cls}" title="{escape(title)}">{escape(v.shown)}</span>'
    if v.badge:
        s += badge_html(v.source, v.kind)
    return s


def _is_num(c: Cell) -> bool:
    """Figures (V cells) that read as numbers are right-aligned; plain strings only when the
    table says so (a version '0.1.0' or a commit hash is not a number)."""
    if not isinstance(c, V) or c.text is None:
        return False
    t = c.text
    return t[:1].isdigit() or (t[:1] in "-+±≈" and t[1:3].strip()[:1].isdigit())


def _block_html(b: Any, images: dict[Path, str]) -> str:
    if isinstance(b, Para):
        return f'<p class="{b.cls}">' + " ".join(value_html(p) for p in b.parts) + "</p>"
    if isinstance(b, Missing):
        how = f'<br><span class="small">{escape(b.how)}</span>' if b.how else ""
        return f'<div class="missingbox"><b>{escape(b.text)}</b>{how}</div>'
    if isinstance(b, Table):
        h = ['<div class="tw"><table>']
        if b.caption:
            h.append(f"<caption>{escape(b.caption)}</caption>")
        h.append("<thead><tr>" + "".join(f"<th>{escape(x)}</th>" for x in b.headers) + "</tr></thead><tbody>")
        for row in b.rows:
            cells = []
            for i, c in enumerate(row):
                num_col = i in b.numeric or (i > 0 and _is_num(c))
                cells.append(f'<td class="n">{value_html(c)}</td>' if num_col else f"<td>{value_html(c)}</td>")
            h.append("<tr>" + "".join(cells) + "</tr>")
        h.append("</tbody></table></div>")
        return "".join(h)
    if isinstance(b, Image):
        uri = images.get(b.path)
        if uri is None:
            uri = "data:image/png;base64," + base64.b64encode(Path(b.path).read_bytes()).decode("ascii")
            images[b.path] = uri
        cap = f"<figcaption>{escape(b.caption)}</figcaption>" if b.caption else ""
        return f'<figure><img alt="{escape(b.alt)}" src="{uri}">{cap}</figure>'
    if isinstance(b, Cards):
        out = ['<div class="cards">']
        for c in b.cards:
            k = c.value.kind if not c.value.is_missing else "none"
            subs = "".join(f'<div class="s">{value_html(s)}</div>' for s in c.sub if s)
            out.append(
                f'<div class="card k-{k}"><div class="t">{escape(c.title)}</div>'
                f'<div class="big">{value_html(c.value)}</div>'
                f'<div class="s">{badge_html(None) if c.value.is_missing else badge_html(c.value.source, c.value.kind)}'
                "</div>"
                f"{subs}</div>"
            )
        out.append("</div>")
        return "".join(out)
    if isinstance(b, Details):
        inner = "".join(_block_html(x, images) for x in b.blocks)
        return f"<details><summary>{escape(b.summary)}</summary>{inner}</details>"
    if isinstance(b, Legend):
        rows = [f"<div>{badge_html(k, k, KIND_LABEL[k])}{escape(KIND_MEANING[k])}</div>" for k in b.kinds]
        rows.append(
            '<div><span class="badge b-none">not run</span>the step that produces it has not run '
            '(or "not measured": no sensor / no board); never a made-up number</div>'
        )
        rows.append(
            '<div><span class="v k-estimate legend-ex">≈1,234</span>&nbsp; estimates are italic, dashed, '
            "prefixed ≈;"
            " emulated figures dotted; measured figures bold</div>"
        )
        return '<div class="legend">' + "".join(rows) + "</div>"
    raise TypeError(f"unknown block {type(b).__name__}")  # pragma: no cover


def to_html(doc: Document, footer: str = "") -> str:
    images: dict[Path, str] = {}
    h = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="hwflow">',
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>",
        f'<header class="top"><div class="in"><h1>{escape(doc.title)}</h1>'
        f'<div class="sub">{" · ".join(value_html(s) for s in doc.subtitle if s)}</div></div></header><main>',
        '<nav class="toc">' + "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in doc.sections) + "</nav>",
    ]
    for s in doc.sections:
        h.append(f'<section id="{s.id}"><h2>{escape(s.title)}</h2>')
        h.extend(_block_html(b, images) for b in s.blocks)
        h.append("</section>")
    if footer:
        h.append(f"<footer>{escape(footer)}</footer>")
    h.append("</main></body></html>")
    return "\n".join(h) + "\n"


# ----------------------------------------------------------------------------------- Markdown

MD_MARK = {"emulated": "°", "reference": "†", "open": "‡"}


def value_md(v: Cell) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return _md_escape(v)
    if v.is_missing:
        return f"_{_md_escape(v.missing)}_"
    if v.only_badge:
        return f"`{v.source or v.kind}`"
    t = _md_escape(v.shown) + MD_MARK.get(v.kind or "", "")
    if v.kind == "estimate":
        t = f"*{t}*"
    elif v.kind == "measured":
        t = f"**{t}**"
    if v.badge and v.source:
        t += f" `{v.source}`"
    return t


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _block_md(b: Any, base: Path | None) -> list[str]:
    if isinstance(b, Para):
        return [" ".join(value_md(p) for p in b.parts), ""]
    if isinstance(b, Missing):
        return [f"> **{b.text}**" + (f"  \n> {b.how}" if b.how else ""), ""]
    if isinstance(b, Table):
        out = [f"*{b.caption}*", ""] if b.caption else []
        out.append("| " + " | ".join(_md_escape(h) for h in b.headers) + " |")
        out.append("|" + "|".join("---:" if (i in b.numeric) else "---" for i in range(len(b.headers))) + "|")
        for row in b.rows:
            out.append("| " + " | ".join(value_md(c) for c in row) + " |")
        return out + [""]
    if isinstance(b, Image):
        rel = b.path.name if base is None else str(Path(b.path).resolve().relative_to(base.resolve()))
        return [f"![{b.alt}]({rel})"] + ([f"*{b.caption}*"] if b.caption else []) + [""]
    if isinstance(b, Cards):
        out = ["| figure | value | source | detail |", "|---|---|---|---|"]
        for c in b.cards:
            src = f"`{c.value.source}`" if c.value.source and not c.value.is_missing else "—"
            out.append(
                f"| {c.title} | {value_md(c.value)} | {src} | " + "; ".join(value_md(s) for s in c.sub if s) + " |"
            )
        return out + [""]
    if isinstance(b, Details):
        out = [f"<details><summary>{b.summary}</summary>", ""]
        for x in b.blocks:
            out += _block_md(x, base)
        return out + ["</details>", ""]
    if isinstance(b, Legend):
        out = [
            "**Sources.** " + "; ".join(f"*{KIND_LABEL[k]}*: {KIND_MEANING[k]}" for k in b.kinds) + ".",
            "",
            "Markers: **bold** measured · plain vendor tool / software · *≈italic* hwflow estimate · "
            "value° emulated · value‡ open synthesis · value† reference · _not run_ / _not measured_: nothing was produced "
            "(never a made-up number).",
            "",
        ]
        return out
    raise TypeError(f"unknown block {type(b).__name__}")  # pragma: no cover


def to_markdown(doc: Document, base: Path | None = None, footer: str = "") -> str:
    md = [f"# {doc.title}", "", " · ".join(value_md(s) for s in doc.subtitle if s), ""]
    md.append("Contents: " + " · ".join(f"[{s.title}](#{s.id})" for s in doc.sections))
    md.append("")
    for s in doc.sections:
        md += [f'<a id="{s.id}"></a>', "", f"## {s.title}", ""]
        for b in s.blocks:
            md += _block_md(b, base)
    if footer:
        md += ["---", footer, ""]
    return "\n".join(md).rstrip() + "\n"
