"""A classical system's config (YAML), checked by a schema before any work (pydantic).

Keys: ``system: classical``; ``frontend: opensmile`` and its ``frontend_conf`` (those of the feature cache
it reads: stage 4 extracts them); ``class_list``; ``fusion`` (``mean`` | ``product``);
``prior_correction`` (bool); ``cv_folds`` (speaker folds of the grids, >= 2); ``seed``; ``members``, a list of
records ``{name, features, view, estimator, params, max_rows}`` (:class:`espnet_ser.classical.system.Member`).
A wrong key, type or value is one line naming the file, the key path and what is allowed
(:class:`espnet_ser.errors.InputError`, exit 2 from the command line).
"""

import re
from pathlib import Path
from typing import Any, Dict, List, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from espnet_ser.classical.estimators import ESTIMATORS
from espnet_ser.errors import InputError, read_yaml_mapping
from espnet_ser.fusion import RULES

#: a member's or class's name: letters, digits, ``_ . -``; it names prediction dirs and table rows
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MemberSpec(_Strict):
    name: str
    features: str
    view: Union[int, float] = Field(ge=0, allow_inf_nan=False)
    estimator: Literal[tuple(ESTIMATORS)]  # type: ignore[valid-type]
    params: Dict[str, Any] = {}
    max_rows: int = Field(0, ge=0)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError(f"{v!r}: letters, digits, '_', '.', '-' only, starting with a letter or digit")
        return v

    @field_validator("params")
    @classmethod
    def _params(cls, v: Dict[str, Any]) -> Dict[str, Any]:
        for k, value in v.items():
            if isinstance(value, list) and not value:
                raise ValueError(f"{k}: an empty grid")
        return v


class ClassicalConfig(_Strict):
    system: Literal["classical"]
    frontend: Literal["opensmile"]
    frontend_conf: Dict[str, Any]
    class_list: List[str] = Field(min_length=2)
    fusion: Literal[RULES] = "product"  # type: ignore[valid-type]
    prior_correction: bool = True
    cv_folds: int = Field(3, ge=2)
    seed: int = 0
    members: List[MemberSpec] = Field(min_length=1)

    @field_validator("class_list")
    @classmethod
    def _classes(cls, v: List[str]) -> List[str]:
        bad = [c for c in v if not NAME.match(c)]
        if bad:
            raise ValueError(f"class names {bad}: letters, digits, '_', '.', '-' only")
        if len(set(v)) < len(v):
            raise ValueError(f"{v} names a class twice")
        return v

    @model_validator(mode="after")
    def _unique_members(self) -> "ClassicalConfig":
        names = [m.name for m in self.members]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"members: {twice} named twice")
        return self


def describe(e: ValidationError) -> str:
    """A pydantic error as one line: ``key.path: message`` of its first error (and how many more)."""
    errs = e.errors()
    first = errs[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "literal_error":
        msg = f"got {first.get('input')!r}; {msg.lower()}"
    elif first["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
    return f"{where}: {msg}{more}"


def load_config(path: Union[str, Path]) -> ClassicalConfig:
    """The checked config of ``path``; :class:`InputError` in one line naming the file and key path."""
    raw = read_yaml_mapping(path, "classical config")
    try:
        conf = ClassicalConfig.model_validate(raw)
    except ValidationError as e:
        raise InputError(f"{path}: {describe(e)}") from None
    from espnet_ser.opensmile_views import layout_of

    try:
        layout = layout_of(conf.frontend_conf)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    for i, m in enumerate(conf.members):
        if (m.features, float(m.view)) not in layout:
            have = sorted({f"{s} at view {v:g}" for s, v in layout})
            raise InputError(f"{path}: members.{i}.features/view: {m.features} at view {m.view:g} is not computed by "
                             f"frontend_conf (it computes: {', '.join(have)})")
    return conf
