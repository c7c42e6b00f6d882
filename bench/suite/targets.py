"""The targets (issue #7 and those after it) and what failed: computed from
the results of the sections that ran, each section giving its own rows."""
from . import accuracy, disk, overhead, scale
from .common import SECTIONS, failed


def targets(results):
    """The targets of the sections that ran; those of a section or workload
    that failed are listed as not measured (met None)."""
    rows = []
    for section in ("overhead", "accuracy", "scale"):  # the sections with targets
        if failed(results.get(section)):
            rows.append((f"The targets of the {section} section", "–",
                         "not measured: the section failed", None))
    for section, module in (("overhead", overhead), ("accuracy", accuracy),
                            ("scale", scale), ("disk", disk)):
        data = results.get(section)
        if data and not failed(data):
            rows += module.target_rows(data)
    if "disk" in results and failed(results["disk"]):
        rows.append(("The targets of the disk section", "–", "not measured: the section failed",
                     None))
    return [{"target": t, "bound": b, "measured": m, "met": ok} for t, b, m, ok in rows]


def failures(results):
    """(what, reason) of everything that failed: sections, workloads of the
    overhead, callgrind counts, logs and merges, the plot."""
    found = [(section, failed(results.get(section))) for section in SECTIONS
             if failed(results.get(section))]
    over = results.get("overhead")
    if over and not failed(over):
        for name, data in over.items():
            if failed(data):
                found.append((f"overhead: {name}", failed(data)))
            for label, reason in data.get("instructions_failed", {}).items():
                found.append((f"overhead: {name}: callgrind of {label}", reason))
            for r in data.get("rows", []):
                if r.get("merge_failed"):
                    found.append((f"overhead: {name}: logs and merge of {r['variant']}",
                                  r["merge_failed"]))
    cv = results.get("curve")
    if cv and cv.get("plot_failed"):
        found.append(("curve: plot", cv["plot_failed"]))
    return found
