"""The questionnaire (survey.yaml): service elements with their weights, the respondent's
profile questions, validated with every problem named by file and field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from bot.core.runtime import Runtime
from bot.surveys import ikm

MAX_ELEMENTS = 16  # answer columns u1..u16: room for 14/2017's 9, 25/2004's 14 and additions
ELEMENT_CODE_RE = re.compile(r"^U([1-9]|1[0-6])$")
PROFILE_FIELDS = ("age_group", "sex", "education", "occupation")
OPTION_CODE_RE = re.compile(r"^[a-z0-9_]{1,12}$")


# --- configuration ---------------------------------------------------------------------------


class SurveyConfigError(Exception):
    """The survey file is invalid; ``problems`` lists each one as ``file: field: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Localized:
    id: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.id


@dataclass(frozen=True)
class Element:
    code: str  # U1..U16: also names the answer column, so reordering never moves answers
    name: Localized
    question: Localized
    answers: tuple[Localized, Localized, Localized, Localized]  # labels for 1, 2, 3, 4
    weight: Fraction

    @property
    def column(self) -> str:
        return self.code.lower()


@dataclass(frozen=True)
class ProfileOption:
    code: str
    label: Localized


@dataclass(frozen=True)
class ProfileQuestion:
    field: str  # one of PROFILE_FIELDS
    question: Localized
    options: tuple[ProfileOption, ...]

    def option(self, code: str) -> ProfileOption | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class SurveyConfig:
    rule: str
    elements: tuple[Element, ...]  # in the order they are asked
    profile: tuple[ProfileQuestion, ...] = ()
    units: dict[str, str] = field(default_factory=dict)  # service id -> reporting unit
    source: str = "survey.yaml"

    @property
    def weights(self) -> tuple[Fraction, ...]:
        return tuple(e.weight for e in self.elements)

    def element(self, code: str) -> Element | None:
        return next((e for e in self.elements if e.code == code), None)

    def position(self, code: str) -> int:
        """1-based place of an element in the questionnaire."""
        return [e.code for e in self.elements].index(code) + 1

    def profile_question(self, field_name: str) -> ProfileQuestion | None:
        return next((p for p in self.profile if p.field == field_name), None)

    def unit_of(self, service_id: str, category: str | None = None) -> str | None:
        """The reporting unit: configured per service, else the knowledge base's category."""
        return self.units.get(service_id, category)


def _localized(value: Any, where: str, problems: list[str]) -> Localized:
    if isinstance(value, dict):
        ident, english = value.get("id"), value.get("en")
        unknown = set(value) - {"id", "en"}
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (use id, en)")
        if all(isinstance(t, str) and t.strip() for t in (ident, english)):
            return Localized(ident.strip(), english.strip())
    problems.append(f"{where}: needs text in both languages, e.g. {{id: ..., en: ...}}")
    return Localized("?", "?")


def _weight(value: Any, where: str, problems: list[str]) -> Fraction | None:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            return Fraction(value.replace(" ", ""))
        if isinstance(value, int | float):
            return Fraction(str(value))
        raise ValueError
    except (ValueError, ZeroDivisionError):
        problems.append(f"{where}: must be a number or a fraction such as 1/9, not {value!r}")
        return None


