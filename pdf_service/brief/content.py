"""What the brief says, worked out once from the report: the findings, the headline and page 1.

Page 1 of the PDF, the brief's stored metadata and the e-mail summary are all built from
`page_one(report)`, so the three can never disagree.
"""

from __future__ import annotations

from shared.instrument_languages import language_name

# Dimension names for readers where the model's own title reads wrongly: the model's A7 is a
# "perception gap" scored so that higher is better, which readers took for "a large gap".
READER_NAMES = {"A7": "Accuracy of our view of customers", "alignment": "Overall alignment",
                "readiness": "Overall readiness"}
FIRST_ACTIONS = 3


def fmt(x) -> str:
    return "–" if x is None else f"{x:.1f}"


def signed(x) -> str:
    """A difference with its sign (a real minus sign, which reads better than a hyphen)."""
    return "–" if x is None else f"{x:+.1f}".replace("-", "−")


def dimension_name(report: dict, code: str) -> str:
    """The reader's name of a dimension, pillar or composite: words, never the code."""
    if code in READER_NAMES:
        return READER_NAMES[code]
    overall = report.get("overall") or {}
    for group, parts in (("alignment", "dimensions"), ("readiness", "pillars")):
        part = ((overall.get(group) or {}).get(parts) or {}).get(code)
        if part and part.get("title"):
            return part["title"]
    return code


def languages_line(report: dict) -> str | None:
    """"Answered in: English 40, German 12", for customers (and staff, when they used
    another mix too); None when everyone answered in one language."""
    languages = report.get("languages") or {}
    used = {code for counts in languages.values() for code in counts}
    if len(used) < 2:
        return None

    def listed(counts: dict) -> str:
        return ", ".join(f"{language_name(code)} {n}" for code, n in counts.items())
    groups = [(label, languages[kind]) for kind, label in (("customer", "customers"),
                                                             ("vendor", "staff"))
              if languages.get(kind)]
    if len(groups) == 1:
        return f"Answered in: {listed(groups[0][1])}."
    return "Answered in: " + "; ".join(f"{listed(counts)} ({label})"
                                       for label, counts in groups) + "."


def difference_text(f: dict) -> str:
    iv = f.get("interval") or [None, None]
    text = f"difference {signed(f.get('difference'))}"
    if iv[0] is not None:
        text += f", 95 % interval {signed(iv[0])} to {signed(iv[1])}"
    return text + (f"; {f['n']} customers" if f.get("n") else "")


def findings_of(report: dict) -> tuple[str, list[dict]]:
    """(headline, findings) as the findings contract has them (ranked, significant only).

    A report from before the findings work has neither field: the findings are then the
    segments' significant comparisons, ranked by the size of the difference, and the
    headline is the top one's sentence (or, with none, the overall state)."""
    findings = report.get("findings")
    if findings is None:
        findings = _findings_from_comparisons(report)
    findings = [{**f, "metric_name": dimension_name(report, f["metric"])} for f in findings]
    headline = report.get("headline") or (findings[0]["sentence"] if findings
                                          else _no_finding_headline(report))
    return headline, findings


def _findings_from_comparisons(report: dict) -> list[dict]:
    found = []
    for seg in report.get("segments", []):
        for c in seg.get("comparisons", []):
            if not c.get("significant"):
                continue
            part = (seg["alignment"] if c["metric"] == "alignment"
                    else seg["alignment"]["dimensions"].get(c["metric"], {}))
            name = dimension_name(report, c["metric"])
            direction = "below" if c["difference"] < 0 else "above"
            gap = f"{abs(c['difference']):.1f}"
            found.append({
                "segment": seg["key"], "segment_label": seg["label"],
                "filters": seg.get("filters", {}), "metric": c["metric"],
                "value": part.get("score"), "rest_value": None,
                "difference": c["difference"], "interval": c["interval"],
                "p_adjusted": c["p_adjusted"], "n": seg["n"], "rest_n": c["rest_n"],
                "priority": abs(c["difference"]),
                "sentence": f"{name} scores {fmt(part.get('score'))} for {seg['label']}, "
                            f"{gap} points {direction} the other customers.",
                "recommendation": None})
    return sorted(found, key=lambda f: -f["priority"])


def _no_finding_headline(report: dict) -> str:
    overall = report.get("overall") or {}
    if overall.get("status") == "suppressed" or "alignment" not in overall:
        return "Not enough customers have answered yet to score this survey."
    a = overall["alignment"]
    verdict = {"leading": "Your selling matches how customers buy",
               "aligned": "Your selling broadly matches how customers buy",
               "developing": "Your selling only partly matches how customers buy",
               "misaligned": "Your selling does not match how customers buy"}.get(
        a.get("band"), "How well your selling matches buying is not known yet")
    return (f"{verdict} (alignment {fmt(a.get('score'))}, {a.get('band')}); no customer "
            "segment differs significantly from the rest.")


