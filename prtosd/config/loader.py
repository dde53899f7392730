"""Load a ``system.xml`` into the immutable model, in the three layers of config.md §1.

1. *Parse and structure*: lxml parses the file (no entities, no network); items in foreign
   namespaces are taken out (project items are read first, others are ignored with W-03); the
   rest is validated against ``prtos.xsd`` and every schema error is reworded for people.
2. *Convert*: element handlers turn attribute strings into typed values with the unit
   converters of :mod:`prtosd.config.units`, filling in the defaults of config.md §3.
3. *Check*: the semantic checks of :mod:`prtosd.config.checks` run on the whole model.

Every problem becomes a :class:`Diagnostic` with the file and line of the element at fault; all
independent problems of one layer are reported together, and nothing raises anything but
:class:`ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

from lxml import etree

from hm.events import ACTION_BY_NAME, EVENT_BY_NAME, WATCHDOG_EVENT_NAME
from prtosd.config import units
from prtosd.config.diagnostics import ConfigError, Diagnostic
from prtosd.config.model import (
    AREA_FLAG_NAMES,
    HYP_TRACE_NAMES,
    PARTITION_FLAG_NAMES,
    PD_NS,
    PRTOS_NS,
    Area,
    AreaFlag,
    Channel,
    Device,
    Endpoint,
    HmEventConfig,
    Hypervisor,
    HypervisorTrace,
    IoRange,
    Ipvi,
    Partition,
    PartitionTrace,
    Placement,
    Plan,
    Port,
    PortDirection,
    PortType,
    Processor,
    QueuingChannel,
    Region,
    RemoteHost,
    SamplingChannel,
    Slot,
    System,
)

T = TypeVar("T")
_NS = "{" + PRTOS_NS + "}"
_PD = "{" + PD_NS + "}"

#: Project attributes (namespace urn:prtosd:1) and the elements that may carry them.
PD_ATTRIBUTES: dict[str, frozenset[str]] = {
    "Partition": frozenset({"image", "sources", "customFiles"}),
    "Uart": frozenset({"consoleFile"}),
    "Vga": frozenset({"consoleFile"}),
}
#: Project elements (validated by prtosd.xsd) and the element they may appear in.
PD_ELEMENTS: dict[str, str] = {"Placement": "SystemDescription"}

#: (element, attribute) → value kind, used to word schema errors; "" = any parent.
_KIND: dict[tuple[str, str], str] = {
    ("SystemDescription", "version"): "version",
    ("Region", "type"): "region",
    ("Region", "start"): "hex",
    ("Region", "size"): "size",
    ("Processor", "id"): "id",
    ("Processor", "frequency"): "freq",
    ("Processor", "features"): "features",
    ("Plan", "id"): "id",
    ("Plan", "majorFrame"): "time",
    ("Slot", "id"): "id",
    ("Slot", "start"): "time",
    ("Slot", "duration"): "time",
    ("Slot", "partitionId"): "id",
    ("Slot", "vCpuId"): "id",
    ("MemoryBlock", "start"): "hex",
    ("MemoryBlock", "size"): "size",
    ("Uart", "baudRate"): "positive",
    ("PhysicalMemoryArea", "size"): "size",
    ("PhysicalMemoryArea", "flags"): "areaflags",
    ("Event", "name"): "hmevent",
    ("Event", "action"): "hmaction",
    ("Event", "log"): "yntf",
    ("Area", "start"): "hex",
    ("Area", "size"): "size",
    ("Area", "flags"): "areaflags",
    ("Area", "mappedAt"): "hex",
    ("Partition", "id"): "id",
    ("Partition", "flags"): "partflags",
    ("Partition", "hw_virt"): "boolean",
    ("Partition", "noVCpus"): "positive",
    ("TemporalRequirements", "period"): "time",
    ("TemporalRequirements", "duration"): "time",
    ("Range", "base"): "hex",
    ("Range", "noPorts"): "positive",
    ("Restricted", "address"): "hex",
    ("Restricted", "mask"): "hex",
    ("Interrupts", "lines"): "lines",
    ("Port", "direction"): "direction",
    ("Port", "type"): "porttype",
    ("Ipvi", "id"): "id",
    ("Ipvi", "sourceId"): "id",
    ("Ipvi", "destinationId"): "idlist",
    ("SamplingChannel", "maxMessageLength"): "size",
    ("SamplingChannel", "validPeriod"): "time",
    ("QueuingChannel", "maxMessageLength"): "size",
    ("QueuingChannel", "maxNoMessages"): "positive",
    ("Source", "partitionId"): "id",
    ("Destination", "partitionId"): "id",
}

_KIND_TEXT = {
    "id": "id {v} (expected a decimal integer >= 0)",
    "hex": "address {v} (expected 0x followed by hexadecimal digits)",
    "time": "time {v} (expected a number and a unit s, ms or us, e.g. 500ms or 2.5s)",
    "size": "size {v} (expected a number and a unit B, KB or MB, e.g. 256KB)",
    "freq": "frequency {v} (expected a number and a unit KHz or MHz, e.g. 1000MHz)",
    "version": "version {v} (expected N.N.N, e.g. 1.0.0)",
    "positive": "value {v} (expected an integer >= 1)",
    "boolean": "boolean {v} (expected true, false, 1 or 0)",
    "direction": "direction {v} (expected source or destination)",
    "porttype": "port type {v} (expected sampling or queuing)",
    "lines": "interrupt line list {v} (expected integers 0..31 separated by spaces)",
    "idlist": "partition id list {v} (expected integers >= 0 separated by spaces)",
}

#: Optional children of the elements whose children may come in any order (config.md §3.1).
_OPTIONAL_CHILDREN: dict[str, frozenset[str]] = {
    "SystemDescription": frozenset({"ResidentSw", "Channels"}),
    "PRTOSHypervisor": frozenset({"HealthMonitor", "Trace"}),
    "Partition": frozenset({"TemporalRequirements", "HealthMonitor", "HwResources", "PortTable", "Trace"}),
}

_FLAG_TABLES = {
    "areaflags": AREA_FLAG_NAMES,
    "partflags": PARTITION_FLAG_NAMES,
    "hyptrace": HYP_TRACE_NAMES,
    "features": {"none": 0},
}


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(Path(__file__).with_name("prtos.xsd"))))


@cache
def _pd_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(Path(__file__).with_name("prtosd.xsd"))))


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


class _Loader:
    """One load of one file; collects diagnostics instead of raising on the first problem."""

    def __init__(self, path: Path):
        self.path = path
        self.file = str(path)
        self.base_dir = path.resolve().parent
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.pd: dict[etree._Element, dict[str, str]] = {}
        self.pd_elements: dict[str, etree._Element] = {}  # project elements, taken out of the tree

    # -- diagnostics ------------------------------------------------------------------------

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(Diagnostic(self.file, line or 0, message))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(Diagnostic(self.file, line or 0, message, warning=True))

    def fail(self) -> ConfigError:
        return ConfigError(self.errors, self.warnings)

    # -- layer 1: parse, foreign namespaces, schema -------------------------------------------

    def parse(self) -> etree._Element:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            self.error(0, f"cannot read the configuration: {exc.strerror or exc}")
            raise self.fail() from None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.fromstring(data, parser, base_url=self.file)
        except etree.XMLSyntaxError as exc:
            self.error(exc.lineno, f"XML syntax error: {exc.msg}")
            raise self.fail() from None
        if root.tag != _NS + "SystemDescription":
            ns = etree.QName(root).namespace
            got = f'"{_local(root.tag)}" in namespace "{ns}"' if ns else f'"{_local(root.tag)}" in no namespace'
            self.error(
                root.sourceline,
                f'the root element must be SystemDescription in namespace "{PRTOS_NS}", found {got}',
            )
            raise self.fail()
        return root

    def strip_foreign(self, root: etree._Element) -> None:
        """Read project items, warn about other foreign items (W-03), remove both (config.md §10)."""
        removed: set[etree._Element] = set()
        for el in list(root.iter()):
            if not isinstance(el.tag, str):
                continue  # comments and processing instructions
            if any(anc in removed for anc in el.iterancestors()):
                continue  # inside an element already ignored: one diagnostic is enough
            ns = etree.QName(el).namespace
            if ns not in (PRTOS_NS, None):
                if ns == PD_NS:
                    self.project_element(el)
                else:
                    self.warn(el.sourceline, f"ignoring {self._qname(el, el.tag)}")
                removed.add(el)
                self._remove(el)
                continue
            for attr in list(el.attrib):
                ans = etree.QName(attr).namespace
                if ans is None or ans == PRTOS_NS:
                    continue  # PRTOS attributes are unqualified: the schema rejects a qualified one
                local = etree.QName(attr).localname
                if ans == PD_NS:
                    allowed = PD_ATTRIBUTES.get(_local(el.tag), frozenset())
                    if local in allowed:
                        self.pd.setdefault(el, {})[local] = el.attrib[attr]
                    else:
                        where = ", ".join(sorted(allowed)) if allowed else "none"
                        self.error(
                            el.sourceline,
                            f"unknown project attribute pd:{local} on {_local(el.tag)} (allowed here: {where})",
                        )
                elif ans != PRTOS_NS:
                    self.warn(el.sourceline, f"ignoring {self._qname(el, attr)}")
                del el.attrib[attr]

    def project_element(self, el: etree._Element) -> None:
        """Keep a known project element (validated against prtosd.xsd); others are errors."""
        local, parent = _local(el.tag), el.getparent()
        where = PD_ELEMENTS.get(local)
        if where is None:
            self.error(el.sourceline, f"unknown project element pd:{local}")
        elif parent is None or _local(parent.tag) != where or etree.QName(parent).namespace != PRTOS_NS:
            self.error(el.sourceline, f"pd:{local} must be a child of {where}")
        elif local in self.pd_elements:
            self.error(el.sourceline, f"pd:{local} appears twice (line {self.pd_elements[local].sourceline})")
        else:
            self.pd_elements[local] = el
            self.validate_project(el)

    def validate_project(self, el: etree._Element) -> None:
        schema = _pd_schema()
        if schema.validate(etree.ElementTree(el)):
            return
        seen: set[tuple[int, str]] = set()
        for entry in schema.error_log:
            msg = re.sub(r"\{" + re.escape(PD_NS) + r"\}", "pd:", entry.message).rstrip(".")
            value_re = r"Element '([^']+)', attribute '([^']+)': (?:\[facet '[^']*'\] The value )?'(.*?)' is not"
            m = re.match(value_re, msg, re.S)
            if m and (entry.line, m.group(2)) in seen:
                continue  # libxml2 reports a bad list item twice (item type, then list type)
            if m:
                seen.add((entry.line, m.group(2)))
                element, attr, value = m.groups()
                kind = "time" if attr.endswith("Timeout") else "idlist" if attr == "partitions" else "name"
                label = "host name" if attr == "name" else "key name"
                text = _KIND_TEXT.get(kind, label + ' {v} (expected letters, digits, "_", "." or "-")')
                msg = f"{element}@{attr}: invalid " + text.format(v=f'"{value}"')
            elif m := re.match(r"Element '([^']+)', attribute '([^']+)': The attribute .* is not allowed", msg):
                msg = f'{m.group(1)}: unknown attribute "{m.group(2)}"'
            elif m := re.match(r"Element '([^']+)': The attribute '([^']+)' is required but missing", msg):
                msg = f'{m.group(1)}: missing required attribute "{m.group(2)}"'
            elif m := re.match(r"Element '([^']+)': This element is not expected\. Expected is \( (.*) \)", msg):
                msg = f"unexpected element {m.group(1)} (expected here: {m.group(2)})"
            elif m := re.match(r"Element '([^']+)': Missing child element\(s\)\. Expected is \( (.*) \)", msg):
                msg = f"{m.group(1)}: missing child element {m.group(2)}"
            self.error(entry.line, msg)

    @staticmethod
    def _qname(el: etree._Element, tag: str) -> str:
        q = etree.QName(tag)
        prefix = next((p for p, u in el.nsmap.items() if u == q.namespace and p), None)
        return f"{prefix}:{q.localname}" if prefix else f"{{{q.namespace}}}{q.localname}"

    @staticmethod
    def _remove(el: etree._Element) -> None:
        parent = el.getparent()
        if parent is None:
            return
        if el.tail and el.tail.strip():
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)

    def validate(self, root: etree._Element) -> None:
        schema = _schema()
        if schema.validate(root):
            return
        by_line: dict[int, list[etree._Element]] = {}
        for el in root.iter():
            if isinstance(el.tag, str):
                by_line.setdefault(el.sourceline or 0, []).append(el)
        seen: set[tuple[int, str]] = set()
        for entry in schema.error_log:
            message, key = self._reword(entry.message, by_line.get(entry.line, []))
            if (entry.line, key) in seen:
                continue  # libxml2 reports one bad value several times (facet, then type)
            seen.add((entry.line, key))
            self.error(entry.line, message)

    def _reword(self, raw: str, candidates: list[etree._Element]) -> tuple[str, str]:
        msg = raw.replace(_NS, "").rstrip(".")
        m = re.match(r"Element '([^']+)', attribute '([^']+)': (.*)", msg)
        if m:
            element, attr, rest = m.groups()
            key = f"{element}@{attr}"
            if "is not allowed" in rest:
                return f'{element}: unknown attribute "{attr}"', key
            els = [c for c in candidates if _local(c.tag) == element and attr in c.attrib]
            el = els[0] if els else None
            value = el.attrib[attr] if el is not None else ""
            quoted = re.match(r"(?:\[facet '[^']*'\] The value '(.*)' is not|'(.*)' is not a valid value)", rest, re.S)
            if len(els) > 1 and quoted:
                # several such elements on one line: only libxml2 knows which value is at fault
                value = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
            kind = _KIND.get((element, attr), "")
            if element == "Trace" and attr == "bitmask" and el is not None:
                parent = el.getparent()
                kind = "hyptrace" if parent is not None and _local(parent.tag) == "PRTOSHypervisor" else "hex"
            return self._value_message(element, attr, kind, value), key
        m = re.match(r"Element '([^']+)': (.*)", msg)
        if m:
            element, rest = m.groups()
            rest = re.sub(r"\s+", " ", rest)
            if (a := re.match(r"The attribute '([^']+)' is required but missing", rest)) is not None:
                return f'{element}: missing required attribute "{a.group(1)}"', element + "@" + a.group(1)
            if rest.startswith("This element is not expected"):
                exp = re.search(r"Expected is(?: one of)? \( (.*) \)", rest)
                hint = f" (expected here: {exp.group(1)})" if exp else " (unknown, duplicated or out of order)"
                return f"unexpected element {element}{hint}", element
            if rest.startswith("Missing child element"):
                exp = re.search(r"Expected is(?: one of)? \( (.*) \)", rest)
                names = [n.strip() for n in exp.group(1).split(",")] if exp else []
                # In an "any order" group libxml2 lists every child not yet seen, optional ones too.
                required = [n for n in names if n not in _OPTIONAL_CHILDREN.get(element, ())] or names
                return f"{element}: missing child element {', '.join(required)}".rstrip(), element
            return f"{element}: {rest}", element
        return msg, msg

    @staticmethod
    def _value_message(element: str, attr: str, kind: str, value: str) -> str:
        if kind in _FLAG_TABLES:
            bad = next((i for i in value.split() if i not in _FLAG_TABLES[kind]), value)
            return f"expected valid flag ({bad})"
        if kind == "hmevent":
            return "Expected a valid Health Monitor event"
        if kind == "hmaction":
            return "Expected a valid Health Monitor action"
        if kind == "yntf":
            return "expected yes|no|true|false"
        if kind == "region":
            return f"Expected valid region type ({value})"
        if kind == "hex" and re.fullmatch(r"0[xX][0-9a-fA-F]+", value):
            return f'{element}@{attr}: invalid address "{value}" (the prefix must be a lower-case 0x)'
        if not value:
            return f"{element}@{attr}: the value must not be empty"
        text = _KIND_TEXT.get(kind, "value {v}")
        return f"{element}@{attr}: invalid " + text.format(v=f'"{value}"')

    # -- layer 2: conversion ------------------------------------------------------------------

    def conv(self, el: etree._Element, attr: str, fn: Callable[[str], T], default: T) -> T:
        text = el.get(attr)
        if text is None:
            return default
        try:
            return fn(text)
        except ValueError as exc:
            self.error(el.sourceline, str(exc))
            return default

    def kids(self, el: etree._Element | None, name: str) -> list[etree._Element]:
        return [] if el is None else list(el.iterchildren(_NS + name))

    def children(self, el: etree._Element | None) -> list[etree._Element]:
        """Element children (no comments), in document order."""
        return [] if el is None else [c for c in el if isinstance(c.tag, str)]

    def kid(self, el: etree._Element | None, name: str) -> etree._Element | None:
        return None if el is None else el.find(_NS + name)

    def area(self, el: etree._Element) -> Area:
        name = el.get("name", "")
        flags = self.conv(el, "flags", lambda t: units.to_flags(t, AREA_FLAG_NAMES), 0)
        if name:
            flags |= AreaFlag.TAGGED
        return Area(
            start=self.conv(el, "start", units.to_hex, 0),
            size=self.conv(el, "size", units.to_size, 0),
            flags=int(flags),
            name=name,
            mapped_at=self.conv(el, "mappedAt", units.to_hex, None),
            line=el.sourceline or 0,
        )

    def hm_events(self, el: etree._Element | None) -> tuple[HmEventConfig, ...]:
        out: list[HmEventConfig] = []
        for ev in self.kids(el, "Event"):
            name, action = ev.get("name", ""), ev.get("action", "")
            log = self.conv(ev, "log", units.to_yntf, False)
            if name == WATCHDOG_EVENT_NAME:
                self.error(ev.sourceline, f'health monitor event "{WATCHDOG_EVENT_NAME}" is not supported')
                continue
            if name not in EVENT_BY_NAME:
                self.error(ev.sourceline, "Expected a valid Health Monitor event")
                continue
            if action not in ACTION_BY_NAME:
                self.error(ev.sourceline, "Expected a valid Health Monitor action")
                continue
            out.append(HmEventConfig(EVENT_BY_NAME[name], ACTION_BY_NAME[action], log, ev.sourceline or 0))
        return tuple(out)

    def path_attr(self, el: etree._Element, attr: str, what: str, must_exist: bool) -> tuple[str, ...]:
        out = []
        for item in self.pd.get(el, {}).get(attr, "").split():
            p = (self.base_dir / item).resolve()
            if must_exist and not p.is_file():
                self.error(el.sourceline, f'{what} "{item}" not found (looked for {p})')
            out.append(str(p))
        return tuple(out)

    def endpoint(self, el: etree._Element) -> Endpoint:
        return Endpoint(
            partition_id=self.conv(el, "partitionId", units.to_id, 0),
            port_name=el.get("portName", ""),
            partition_name=el.get("partitionName"),
            line=el.sourceline or 0,
        )

    def build(self, root: etree._Element) -> System:
        hw = self.kid(root, "HwDescription")
        regions = tuple(
            Region(
                type=r.get("type", "ram"),
                start=self.conv(r, "start", units.to_hex, 0),
                size=self.conv(r, "size", units.to_size, 0),
                line=r.sourceline or 0,
            )
            for r in self.kids(self.kid(hw, "MemoryLayout"), "Region")
        )
        processors = tuple(self.processor(p) for p in self.kids(self.kid(hw, "ProcessorTable"), "Processor"))
        devices = tuple(self.device(d) for d in self.children(self.kid(hw, "Devices")))

        hyp_el = self.kid(root, "PRTOSHypervisor")
        pma = self.kid(hyp_el, "PhysicalMemoryArea")
        htrace = self.kid(hyp_el, "Trace")
        hypervisor = Hypervisor(
            area_size=self.conv(pma, "size", units.to_size, 0) if pma is not None else 0,
            area_flags=int(self.conv(pma, "flags", lambda t: units.to_flags(t, AREA_FLAG_NAMES), 0))
            if pma is not None
            else 0,
            console=hyp_el.get("console") if hyp_el is not None else None,
            hm_device=hyp_el.get("healthMonitorDevice") if hyp_el is not None else None,
            hm_events=self.hm_events(self.kid(hyp_el, "HealthMonitor")),
            trace=HypervisorTrace(
                device=htrace.get("device", ""),
                bitmask=int(self.conv(htrace, "bitmask", lambda t: units.to_flags(t, HYP_TRACE_NAMES), 0)),
                line=htrace.sourceline or 0,
            )
            if htrace is not None
            else None,
            line=(hyp_el.sourceline or 0) if hyp_el is not None else 0,
            area_line=(pma.sourceline or 0) if pma is not None else 0,
        )

        rsw = self.kid(self.kid(root, "ResidentSw"), "PhysicalMemoryAreas")
        rsw_areas = tuple(self.area(a) for a in self.kids(rsw, "Area"))

        ptable = self.kid(root, "PartitionTable")
        partitions: list[Partition] = []
        next_port = 0
        for p in self.kids(ptable, "Partition"):
            part = self.partition(p, next_port)
            next_port += len(part.ports)
            partitions.append(part)

        channels: list[Channel] = []
        ipvis: list[Ipvi] = []
        for ch in self.children(self.kid(root, "Channels")):
            kind = _local(ch.tag)
            if kind == "SamplingChannel":
                src = self.kid(ch, "Source")
                channels.append(
                    SamplingChannel(
                        max_message_length=self.conv(ch, "maxMessageLength", units.to_size, 0),
                        source=self.endpoint(src) if src is not None else Endpoint(0, ""),
                        destinations=tuple(self.endpoint(d) for d in self.kids(ch, "Destination")),
                        valid_period=self.conv(ch, "validPeriod", units.to_time, 0),
                        line=ch.sourceline or 0,
                    )
                )
            elif kind == "QueuingChannel":
                src, dst = self.kid(ch, "Source"), self.kid(ch, "Destination")
                channels.append(
                    QueuingChannel(
                        max_message_length=self.conv(ch, "maxMessageLength", units.to_size, 0),
                        max_no_messages=self.conv(ch, "maxNoMessages", units.to_id, 1),
                        source=self.endpoint(src) if src is not None else Endpoint(0, ""),
                        destination=self.endpoint(dst) if dst is not None else Endpoint(0, ""),
                        line=ch.sourceline or 0,
                    )
                )
            elif kind == "Ipvi":
                ipvis.append(
                    Ipvi(
                        id=self.conv(ch, "id", units.to_id, 0),
                        source_id=self.conv(ch, "sourceId", units.to_id, 0),
                        destination_ids=tuple(
                            self.conv(ch, "destinationId", lambda t: [units.to_id(x) for x in t.split()], [])
                        ),
                        line=ch.sourceline or 0,
                    )
                )

        return System(
            name=root.get("name", ""),
            version=self.conv(root, "version", units.to_version, 0),
            regions=regions,
            processors=processors,
            devices=devices,
            hypervisor=hypervisor,
            partitions=tuple(partitions),
            rsw_areas=rsw_areas,
            channels=tuple(channels),
            ipvis=tuple(ipvis),
            placement=self.placement(self.pd_elements.get("Placement")),
            file=self.file,
            line=root.sourceline or 0,
            partition_table_line=(ptable.sourceline or 0) if ptable is not None else 0,
        )

    def placement(self, el: etree._Element | None) -> Placement | None:
        if el is None:
            return None
        hosts = tuple(
            RemoteHost(
                name=h.get("name", ""),
                partitions=tuple(self.conv(h, "partitions", lambda t: [units.to_id(x) for x in t.split()], [])),
                grant_timeout_us=self.conv(h, "grantTimeout", units.to_time, None),
                key=h.get("key"),
                line=h.sourceline or 0,
            )
            for h in el.iterchildren("{" + PD_NS + "}Host")
        )
        return Placement(hosts, self.conv(el, "connectTimeout", units.to_time, None), el.sourceline or 0)

    def processor(self, el: etree._Element) -> Processor:
        plans = []
        for pl in self.kids(self.kid(el, "CyclicPlanTable"), "Plan"):
            slots = tuple(
                Slot(
                    id=self.conv(s, "id", units.to_id, 0),
                    start=self.conv(s, "start", units.to_time, 0),
                    duration=self.conv(s, "duration", units.to_time, 0),
                    partition_id=self.conv(s, "partitionId", units.to_id, 0),
                    vcpu_id=self.conv(s, "vCpuId", units.to_id, 0),
                    line=s.sourceline or 0,
                )
                for s in self.kids(pl, "Slot")
            )
            plans.append(
                Plan(
                    id=self.conv(pl, "id", units.to_id, 0),
                    name=pl.get("name", ""),
                    major_frame=self.conv(pl, "majorFrame", units.to_time, 0),
                    slots=slots,
                    line=pl.sourceline or 0,
                )
            )
        return Processor(
            id=self.conv(el, "id", units.to_id, 0),
            frequency_khz=self.conv(el, "frequency", units.to_freq, None),
            plans=tuple(plans),
            line=el.sourceline or 0,
        )

    def device(self, el: etree._Element) -> Device:
        kind = _local(el.tag)
        line = el.sourceline or 0
        console_files = self.path_attr(el, "consoleFile", "console file", must_exist=False)
        console_file = console_files[0] if console_files else None
        if kind == "MemoryBlock":
            return Device(
                kind,
                el.get("name", ""),
                start=self.conv(el, "start", units.to_hex, 0),
                size=self.conv(el, "size", units.to_size, 0),
                line=line,
            )
        if kind == "Uart":
            raw = el.get("id", "")
            # Only the plain decimal forms of 0 and 1: int() alone would also take "0_1" or
            # non-ASCII digits, and fail outright on thousands of digits.
            uart_id = int(raw) if re.fullmatch(r"\s*\+?0*[01]\s*", raw) else -1
            if uart_id not in (0, 1):
                self.error(line, f"invalid uart id {raw}")
            return Device(
                kind,
                el.get("name", ""),
                uart_id=uart_id,
                baud_rate=self.conv(el, "baudRate", units.to_id, 0),
                console_file=console_file,
                line=line,
            )
        if kind == "Vga":
            return Device(kind, el.get("name", ""), console_file=console_file, line=line)
        return Device(kind, el.get("name", "Null"), line=line)

    def partition(self, el: etree._Element, first_port: int) -> Partition:
        ports = tuple(
            Port(
                name=pt.get("name", ""),
                direction=PortDirection.SOURCE if pt.get("direction") == "source" else PortDirection.DESTINATION,
                type=PortType.SAMPLING if pt.get("type") == "sampling" else PortType.QUEUING,
                index=i,
                global_id=first_port + i,
                line=pt.sourceline or 0,
            )
            for i, pt in enumerate(self.kids(self.kid(el, "PortTable"), "Port"))
        )
        hw = self.kid(el, "HwResources")
        io = self.kid(hw, "IoPorts")
        irq = self.kid(hw, "Interrupts")
        trace = self.kid(el, "Trace")
        image = self.path_attr(el, "image", "image file", must_exist=True)
        sources = self.path_attr(el, "sources", "source file", must_exist=True)
        if image and sources:
            self.error(el.sourceline, "pd:image and pd:sources are mutually exclusive")
        return Partition(
            id=self.conv(el, "id", units.to_id, 0),
            name=el.get("name", ""),
            console=el.get("console"),
            flags=int(self.conv(el, "flags", lambda t: units.to_flags(t, PARTITION_FLAG_NAMES), 0)),
            no_vcpus=self.conv(el, "noVCpus", units.to_id, 1),
            areas=tuple(self.area(a) for a in self.kids(self.kid(el, "PhysicalMemoryAreas"), "Area")),
            ports=ports,
            hm_events=self.hm_events(self.kid(el, "HealthMonitor")),
            io_ranges=tuple(
                IoRange(
                    base=self.conv(r, "base", units.to_hex, 0),
                    no_ports=self.conv(r, "noPorts", units.to_id, 1),
                    line=r.sourceline or 0,
                )
                for r in self.kids(io, "Range")
            ),
            restricted_lines=tuple(r.sourceline or 0 for r in self.kids(io, "Restricted")),
            interrupt_lines=tuple(self.conv(irq, "lines", lambda t: [int(x) for x in t.split()], []))
            if irq is not None
            else (),
            interrupts_line=(irq.sourceline or 0) if irq is not None else 0,
            trace=PartitionTrace(
                device=trace.get("device", ""),
                bitmask=self.conv(trace, "bitmask", units.to_hex, 0),
                line=trace.sourceline or 0,
            )
            if trace is not None
            else None,
            image=image[0] if image else None,
            sources=sources,
            custom_files=self.path_attr(el, "customFiles", "custom file", must_exist=True),
            line=el.sourceline or 0,
        )


def load_system(path: str | Path, *, checks: bool = True) -> System:
    """Load and check a configuration file.

    Raises :class:`ConfigError` with every error found; warnings are on ``System.warnings``.
    With ``checks=False`` only the schema and the value conversions are applied (for tools
    that want to inspect a file that fails a semantic check).
    """
    from prtosd.config.checks import run_checks

    loader = _Loader(Path(path))
    root = loader.parse()
    loader.strip_foreign(root)
    loader.validate(root)
    if loader.errors:
        raise loader.fail()
    system = loader.build(root)
    if loader.errors:
        raise loader.fail()
    if checks:
        errors, warnings = run_checks(system)
        loader.errors.extend(errors)
        loader.warnings.extend(warnings)
        if loader.errors:
            raise loader.fail()
    return _with_warnings(system, loader.warnings)


def _with_warnings(system: System, warnings: list[Diagnostic]) -> System:
    import dataclasses

    return dataclasses.replace(system, warnings=tuple(sorted(warnings, key=lambda d: d.line)))
