"""A minimal frozen-record decorator: `dataclasses` would import `inspect` and `ast` (milliseconds of cold
start on every Lambda@Edge container). Keyword or positional construction, defaults, `factory(...)` for
mutable defaults, `__post_init__`, equality, hashing and a repr that hides fields named like secrets.
mypy understands it through `dataclass_transform` (PEP 681)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:

    def dataclass_transform(**_: object) -> object:
        return lambda decorated: decorated


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def factory(*, default_factory: Callable[[], T]) -> T:
    """A default built per instance (like `dataclasses.field(default_factory=...)`)."""
    marker: Any = _Factory(default_factory)
    return marker  # type: ignore[no-any-return]


def _frozen(self: object, name: str, value: object) -> None:
    raise AttributeError(f"{type(self).__name__} is frozen; cannot set {name}")


@dataclass_transform(frozen_default=True, field_specifiers=(factory,))
def record(cls: type[T]) -> type[T]:
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect is the import we avoid
    names = tuple(name for name, hint in annotations.items() if not str(hint).startswith("ClassVar"))
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    post_init = getattr(cls, "__post_init__", None)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__} takes at most {len(names)} positional arguments")
        values = dict(zip(names, args, strict=False))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{cls.__name__} got an unexpected or repeated argument {name!r}")
            values[name] = value
        for name in names:
            if name not in values:
                if name not in defaults:
                    raise TypeError(f"{cls.__name__} is missing argument {name!r}")
                default = defaults[name]
                values[name] = default.make() if isinstance(default, _Factory) else default
            object.__setattr__(self, name, values[name])
        if post_init is not None:
            post_init(self)

    def __repr__(self: Any) -> str:
        shown = ", ".join(
            f"{name}={'***' if 'secret' in name else repr(getattr(self, name))}" for name in names
        )
        return f"{cls.__name__}({shown})"

    def __eq__(self: Any, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in names)

    def __hash__(self: Any) -> int:
        return hash(tuple(repr(getattr(self, name)) for name in names))

    for name, function in (
        ("__init__", __init__),
        ("__repr__", __repr__),
        ("__eq__", __eq__),
        ("__hash__", __hash__),
        ("__setattr__", _frozen),
    ):
        setattr(cls, name, function)
    cls.__record_fields__ = names  # type: ignore[attr-defined]
    return cls


def record_fields(cls: type) -> tuple[str, ...]:
    """Field names of a `@record` class, in declaration order."""
    names: tuple[str, ...] = getattr(cls, "__record_fields__", ())
    return names