# The model's bands, for a posted report that leaves them out.
DEFAULT_BANDS = [{"min": 0, "alignment": "misaligned", "readiness": "not ready"},
                 {"min": 40, "alignment": "developing", "readiness": "developing"},
                 {"min": 60, "alignment": "aligned", "readiness": "ready"},
                 {"min": 80, "alignment": "leading", "readiness": "leading"}]


def bands_spanned(report: dict, kind: str, interval) -> list[str]:
    """The bands an interval touches, lowest first."""
    if not interval or interval[0] is None:
        return []
    bands = report.get("bands") or DEFAULT_BANDS
    names = []
    for position, band in enumerate(bands):
        upper = bands[position + 1]["min"] if position + 1 < len(bands) else float("inf")
        if interval[0] < upper and interval[1] >= band["min"]:
            names.append(band[kind])
    return names


def confidence_of(report: dict, kind: str, part: dict, n: int, who: str) -> dict:
    """How sure a score is, in words. Low when the sample is under the report's
    low-confidence limit or the 95 % interval spans three bands or more; "fairly sure" when it
    straddles two bands; "sure" when the whole interval lies within one band."""
    spanned = bands_spanned(report, kind, part.get("interval"))
    small = n < report["suppression"]["low_confidence_below"]
    iv = part.get("interval")
    span = f"the 95 % range {fmt(iv[0])}–{fmt(iv[1])}" if iv and iv[0] is not None else ""
    if small or len(spanned) >= 3 or not spanned:
        level = "low"
        why = [f"only {n} {who}"] if small else [f"{n} {who}"]
        if len(spanned) >= 2:
            why.append(f"{span} spans {_series(spanned)}")
        text = "Low confidence: " + "; ".join(why) + "."
    elif len(spanned) == 2:
        level, text = "fair", (f"Fairly sure: {n} {who}; {span} straddles "
                               f"{_series(spanned)}.")
    else:
        level, text = "sure", f"Sure: {n} {who}; {span} lies within {spanned[0]}."
    return {"level": level, "text": text}


def _series(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def distinct_actions(report: dict) -> list[dict]:
    """Every rule once, in the report's ranking (its best-ranked firing stands for it), and no
    action text twice even when two rules word it alike; `also` counts the other segments
    where the same rule fired."""
    fired: dict[str, int] = {}
    for rec in report.get("recommendations", []):
        fired[rec["id"]] = fired.get(rec["id"], 0) + 1
    seen_rules, seen_text, actions = set(), set(), []
    for rec in report.get("recommendations", []):
        text = " ".join(rec["action"].lower().split())
        if rec["id"] in seen_rules or text in seen_text:
            continue
        seen_rules.add(rec["id"])
        seen_text.add(text)
        actions.append({**rec, "also": fired[rec["id"]] - 1})
    return actions


def sure_text(confidence) -> str:
    return "" if confidence is None else f"{round(100 * confidence):.0f} % sure"


def action_lines(number: int, rec: dict) -> dict:
    where = ("all customers" if rec["segment"] == "overall" else rec["segment_label"])
    if rec["also"]:
        where += f" (and {rec['also']} other segment{'s' if rec['also'] > 1 else ''})"
    why = f"Evidence: {rec['evidence']}"
    if rec.get("confidence") is not None:
        why += f" ({sure_text(rec['confidence'])} that this holds.)"
    return {"id": rec["id"], "name": rec["title"], "title": f"{number}. {rec['title']}.",
            "action": f"For {where}: {rec['action']}", "evidence": why}


def page_one(report: dict) -> dict:
    """Everything page 1 says, as the sentences it prints."""
    headline, findings = findings_of(report)
    overall = report.get("overall") or {}
    scores = []
    if overall.get("status") != "suppressed" and "alignment" in overall:
        a, r = overall["alignment"], overall["readiness"]
        staff = r.get("vendor_respondents", r.get("n")) or 0
        for key, label, part, n, who in (
                ("alignment", "How well your selling matches how customers buy", a,
                 overall["n"], "customers"),
                ("readiness", "How ready your demand generation is", r, staff, "staff")):
            sure = confidence_of(report, key, part, n, who)
            scores.append({"key": key, "label": label, "score": part.get("score"),
                           "band": part.get("band"), "interval": part.get("interval"),
                           "n": n, "who": who, "confidence": sure["level"],
                           "figure": f"{fmt(part.get('score'))} of 100, "
                                     f"{part.get('band') or 'not scored'}",
                           "sure": sure["text"]})
    actions = [action_lines(number, rec) for number, rec in
               enumerate(distinct_actions(report)[:FIRST_ACTIONS], start=1)]
    return {"headline": headline, "scores": scores, "findings": findings[:4],
            "actions": actions}


def summary_lines(first: dict) -> list[str]:
    """Page 1 as plain text lines (the e-mail body and the metadata carry exactly these)."""
    lines = [first["headline"]]
    for score in first["scores"]:
        lines += ["", score["label"], score["figure"], score["sure"]]
    if first["actions"]:
        lines += ["", "What to do first:"]
        for action in first["actions"]:
            lines += [action["title"], action["action"], action["evidence"]]
    return lines
