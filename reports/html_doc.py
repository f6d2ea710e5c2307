"""Self-contained HTML pages (inline CSS, no scripts, no external links) for both reports."""

from html import escape

STYLE = """
body{font-family:"NanumGothic","Malgun Gothic","Apple SD Gothic Neo",sans-serif;
 margin:2rem auto;max-width:60rem;color:#191919;line-height:1.5;padding:0 1rem}
h1{color:#14468c;margin-bottom:.2rem} .sub{color:#696969;margin-top:0}
h2{background:#14468c;color:#fff;padding:.25rem .6rem;font-size:1.05rem;margin-top:2rem}
h3{font-size:.98rem;margin:1.1rem 0 .3rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f0f2f6} td.n{text-align:right;font-variant-numeric:tabular-nums}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.15rem .8rem;font-size:.9rem}
dt{color:#696969;font-weight:bold} dd{margin:0}
pre{background:#f4f6fa;padding:.6rem;white-space:pre-wrap;font-size:.85rem}
.mono,code{font-family:"NanumGothicCoding",monospace;font-size:.75rem;color:#555;word-break:break-all}
.ok{color:#146e32;font-weight:bold} .bad{color:#af1414;font-weight:bold}
figure{margin:1rem 0} figcaption{font-size:.85rem;color:#696969}
"""


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def page(title: str, subtitle: str, body: str, lang: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{e(title)}</h1><p class="sub">{e(subtitle)}</p>{body}</body></html>\n'
    )


def fields(pairs: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in pairs) + "</dl>"


def table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """Cells are escaped here; `numeric` columns are right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{e(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