def parse_survey_config(data: Any, source: str = "survey.yaml") -> SurveyConfig:
    """Validate the parsed YAML; every problem is reported at once, each with its place."""
    problems: list[str] = []

    def at(path: str) -> str:
        return f"{source}: {path}"

    if not isinstance(data, dict):
        raise SurveyConfigError([at("the file must be a mapping with rule, elements, profile")])
    unknown = set(data) - {"rule", "elements", "profile", "units"}
    if unknown:
        problems.append(at(f"unknown key(s) {', '.join(sorted(unknown))}"))
    rule_code = str(data.get("rule", ikm.DEFAULT_RULE))
    if rule_code not in ikm.RULES:
        problems.append(at(f"rule: {rule_code!r} is not one of {', '.join(ikm.RULES)}"))

    raw_elements = data.get("elements")
    elements: list[Element] = []
    if not isinstance(raw_elements, list) or not raw_elements:
        problems.append(at("elements: a list of at least one element is required"))
        raw_elements = []
    if len(raw_elements) > MAX_ELEMENTS:
        problems.append(at(f"elements: at most {MAX_ELEMENTS} elements"))
    weights_given = [isinstance(e, dict) and "weight" in e for e in raw_elements]
    if any(weights_given) and not all(weights_given):
        problems.append(at("elements: give a weight to every element or to none"))
    seen: set[str] = set()
    for number, raw in enumerate(raw_elements, start=1):
        where = f"elements[{number}]"
        if not isinstance(raw, dict):
            problems.append(at(f"{where}: must be a mapping with code, name, question, answers"))
            continue
        extra = set(raw) - {"code", "name", "question", "answers", "weight"}
        if extra:
            problems.append(at(f"{where}: unknown key(s) {', '.join(sorted(extra))}"))
        code = str(raw.get("code", ""))
        if not ELEMENT_CODE_RE.match(code):
            problems.append(at(f"{where}.code: {code!r} must be U1 to U{MAX_ELEMENTS}"))
        elif code in seen:
            problems.append(at(f"{where}.code: {code} appears twice"))
        seen.add(code)
        answers = raw.get("answers")
        labels: list[Localized] = []
        if not isinstance(answers, list) or len(answers) != ikm.SCALE_MAX:
            problems.append(
                at(f"{where}.answers: needs exactly {ikm.SCALE_MAX} labels, from 1 (worst) to 4")
            )
        else:
            labels = [
                _localized(a, at(f"{where}.answers[{i}]"), problems)
                for i, a in enumerate(answers, start=1)
            ]
        weight = Fraction(1, len(raw_elements))
        if "weight" in raw:
            weight = _weight(raw["weight"], at(f"{where}.weight"), problems) or weight
            if weight <= 0:
                problems.append(at(f"{where}.weight: must be more than 0"))
        elements.append(
            Element(
                code=code,
                name=_localized(raw.get("name"), at(f"{where}.name"), problems),
                question=_localized(raw.get("question"), at(f"{where}.question"), problems),
                answers=tuple(labels) if len(labels) == 4 else (Localized("?", "?"),) * 4,  # type: ignore[arg-type]
                weight=weight,
            )
        )
    if elements and all(weights_given):
        total = sum(e.weight for e in elements)
        if abs(total - 1) > Fraction(1, 10**6):
            problems.append(
                at(f"elements: the weights sum to {float(total):.6f}; they must sum to 1 "
                   "(write fractions such as 1/9 to be exact)")
            )
    profile: list[ProfileQuestion] = []
    raw_profile = data.get("profile", [])
    if not isinstance(raw_profile, list):
        problems.append(at("profile: must be a list"))
        raw_profile = []
    for number, raw in enumerate(raw_profile, start=1):
        where = f"profile[{number}]"
        if not isinstance(raw, dict):
            problems.append(at(f"{where}: must be a mapping with field, question, options"))
            continue
        name = raw.get("field")
        if name not in PROFILE_FIELDS:
            fields = ", ".join(PROFILE_FIELDS)
            problems.append(at(f"{where}.field: {name!r} must be one of {fields}"))
        options: list[ProfileOption] = []
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= 8:
            problems.append(at(f"{where}.options: needs 2 to 8 options"))
            raw_options = []
        for i, option in enumerate(raw_options, start=1):
            code = str(option.get("code", "")) if isinstance(option, dict) else ""
            if not OPTION_CODE_RE.match(code):
                problems.append(
                    at(f"{where}.options[{i}].code: {code!r} must be 1-12 of a-z, 0-9, _")
                )
            label = option.get("label") if isinstance(option, dict) else None
            options.append(
                ProfileOption(code, _localized(label, at(f"{where}.options[{i}].label"), problems))
            )
        profile.append(
            ProfileQuestion(
                field=str(name),
                question=_localized(raw.get("question"), at(f"{where}.question"), problems),
                options=tuple(options),
            )
        )
    if len({p.field for p in profile}) != len(profile):
        problems.append(at("profile: each field may be asked only once"))

    units = data.get("units", {}) or {}
    if not isinstance(units, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and 0 < len(v) <= 80 for k, v in units.items()
    ):
        problems.append(at("units: must map service ids to unit names (up to 80 characters)"))
        units = {}
    if problems:
        raise SurveyConfigError(problems)
    return SurveyConfig(
        rule=rule_code,
        elements=tuple(elements),
        profile=tuple(profile),
        units=dict(units),
        source=source,
    )


def load_survey_config(path: Path | str) -> SurveyConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SurveyConfigError([f"{path}: file not found"]) from None
    except yaml.YAMLError as exc:
        raise SurveyConfigError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_survey_config(data, source=str(path))


def survey_config(rt: Runtime) -> SurveyConfig:
    """The runtime's survey configuration, loaded (and validated) once per process."""
    if rt.survey_config is None:
        path = rt.settings.survey_file or (Path(rt.settings.knowledge_dir) / "survey.yaml")
        rt.survey_config = load_survey_config(path)
    return rt.survey_config


def service_name(rt: Runtime, service_id: str, locale: str) -> str:
    """The service's name from the knowledge base, or its id when it left the knowledge base."""
    kb = rt.knowledge
    service = kb.services.get(service_id) if kb is not None else None
    return service.name(locale) if service is not None else service_id


def service_unit(rt: Runtime, service_id: str) -> str | None:
    kb = rt.knowledge
    service = kb.services.get(service_id) if kb is not None else None
    return survey_config(rt).unit_of(service_id, getattr(service, "category", None))
